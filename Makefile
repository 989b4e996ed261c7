# The front door. Every target sets up what it needs on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

export DATA_DIR ?= $(CURDIR)/data
export SF ?= 0.01
export DBT_TARGET ?= dev
export DBT_PROFILES_DIR := $(CURDIR)/profiles
# Telemetry off: offline it only stalls runs on network timeouts.
export RUNTIME__DLTHUB_TELEMETRY := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

DAYS ?= 1
export PG_DIR ?= /tmp/marketplace-pg
# the port `make pg-up` picked, for DBT_TARGET=pg and the warehouse-first pipelines
export PG_PORT ?= $(shell cat $(PG_DIR)/port 2>/dev/null || echo 5432)
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --frozen
DBT := $(RUN) dbt
CLI := $(RUN) marketplace

.PHONY: help setup demo sources advance ingest process build run freshness docs docs-serve test lint fmt bench pg-up pg-down clean

help: ## List the targets, one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Settings: DATA_DIR=$(DATA_DIR) SF=$(SF) DBT_TARGET=$(DBT_TARGET) DAYS=$(DAYS)"

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --frozen
	@touch $@

setup: .venv/.synced ## Install Python, dbt and DuckDB dependencies into .venv (uv, offline-safe)

demo: setup ## Fresh start: simulate at SF, ingest, build and test, docs, headline numbers
	$(CLI) simulate init --sf $(SF)
	$(MAKE) run
	$(DBT) docs generate --target $(DBT_TARGET) --quiet
	$(CLI) report

sources: setup ## Rebuild the simulated sources from scratch at SF (history up to the cutoff)
	$(CLI) simulate init --sf $(SF)

advance: setup ## Release the next DAYS simulated days in every source (make advance DAYS=3)
	$(CLI) simulate advance --days $(DAYS)

ingest: setup ## Run the dlt pipelines: new and changed source rows into the lake (or raw_* for pg/redshift/athena)
	$(CLI) ingest all

process: setup ## Run the processing jobs (Spark or DuckDB) from landing/ into processed/
	$(CLI) process all

build: setup ## dbt build (seeds, models, snapshots, tests) on DBT_TARGET
	$(DBT) build --target $(DBT_TARGET)

run: setup ## Ingest, process and build, no re-simulation (after make advance)
	$(MAKE) ingest
	$(MAKE) process
	$(MAKE) build
	$(MAKE) freshness

freshness: setup ## dbt source freshness: did the last ingestion land recently?
	$(DBT) source freshness --target $(DBT_TARGET)

docs: setup ## Generate the dbt docs and lineage site into target/
	$(DBT) docs generate --target $(DBT_TARGET)

docs-serve: docs ## Serve the docs site on http://localhost:8080
	$(DBT) docs serve --port 8080

lint: setup ## ruff, sqlfluff, and the architecture checks (import boundaries, settings read in one place)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) pytest -q -p no:cacheprovider tests/test_architecture.py
	$(RUN) sqlfluff lint models snapshots analyses data_tests macros

fmt: setup ## Fix what ruff and sqlfluff can fix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .
	$(RUN) sqlfluff fix models snapshots analyses data_tests

test: setup ## Lint, then pytest: unit tests and end-to-end runs in temporary DATA_DIRs
	$(MAKE) lint
	$(RUN) pytest

bench: setup ## Benchmarks at SF 0.01, 0.1 and 1; writes docs/benchmarks.md
	$(CLI) bench

pg-up: setup ## Start a throwaway PostgreSQL for DBT_TARGET=pg (prints its URL)
	$(CLI) pg up --dir $(PG_DIR)

pg-down: ## Stop the throwaway PostgreSQL and delete its files
	$(CLI) pg down --dir $(PG_DIR) --remove

clean: ## Remove generated data and dbt output (keeps .venv)
	rm -rf $(DATA_DIR) target logs
