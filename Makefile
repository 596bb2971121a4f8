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

# The client generators that tests/api/test_generated_clients.py runs, each apart from the
# project: openapi-python-client brings pydantic, with which litestar would document the
# service otherwise than it runs; openapi-typescript comes from the npm registry (skipped,
# and its test with it, where npm is missing).
TOOLS := .tools
TOOLS_STAMP := $(TOOLS)/.installed-stamp
$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)/python
	$(TOOLS)/python/bin/pip install --quiet 'openapi-python-client==0.29.1'
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(TOOLS) openapi-typescript@7.13.0 typescript@5.9.3; fi
	touch $(TOOLS_STAMP)

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

pytest: $(STAMP) $(TOOLS_STAMP)
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
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
