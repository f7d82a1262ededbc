# Two commands matter: `make run` and `make test`. Both set everything up from python3 alone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.9
CHECKOV_VERSION := 3.2.497
CHECKOV := .tools/checkov/bin/checkov
# Use uv from PATH when there is one; otherwise bootstrap a pinned uv from the package index.
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
# Compile bytecode at install: this machine sets PYTHONDONTWRITEBYTECODE, so without it every
# process (each CLI run, each test subprocess) compiles Dagster and GE again (~10 s).
export UV_COMPILE_BYTECODE := 1
# The browser tests drive Debian's Chromium: Playwright's own download cannot work offline.
CHROMIUM := /usr/lib/chromium/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help install run dev serve browser screenshots test test-fast lint fmt docs bench clean

help:
	@echo "make run    set up, run one tick of the stub pipeline locally, print the latest prices"
	@echo "make test   set up, lint, type-check, build the docs and run the tests"
	@echo "make test-fast  the domain and graph tests only (no servers, subprocesses or browser)"
	@echo "make serve  the dashboard on http://127.0.0.1:8000"
	@echo "make dev    dagster dev -w workspace.yaml on http://127.0.0.1:3000"
	@echo "make browser  install Debian's chromium for the browser tests (apt, when missing)"
	@echo "make docs   build the docs (mkdocs, strict: a broken link fails) into site/"
	@echo "make bench  benchmarks (bench/), figures printed"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# checkov lives in its own environment: its pins conflict with the project's.
$(CHECKOV):
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

browser: $(CHROMIUM)

# The README's screenshots, written by the browser tests' own page-driving code.
screenshots: install browser
	$(BIN)/python -m marketdata_tests.screenshots
	$(BIN)/python -m marketdata_tests.test_dagster_ui

run: install
	$(BIN)/marketdata tick
	$(BIN)/marketdata latest

serve: install
	$(BIN)/marketdata serve

# The CLI's instance too (settings.dagster_home), so its runs show here: DAGSTER_HOME when set,
# else .dagster_home beside the data folder (MARKETDATA_DATA_DIR, default data/: the root's).
DEV_HOME = $(or $(DAGSTER_HOME),$(dir $(abspath $(or $(MARKETDATA_DATA_DIR),data))).dagster_home)
dev: install
	mkdir -p $(DEV_HOME)
	test -e $(DEV_HOME)/dagster.yaml || cp marketdata_assets/dagster.yaml $(DEV_HOME)/
	DAGSTER_HOME=$(DEV_HOME) $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: install
	$(BIN)/ruff check marketdata_assets marketdata_tests bench
	$(BIN)/ruff format --check marketdata_assets marketdata_tests bench
	$(BIN)/mypy marketdata_assets
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff format marketdata_assets marketdata_tests bench
	$(BIN)/ruff check --fix marketdata_assets marketdata_tests bench

# The docs site (docs/, mkdocs.yml), built strictly so a broken link or anchor fails; offline.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test: lint docs $(CHECKOV) browser
	CHECKOV=$(CURDIR)/$(CHECKOV) $(BIN)/pytest --durations=15

# The inner loop: the domain and graph tiers (see the markers in pyproject.toml), one worker per
# core (pytest-xdist). `make test` stays serial: its servers, Terraform and browser are what CI
# must not race.
test-fast: install
	$(BIN)/pytest -m "domain or graph" -n auto

bench: install
	$(BIN)/python bench/gate.py
	$(BIN)/python bench/tick.py
	$(BIN)/python bench/history.py
	$(BIN)/python bench/locks.py
	$(BIN)/python bench/forecast.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/cost.py
	$(BIN)/python bench/fetch.py
	$(BIN)/python bench/latest_writes.py
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .import_linter_cache data .dagster_home site
