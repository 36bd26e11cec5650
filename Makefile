# Coalition — the single source of truth for setup, tests and demos.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install test lint typecheck layers pytest demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: install
	$(VENV)/bin/mypy src

layers: install
	$(VENV)/bin/lint-imports

# Two workers (one per core here); tests of one file share a worker and its fixtures.
pytest: install
	$(VENV)/bin/pytest -q -n auto --dist loadfile

test: lint typecheck layers pytest

demo: install
	$(VENV)/bin/coalition demo

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[dev,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@for b in benchmarks/*.py; do echo "# $$b"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
