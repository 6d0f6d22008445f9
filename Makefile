# deltabot: every target works on a fresh machine with only Python 3.11, pip, make and gcc.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test lint layers typecheck unit soak demo bench clean

install: $(STAMP)

# Exact versions come from requirements.lock (ccxt changes parsers between releases).
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock pip setuptools wheel
	$(PY) -m pip install -q --disable-pip-version-check --no-build-isolation -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The import contracts in pyproject.toml ([tool.importlinter]): the layers of docs/architecture.md.
layers: $(STAMP)
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest

test: lint layers typecheck unit

# 200 random kill -9 points with restarts (tests/e2e/test_kill_points.py), about 12 minutes.
# SOAK_ARGS="--soak-iterations 20 --soak-seed 7" changes the count and the seed.
soak: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -s --soak $(SOAK_ARGS) tests/e2e/test_kill_points.py -k soak

demo: $(STAMP)
	$(VENV)/bin/deltabot demo --config config.example.toml

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache .hypothesis
