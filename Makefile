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
PORT ?= 8000
STAMP := $(VENV)/.installed
# the web app's front-end libraries: from the npm registry at install time, never a CDN
ASSETS := src/svidok/web/static/vendor/.complete

.PHONY: run test test-pg lint typecheck unit bench clean messages

$(ASSETS): frontend/package.json frontend/package-lock.json frontend/vendor.py
	@command -v npm >/dev/null || { echo "Svidok's web app needs npm (Node.js) to install its front-end libraries"; exit 2; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) frontend/vendor.py

$(STAMP): pyproject.toml $(ASSETS)
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Svidok needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# run: samples, the data home (if absent), the demo case (idempotent; on the first run it
# prints one-time passwords for admin and reviewer), a quick check, then the web app.
run: $(STAMP)
	$(PY) examples/make_samples.py $(SAMPLES)
	@if [ ! -e $(HOME_DIR)/svidok.toml ]; then $(SVIDOK) --home $(HOME_DIR) init; fi
	$(SVIDOK) --home $(HOME_DIR) demo --samples $(SAMPLES) || test $$? -eq 1
	$(SVIDOK) --home $(HOME_DIR) verify --quick
	exec $(SVIDOK) --home $(HOME_DIR) serve --host 127.0.0.1 --port $(PORT) --insecure-cookies

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

# the web app's messages: extract them and merge into the Ukrainian catalog (then translate
# the new entries in src/svidok/web/locale/uk/LC_MESSAGES/messages.po)
messages: $(STAMP)
	mkdir -p build
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o build/messages.pot .
	$(VENV)/bin/pybabel update -i build/messages.pot -d src/svidok/web/locale -l uk --no-fuzzy-matching --ignore-obsolete
