# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= $(SANXIANG_TEST_DATABASE_URL)

.PHONY: run test install install-dev test-sqlite test-postgres bench studio studio-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pybabel compile --statistics -d webapp/translations

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pybabel compile --statistics -d webapp/translations

run: install
	$(BIN)/sanxiang init --demo
	$(BIN)/sanxiang serve --host 127.0.0.1 --port 5000

test: install-dev
	$(BIN)/lint-imports
	$(MAKE) test-sqlite
	@if [ -n "$(PG_TEST_URL)" ]; then $(MAKE) test-postgres; else echo "SANXIANG_TEST_DATABASE_URL unset: PostgreSQL run skipped"; fi

test-sqlite:
	SANXIANG_TEST_DATABASE_URL= $(BIN)/pytest -n auto -q

test-postgres:
	SANXIANG_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n auto -q tests/workflows tests/models

bench: install-dev
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.loop
	$(BIN)/python -m bench.reads
	$(BIN)/python -m bench.monitor
	$(BIN)/python -m bench.studio
	$(BIN)/python -m bench.http_load
	$(BIN)/python -m bench.portal
	@if [ -n "$(PG_TEST_URL)" ]; then $(BIN)/python -m bench.timers --url $(PG_TEST_URL); fi

# The studio's modeler bundle (bpmn-js, properties panel, dmn-js): sources and lockfile in
# webapp/static/studio-src, output committed under webapp/static/vendor/studio. Node.js is needed
# only to rebuild it, never to run the app.
studio:
	cd webapp/static/studio-src && npm ci --no-audit --no-fund && node build.mjs

studio-check:
	sh webapp/static/studio-src/check.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-output
