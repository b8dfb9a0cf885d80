# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint migration schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: install
	mkdir -p data
	$(BIN)/gateway migrate
	GATEWAY_DEV=$${GATEWAY_DEV-1} GATEWAY_WORKFLOWS_DIR=$${GATEWAY_WORKFLOWS_DIR-config/workflows} \
		$(BIN)/gateway serve

lint: install
	$(BIN)/ruff check gateway tests bench
	$(BIN)/ruff format --check gateway tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache  # the layers of docs/architecture.md
	$(BIN)/mypy bench/run.py bench/bare.py bench/many.py
	$(BIN)/mypy bench/cpu.py  # imports bench.run: checked apart from run.py
	$(BIN)/mypy bench/shortcuts.py  # imports bench.run and bench.cpu, as cpu.py does

test: install lint
	$(BIN)/pytest

# The checked-in GraphQL SDL and workflow JSON Schema, regenerated from the code.
schema: install
	$(BIN)/python -m gateway.api.schema schema/gateway.graphql
	$(BIN)/python -m gateway.workflows.json_schema schema/workflow.schema.json

# The benchmark of docs/performance.md (needs wrk: apt-get install wrk).
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A new migration from model changes: make migration NAME=add_something
migration: install
	$(BIN)/tortoise -c gateway.store.tortoise_config.TORTOISE_ORM makemigrations --name $(NAME)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
