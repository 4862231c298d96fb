# Entry points: `make run` (portal with demo data on SQLite), `make test` (the whole suite) and
# `make check` (the fast lane: lint, types, engine unit tests).
# Setup is idempotent: system packages are skipped where present, the venv follows uv.lock.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?= -n 2

.PHONY: setup system venv node run test check lint typecheck docs pytest screenshots bench clean

setup: system venv node

system:
	bash scripts/setup-system.sh

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

# Bytecode is compiled here because this machine sets PYTHONDONTWRITEBYTECODE=1: without it every
# `portal` command would recompile its imports from source (seconds of CPU per command).
venv: $(UV)
	$(UV) sync --frozen --all-groups --quiet --compile-bytecode
	$(BIN)/python -m compileall -q portal

node:
	@if [ -f package-lock.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund --silent; fi; \
	fi

run: setup
	$(BIN)/portal db upgrade
	$(BIN)/portal serve --demo

lint:
	$(BIN)/ruff check portal tests bench alembic
	$(BIN)/ruff format --check portal tests bench

typecheck:
	$(BIN)/mypy

# The library guide and the API reference generated from the docstrings, into site/. mkdocs.yml is
# strict: a warning (broken link, unresolved reference, unreadable docstring) fails the build.
# Not --quiet: it hides warnings from the counter that strict mode reads, and the build passes.
docs:
	$(BIN)/mkdocs build

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

test: setup lint typecheck docs pytest

# The browser tests with every screenshot, the every-page sweep's included (JPEGs per role, language,
# page and width), into artifacts/screenshots/ for people to look at; `make test` skips the sweep's.
screenshots:
	SWEEP_SCREENSHOTS=1 $(BIN)/pytest $(PYTEST_ARGS) -m browser

# The fast lane (under a minute): lint, types and the engines' unit tests, without `slow` ones.
CHECK_TESTS := tests/rules tests/forms tests/workflows tests/test_layering.py tests/test_clock.py tests/pack/test_no_city_in_portal.py tests/pack/test_one_yaml_loader.py
check: lint typecheck
	$(BIN)/pytest -q -n 2 -m "not slow and not postgres and not browser" $(CHECK_TESTS)

# One table: each figure with its anchor measured in the same run and the goal (issue 14); written
# into docs/performance.md. BENCH_ARGS, e.g. "--rows 100000 --only json,cli", narrows a run.
BENCH_ARGS ?=
bench: setup
	bash scripts/bench-setup.sh
	$(BIN)/python bench/perf.py --write docs/performance.md $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var artifacts site .pytest_cache .mypy_cache .ruff_cache
