# Karpov developer commands. Only Python 3.11+ and make are needed: the first run creates
# .venv and installs the project with its development tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check bench install schema clean demo fuzz lock

# worker (issue 17): reproducible installs from the hash-pinned lock (`make lock` refreshes it)
$(STAMP): pyproject.toml requirements-dev.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Re-resolve both lock files after a change to pyproject.toml: uv (installed into .venv on
# first use) resolves for every platform and Python 3.11+ (--universal), with hashes.
lock: $(STAMP)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile --quiet pyproject.toml --universal --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --generate-hashes --python-version 3.11 -o requirements-dev.lock

install: $(STAMP)

run: $(STAMP)
	$(BIN)/karpov serve

demo: $(STAMP)
	$(BIN)/karpov catalog demo

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest tests/api/test_schema_snapshot.py tests/unit/test_domain_structure.py

schema: $(STAMP)
	$(BIN)/karpov export-schema --output schema/schema.graphql

# perf (issue 18): one run measures every case (a)-(f), each as a ratio to a bare route.
bench: $(STAMP)
	$(BIN)/python -m bench

# Schemathesis over /v1 (unauthenticated, session, API key, admin token) and /graphql
# against a served instance: fails on any 5xx or a response slower than 5 s.
fuzz: $(STAMP)
	$(BIN)/python -m bench.fuzz

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
