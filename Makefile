# The one place that knows how to install, run, lint and test alignbot.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/alignbot start

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Two workers on SQLite (each test has its own database file); one process on PostgreSQL,
# where every test wipes the one shared database.
PYTEST_WORKERS ?= $(if $(ALIGNBOT_TEST_DATABASE_URL),0,2)

pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/click_to_update.py
	$(BIN)/python bench/ack_concurrency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
