# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# NocoBase's own code and the senders' JavaScript libraries, which tests compare against
# (tests/js, Node 20 and npm): installed for `make test` only, `make run` needs no Node.
JS_STAMP := tests/js/node_modules/.installed

.PHONY: install run test lint migration schema console console-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

# `make run PORT=8001`: another port (trigger URLs follow, unless GATEWAY_PUBLIC_URL is set).
# The port is checked first; the examples of config/workflows are applied only when missing.
PORT ?= 8000

run: install
	GATEWAY_DEV=$${GATEWAY_DEV-1} GATEWAY_PUBLIC_URL=$${GATEWAY_PUBLIC_URL-http://127.0.0.1:$(PORT)} \
		$(BIN)/gateway serve --port $(PORT) --migrate --examples config/workflows

lint: install
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache  # the layers of docs/architecture.md
	$(BIN)/mypy bench/run.py bench/bare.py bench/many.py
	$(BIN)/mypy bench/cpu.py  # imports bench.run: checked apart from run.py
	$(BIN)/mypy bench/shortcuts.py  # imports bench.run and bench.cpu, as cpu.py does
	$(BIN)/mypy bench/writer.py
	$(BIN)/mypy bench/retries.py
	$(BIN)/mypy bench/history.py  # also checked through run.py, which imports it
	$(BIN)/mypy bench/subscribers.py bench/flaky.py  # run as processes of their own by run.py

# The whole suite twice: with the shortcuts through libraries' internals, then on the plain
# public paths beside them (docs/architecture.md, Shortcuts).
test: install console-deps $(JS_STAMP) lint
	$(BIN)/gateway test config/workflows  # the examples' own tests (docs/testing.md)
	$(BIN)/pytest
	GATEWAY_SHORTCUTS=false $(BIN)/pytest

# The checked-in GraphQL SDL and workflow JSON Schema, regenerated from the code.
schema: install
	$(BIN)/python -m gateway.api.schema schema/gateway.graphql
	$(BIN)/python -m gateway.workflows.json_schema schema/workflow.schema.json

# The web console's build (gateway/console/static, committed) from console/ and its lock
# file; needs Node 20+. `make run` serves the committed build and needs no Node.
CONSOLE_DEPS := console/node_modules/.package-lock.json

console:
	cd console && npm ci --no-audit --no-fund && npm run build

$(CONSOLE_DEPS): console/package-lock.json
	cd console && npm ci --no-audit --no-fund

# What the console's tests need (the build check, axe-core in the browser tests), when npm is here.
console-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(CONSOLE_DEPS); \
	else echo "npm not found: the console's build check and browser tests skip"; fi

# The benchmark of docs/performance.md (needs wrk: apt-get install wrk).
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A new migration from model changes: make migration NAME=add_something
migration: install
	$(BIN)/tortoise -c gateway.store.tortoise_config.TORTOISE_ORM makemigrations --name $(NAME)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache console/node_modules build/screenshots \
		tests/js/node_modules
