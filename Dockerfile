# Debrief: multi-stage, CPU-only, non-root. The MiniLM model ships inside a Python package, so the image needs
# no download at run time. Build: docker build -t debrief .   Run: see docker-compose.yml.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/debrief
WORKDIR /src
# CPU wheel of torch first: the default index would bring a multi-GB CUDA build.
RUN /opt/debrief/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY agent ./agent
COPY debrief ./debrief
RUN /opt/debrief/bin/pip install -c constraints.txt .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 debrief
COPY --from=build /opt/debrief /opt/debrief
WORKDIR /app
COPY --chown=debrief:debrief config.py ./
COPY --chown=debrief:debrief plugins ./plugins
COPY --chown=debrief:debrief knowledge ./knowledge
ENV PATH=/opt/debrief/bin:$PATH \
    DEBRIEF_DATA_DIR=/data \
    DEBRIEF_KNOWLEDGE_DIR=/app/knowledge \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1
RUN mkdir /data && chown debrief:debrief /data
VOLUME ["/data"]
USER debrief
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s CMD ["debrief", "health"]
CMD ["debrief", "run"]
