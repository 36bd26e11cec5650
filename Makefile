# Coalition — the single source of truth for setup, tests and demos.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
# PyTorch (the torch extra: split learning's torch backend, TorchModel) is installed first, by
# exact version: the build machines keep the CPU wheel of this version on disk, where pip finds
# it; an open range would fetch a CUDA build of several GB. The extra's range (torch>=2.2) is
# then already met. About 17 s and 750 MB of the venv on the 2-core build machine.
TORCH_VERSION ?= 2.13.0

.PHONY: install test lint typecheck layers pytest pytest-postgres dist demo bench clean console console-check ui-test chromium

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==$(TORCH_VERSION)
	$(PY) -m pip install -q -e ".[dev,torch]"
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

# The node's database tests and the node suites that open nodes through tests/node/nodekit.py
# again on PostgreSQL: tests/pg_cluster.py starts a throwaway server (initdb + pg_ctl on a free
# loopback port, as the unprivileged postgres user when run as root) and always stops it.
# Node processes started by the cluster tests keep their SQLite files (demo.cluster homes).
PG_TESTS := tests/node tests/security/test_audit_chain.py tests/security/test_audit_duties.py \
            tests/security/test_authmodels_login.py tests/security/test_authmodels_models.py \
            tests/security/test_policy_rules.py tests/security/test_ledger_witness_nodes.py
PG_SKIP  := --ignore=tests/node/test_jobs_cluster.py --ignore=tests/node/test_node_cluster.py \
            --ignore=tests/node/test_serving_cluster.py --ignore=tests/node/test_pir_services_cluster.py
pytest-postgres: install
	$(PY) tests/pg_cluster.py -- $(VENV)/bin/pytest -q -n auto --dist loadfile $(PG_TESTS) $(PG_SKIP)

test: lint typecheck layers console-check ui-test chromium pytest pytest-postgres

# sdist and wheel in dist/ (the wheel is built from the sdist; no build dependencies fetched).
dist: install
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .

# The web console (ui/ -> src/coalition/node/console/static/, committed): Node.js only to rebuild.
UI_STAMP := ui/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium

$(UI_STAMP): ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $(UI_STAMP)

console: $(UI_STAMP)
	cd ui && npm run build

# CI: rebuilding from the locked packages must give exactly the committed bundle.
console-check: console
	git diff --exit-code --stat -- src/coalition/node/console/static
	test -z "$$(git status --porcelain -- src/coalition/node/console/static)"

ui-test: $(UI_STAMP)
	cd ui && npx vitest run

# The console's end-to-end tests (tests/console/) drive Debian's Chromium through playwright.
chromium:
	test -x $(CHROMIUM) || (apt-get update && apt-get install -y chromium)

demo: install
	$(VENV)/bin/coalition demo

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[dev,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@for b in benchmarks/*.py; do echo "# $$b"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist
