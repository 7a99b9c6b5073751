# Svidok: `make run` sets everything up and runs the main job; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SVIDOK := $(VENV)/bin/svidok
HOME_DIR ?= svidok-data
SAMPLES ?= examples/samples
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Svidok needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(PY) examples/make_samples.py $(SAMPLES)
	@if [ ! -e $(HOME_DIR)/svidok.toml ]; then $(SVIDOK) --home $(HOME_DIR) init; fi
	$(SVIDOK) --home $(HOME_DIR) ingest $(SAMPLES) --case demo --collector "Sample Collector" \
		--source "generated sample evidence (examples/make_samples.py)" || test $$? -eq 1
	$(SVIDOK) --home $(HOME_DIR) verify

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(SAMPLES) .mypy_cache .ruff_cache .pytest_cache
