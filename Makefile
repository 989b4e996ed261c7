# The front door. Every target sets up what it needs on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

export DATA_DIR ?= $(CURDIR)/data
export SF ?= 0.01
export DBT_TARGET ?= dev
export DBT_PROFILES_DIR := $(CURDIR)/profiles
# Where `make build` keeps its manifest for `make dev-build` to compare with (as in ingestion/settings.py)
export DBT_STATE_DIR ?= $(DATA_DIR)/state/prod
# Telemetry off: offline it only stalls runs on network timeouts.
export RUNTIME__DLTHUB_TELEMETRY := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

# dlt would import Airflow and read its secrets from an Airflow Variable; they come from the environment.
export PROVIDERS__ENABLE_AIRFLOW_SECRETS := false

DAYS ?= 1
# `make run` (the daily job) tests only the rows it wrote and skips the unit tests (they
# test SQL logic, which new data cannot break; CI runs them); `make build`, `make run
# FULL=1`, `make demo` and `make test` test every row (macros/incremental/run_scope_marker.sql).
FULL ?=
TESTS_SCOPE ?= all
# make test runs pytest in TEST_WORKERS processes (pytest-xdist), one test file to a process
# at a time, so a module's fixtures are built once; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
export PG_DIR ?= /tmp/marketplace-pg
# the port `make pg-up` picked, for DBT_TARGET=pg and the warehouse-first pipelines
export PG_PORT ?= $(shell cat $(PG_DIR)/port 2>/dev/null || echo 5432)
# PostgreSQL reads the PII salt from a session setting, which libpq takes from PGOPTIONS
# (macros/pii/pii_salt.sql); the salt never enters the SQL. PII_SALT holds no spaces.
export PGOPTIONS := $(strip $(if $(PII_SALT),-c marketplace.pii_salt=$(PII_SALT)) $(PGOPTIONS))
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --frozen
DBT := $(RUN) dbt
CLI := $(RUN) marketplace

.PHONY: help setup browser demo sources advance ingest process build save-state run freshness docs dashboard metrics bi dev-build publish screenshots test test-slow lint lint-fix fmt bench bench-scale pg-up pg-down clean airflow dag-test airflow-init

help: ## List the targets, one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Settings: DATA_DIR=$(DATA_DIR) SF=$(SF) DBT_TARGET=$(DBT_TARGET) DAYS=$(DAYS)"

# Bytecode is compiled once here (12.6 s on a fresh venv): where Python may not write it
# (PYTHONDONTWRITEBYTECODE, a read-only tree) every CLI and dbt start compiled its imports again.
.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --frozen --compile-bytecode
	@touch $@

setup: .venv/.synced ## Install Python, dbt and DuckDB dependencies into .venv (uv, offline-safe)

# Debian's chromium drives the browser tests and screenshots (Playwright never downloads one).
CHROMIUM_PATH ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser: ## Install Debian's Chromium for the browser tests (apt-get; needs root or sudo)
	@if [ -x "$(CHROMIUM_PATH)" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "error: no Chromium at $(CHROMIUM_PATH) and no apt-get to install it: install Chromium and set CHROMIUM_PATH" >&2; exit 1; fi; \
	echo "Installing Debian's chromium for the browser tests (apt-get)"; \
	$(SUDO) apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

demo: setup ## Fresh start: simulate at SF, ingest, build and test, docs, headline numbers
	$(CLI) simulate init --sf $(SF)
	$(MAKE) run FULL=1
	$(CLI) lock -- $(DBT) docs generate --target $(DBT_TARGET) --quiet
	$(CLI) report

sources: setup ## Rebuild the simulated sources from scratch at SF (history up to the cutoff)
	$(CLI) simulate init --sf $(SF)

advance: setup ## Release the next DAYS simulated days in every source (make advance DAYS=3)
	$(CLI) simulate advance --days $(DAYS)

ingest: setup ## Run the dlt pipelines: new and changed source rows into the lake (or raw_* for pg/redshift/athena)
	$(CLI) ingest all

process: setup ## Run the processing jobs (Spark or DuckDB) from landing/ into processed/
	$(CLI) process all

# dbt writes the warehouse, so build and freshness run under the DATA_DIR lock (marketplace lock).
build: setup ## dbt build (seeds, models, snapshots, every test on every row) on DBT_TARGET; keeps its manifest for dev-build
	$(CLI) lock -- $(DBT) build --target $(DBT_TARGET) $(if $(filter run,$(TESTS_SCOPE)),--vars '{tests_scope: run}' --exclude-resource-type unit_test)
	$(if $(filter dev ci,$(DBT_TARGET)),$(MAKE) save-state)

# After a build that passed (make stops at the first failing command), the manifest of
# what the DuckDB warehouse now holds: `make dev-build` compares your changes with it and
# reads unchanged models from that warehouse, so only dev and ci builds save it.
save-state:
	mkdir -p "$(DBT_STATE_DIR)"
	cp "$${DBT_TARGET_PATH:-target}/manifest.json" "$(DBT_STATE_DIR)/manifest.json"

# One lock for the whole run: no other writer gets in between its steps.
run: setup ## Ingest, process and build, testing only the new rows (after make advance); FULL=1 tests everything
	$(CLI) lock -- $(MAKE) ingest process build freshness TESTS_SCOPE=$(if $(FULL),all,run)

freshness: setup ## dbt source freshness: did the last ingestion land recently?
	$(CLI) lock -- $(DBT) source freshness --target $(DBT_TARGET)

docs: setup ## Generate the dbt docs and lineage site and serve it on http://127.0.0.1:$DOCS_PORT (8080)
	$(CLI) docs serve

dashboard: setup ## Serve the local dashboard over the marts on http://127.0.0.1:$DASHBOARD_PORT (8501)
	$(CLI) dashboard serve

bi: setup ## Write the QuickSight and Tableau definitions behind the exposures into $DATA_DIR/bi
	$(CLI) bi export

metrics: setup ## Validate the semantic layer and print an example MetricFlow query
	$(CLI) metrics example

dev-build: setup ## Build and test only what you changed since the last production build, in a sandbox
	$(CLI) dev-build

publish: setup ## Write-audit-publish: dbt build and every test in staging, swapped live only if all pass
	$(CLI) publish

screenshots: setup browser ## Refresh docs/img/ from the browser tests (they build their own SF 0.01 platform)
	$(RUN) pytest -q -p no:cacheprovider tests/browser --screenshots-dir docs/img

lint: setup ## ruff, sqlfluff, hadolint, cfn-lint and IAM breadth on infra/, and the architecture checks (import boundaries, settings read in one place)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) pytest -q -p no:cacheprovider tests/test_architecture.py
	$(RUN) sqlfluff lint models snapshots analyses data_tests macros
	$(RUN) hadolint Dockerfile
	$(RUN) cfn-lint infra/cloudformation/*.yaml
	$(RUN) python -m infra.iam_check infra/cloudformation/*.yaml

lint-fix: setup ## Fix what ruff and sqlfluff can fix (SQL style, Python format)
	$(RUN) ruff format .
	$(RUN) ruff check --fix .
	$(RUN) sqlfluff fix models snapshots analyses data_tests macros

fmt: lint-fix

test: setup browser ## Lint, then pytest: unit tests and end-to-end runs in temporary DATA_DIRs (not those marked slow)
	$(MAKE) lint
	$(RUN) pytest -m "not slow" -n $(TEST_WORKERS) --dist loadfile

test-slow: setup browser ## The tests marked slow (minutes each: Airflow day runs, reliability journeys, PostgreSQL publishes); CI runs them after make test
	$(RUN) pytest -m slow

bench: setup ## Benchmarks at SF 0.01, 0.1 and 1; writes docs/benchmarks.md (BENCH_SUITES="day" runs one suite)
	$(CLI) bench

# SF 10 takes about an hour and, by the disk check, 77 GiB free here; its figures are in docs/benchmarks.md ("How cost grows").
bench-scale: setup ## Every stage of make demo and of a day's make run at SF, timed, with peak memory and disk (make bench-scale SF=10)
	$(RUN) python -m benchmarks.scale --sf $(SF) --data-dir "$(DATA_DIR)/bench-scale-sf$(SF)"

pg-up: setup ## Start a throwaway PostgreSQL for DBT_TARGET=pg (prints its URL)
	$(CLI) pg up --dir $(PG_DIR)

pg-down: ## Stop the throwaway PostgreSQL and delete its files
	$(CLI) pg down --dir $(PG_DIR) --remove

# Airflow (orchestration/): its home, SQLite metadata database and logs live under $DATA_DIR/airflow.
AIRFLOW_PORT ?= 8090
airflow dag-test airflow-init: export AIRFLOW_HOME := $(DATA_DIR)/airflow
airflow dag-test airflow-init: export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/orchestration/dags
airflow dag-test airflow-init: export AIRFLOW__CORE__LOAD_EXAMPLES := False
# The LocalExecutor starts a worker process per slot (32 by default); a laptop needs few.
airflow dag-test airflow-init: export AIRFLOW__CORE__PARALLELISM := 4
airflow dag-test airflow-init: export AIRFLOW__API__HOST := 127.0.0.1
airflow dag-test airflow-init: export AIRFLOW__API__PORT := $(AIRFLOW_PORT)
airflow dag-test airflow-init: export AIRFLOW__CORE__EXECUTION_API_SERVER_URL := http://127.0.0.1:$(AIRFLOW_PORT)/execution/
# Airflow starts its own commands by name: the venv's bin first on PATH.
airflow dag-test airflow-init: export PATH := $(CURDIR)/.venv/bin:$(PATH)

# The DAG renders dbt from its manifest (dbt parse); a run needs initialised sources
# when they are simulated (DAG_SIMULATED_SOURCES, default true): initialise them at SF.
airflow-init: setup
	$(DBT) parse --target $(DBT_TARGET) --quiet
	@if [ "$${DAG_SIMULATED_SOURCES:-true}" = true ] && ! $(CLI) simulate status >/dev/null 2>&1; then \
	  echo "No simulated sources in $(DATA_DIR): initialising them at SF $(SF) (make sources)"; \
	  $(CLI) simulate init --sf $(SF); fi
	airflow db migrate >/dev/null

# `airflow standalone` serves task logs on port 8793 of every interface (Airflow 3.3 has no
# setting for its host), so this runs the same four components with the log servers off:
# everything is on this machine, and the API server reads the log files directly.
airflow: airflow-init ## Airflow on http://127.0.0.1:$AIRFLOW_PORT (8090), metadata in $DATA_DIR/airflow; Ctrl-C stops it
	@pids=; trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	airflow scheduler --skip-serve-logs & pids="$$pids $$!"; \
	airflow dag-processor & pids="$$pids $$!"; \
	airflow triggerer --skip-serve-logs & pids="$$pids $$!"; \
	echo "Airflow on http://127.0.0.1:$(AIRFLOW_PORT), user admin, password in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated"; \
	airflow api-server --host 127.0.0.1 --port $(AIRFLOW_PORT)

# DAY: the day to run; by default the one after the simulator's clock (today for real sources).
dag-test: airflow-init ## Run one simulated day of the marketplace_daily DAG with `airflow dags test` (no server)
	@day="$(DAY)"; \
	if [ -z "$$day" ] && [ "$${DAG_SIMULATED_SOURCES:-true}" = true ]; then \
	  clock=$$($(CLI) simulate status | awk '$$1 == "shop" {print $$2}'); \
	  day=$$($(RUN) python -c 'import datetime, sys; print(datetime.date.fromisoformat(sys.argv[1]) + datetime.timedelta(days=1))' "$$clock"); fi; \
	day="$${day:-$$(date -u +%F)}"; \
	echo "airflow dags test marketplace_daily $$day"; \
	airflow dags test marketplace_daily "$$day"

clean: ## Remove generated data and dbt output (keeps .venv)
	rm -rf $(DATA_DIR) target logs
