# Two commands on a fresh machine: `make run` (the bot on embedded defaults) and `make test` (every check).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU-only torch first, so sentence-transformers never pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
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

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
