# xinqu: `make run` installs, builds the data and serves the map; `make test` installs and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
XINQU := $(VENV)/bin/xinqu
STAMP := $(VENV)/.installed
# The store lives in the instance folder with the documents users add (XINQU_HOME).
XINQU_HOME ?= instance
STORE := $(XINQU_HOME)/xinqu.gpkg
STORE_INPUTS := $(wildcard data/sources/* data/*.yaml data/places/*.yaml data/linking/*.yaml geo/*.py layers/*.py layers/*/*.py $(XINQU_HOME)/documents.yaml)

.PHONY: setup system-deps build run test lint bench bench-store constraints clean

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): setup.py requirements.txt requirements-test.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

$(STORE): $(STAMP) $(STORE_INPUTS)
	XINQU_HOME=$(XINQU_HOME) $(XINQU) build

build: setup $(STORE)

run: build
	XINQU_HOME=$(XINQU_HOME) $(XINQU) serve --host 127.0.0.1 --port 8000

# The tests build their own store in tests/.home (never the instance folder's).
test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

bench: build
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

# Both stores (GeoPackage, PostGIS) at 1× and 100×: load, start-up, RSS, latency (~10 min).
bench-store: build
	$(PY) benchmarks/store_scale.py

# Re-pin after changing requirements*.txt (in a fresh venv, so nothing stale is pinned).
constraints:
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin
	.venv-pin/bin/pip install --quiet -r requirements.txt -r requirements-test.txt
	( echo "# Exact pins for a reproducible install: pip install -c constraints.txt ..."; \
	  echo "# Regenerate with: make constraints"; .venv-pin/bin/pip freeze ) > constraints.txt; rm -rf .venv-pin

# Removes what the build made; the instance folder's added documents stay.
clean:
	rm -rf data/build tests/.home $(STORE)

# The project's local PostgreSQL + PostGIS cluster (.pgdata/, 127.0.0.1:55432, xinqu/xinqu).
.PHONY: db db-stop
db: system-deps
	@bash scripts/db.sh start

db-stop:
	@bash scripts/db.sh stop
