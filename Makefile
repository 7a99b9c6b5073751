# Svidok: `make run` sets everything up and runs the main job; `make test` runs every check.
# `make test-pg SVIDOK_TEST_PG_URL=postgresql+psycopg://USER@HOST:PORT/postgres` runs the unit
# tests again with every catalog on that PostgreSQL server (a role that may create databases,
# and schemas in the URL's database;
# each data home gets a database svidok_t_<random>, dropped afterwards). .ci/run does both.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SVIDOK := $(VENV)/bin/svidok
HOME_DIR ?= svidok-data
SAMPLES ?= examples/samples
STAMP := $(VENV)/.installed

.PHONY: run test test-pg lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Svidok needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(PY) examples/make_samples.py $(SAMPLES)
	@if [ ! -e $(HOME_DIR)/svidok.toml ]; then $(SVIDOK) --home $(HOME_DIR) init; fi
	@$(SVIDOK) --home $(HOME_DIR) case list | grep -q '^demo ' || \
		$(SVIDOK) --home $(HOME_DIR) case create demo --title "Demo case (generated samples)"
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

export SVIDOK_TEST_PG_URL  # for pytest's eyes only: recipes never print it (a password)
test-pg: $(STAMP)
	@test -n "$$SVIDOK_TEST_PG_URL" || { echo "make test-pg needs SVIDOK_TEST_PG_URL=postgresql+psycopg://USER@HOST:PORT/postgres"; exit 2; }
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(SAMPLES) .mypy_cache .ruff_cache .pytest_cache
