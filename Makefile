# Two commands for a newcomer: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest bench clean

# Create the virtualenv and install the project with its dev tools (again when pyproject changes).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Migrate the database, load the seed article's reports if absent, print a local editor
# key, and serve on :8000.
run: $(STAMP)
	$(BIN)/timeline migrate
	$(BIN)/timeline demo
	$(BIN)/timeline keys local
	$(BIN)/timeline serve

# Lint, type-check and run the whole suite against a real PostgreSQL.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

# Benchmarks (not part of `make test`): each prints its figures and target ratios.
bench: $(STAMP)
	$(BIN)/python bench/append.py
	$(BIN)/python bench/lag.py
	$(BIN)/python bench/rebuild.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
