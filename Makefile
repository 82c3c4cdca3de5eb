# Each target installs what it needs from nothing: a fresh clone runs `make demo` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: install demo test lint format bench browser clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests; skipped when already there.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver poppler-utils >/dev/null; }
	@command -v pdftoppm >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }

demo: install
	$(BIN)/bandeja demo

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCH_WORK ?= /tmp/bandeja-pipeline-bench
# Webhook ingest + feed export, then the pipeline on 10M messages, then every dashboard page
# on the serving snapshot that run leaves (about 30 minutes in all on 2 cores).
bench: install
	$(BIN)/python -m bench
	$(BIN)/python -m bench.pipeline_bench --work $(BENCH_WORK) --keep
	$(BIN)/python -m bench.dashboard_bench --serving $(BENCH_WORK)/data/serving/analytics.duckdb

clean:
	rm -rf $(VENV) data/*.duckdb data/*.wal data/landing data/serving data/reports dbt_project/target dbt_project/logs
