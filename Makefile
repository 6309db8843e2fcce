# hyposcreen — every target sets itself up: a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Sample run: the committed sample screens the night of 2026-11-20 (see sample_data/README.md)
SAMPLE_INPUT ?= sample_data/canonical
SAMPLE_START ?= 2026-11-20T00:00:00
SAMPLE_END ?= 2026-11-21T00:00:00
OUT ?= out/sample

# No Prefect settings here: `hyposcreen` and `python -m flows.deploy` carry their own
# (src/hyposcreen/runtime_env.py), so a user without make gets the same run.

.PHONY: help setup run test lint format bench clean serve stop

help:
	@echo "make run    set up, screen sample_data/ and print where the review list is"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff (lint + format check) and mypy"
	@echo "make bench  benchmarks (see bench/README.md)"
	@echo "make serve  start a local Prefect server + the nightly 02:00 schedule (docs/operations.md)"
	@echo "make stop   stop what make serve started"
	@echo "make setup  only create .venv and install the pinned dependencies"
	@echo "make format ruff format and ruff check --fix"
	@echo "make clean  remove .venv, out/, state/, .prefect/ and the caches"

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found (set PYTHON=/path/to/python3.11)"; exit 2; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
		{ echo "hyposcreen needs Python 3.11; $(PYTHON) is $$($(PYTHON) --version)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/hyposcreen run --input $(SAMPLE_INPUT) --window-start $(SAMPLE_START) \
		--window-end $(SAMPLE_END) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests flows bench sample_data
	$(BIN)/ruff format --check src tests flows bench sample_data
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests flows bench sample_data
	$(BIN)/ruff check --fix src tests flows bench sample_data

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out state .prefect .pytest_cache .mypy_cache .ruff_cache

# Scheduled runs (docs/operations.md): a local Prefect server (SQLite) and one process serving
# the nightly deployment. PIDs and logs in .prefect/. A site sets SERVE_INPUT, SERVE_OUT and
# SERVE_ARGS (e.g. SERVE_ARGS="--mapping /etc/hyposcreen/site.yaml").
PREFECT_PORT ?= 4242
PREFECT_URL := http://127.0.0.1:$(PREFECT_PORT)/api
SERVE_INPUT ?= $(SAMPLE_INPUT)
SERVE_OUT ?= out/nightly
SERVE_STATE ?= state
SERVE_ARGS ?=
# With setsid each process leads its own group, so `make stop` also ends the flow runs it started
SETSID := $(shell command -v setsid 2>/dev/null)

serve: $(STAMP)
	@umask 077; mkdir -p .prefect
	@if [ -f .prefect/server.pid ] && kill -0 "$$(cat .prefect/server.pid)" 2>/dev/null; then \
		echo "Prefect server already running (PID $$(cat .prefect/server.pid))"; \
	else \
		umask 077; PREFECT_HOME="$(CURDIR)/.prefect" PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 \
		PREFECT_SERVER_DATABASE_CONNECTION_URL="sqlite+aiosqlite:///$(CURDIR)/.prefect/server.db" \
		$(SETSID) nohup $(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT) \
			> .prefect/server.log 2>&1 < /dev/null & echo $$! > .prefect/server.pid; \
	fi
	@PREFECT_API_URL=$(PREFECT_URL) $(BIN)/python -m flows.deploy --check --wait 120 || \
		{ echo "The Prefect server did not answer; see .prefect/server.log"; exit 1; }
	@if [ -f .prefect/serve.pid ] && kill -0 "$$(cat .prefect/serve.pid)" 2>/dev/null; then \
		echo "Nightly deployment already served (PID $$(cat .prefect/serve.pid))"; \
	else \
		umask 077; PREFECT_API_URL=$(PREFECT_URL) $(SETSID) nohup $(BIN)/python -m flows.deploy \
			--input '$(SERVE_INPUT)' --out '$(SERVE_OUT)' --state-dir '$(SERVE_STATE)' $(SERVE_ARGS) \
			> .prefect/serve.log 2>&1 < /dev/null & echo $$! > .prefect/serve.pid; \
		sleep 5; kill -0 "$$(cat .prefect/serve.pid)" 2>/dev/null || \
			{ tail -n 20 .prefect/serve.log; rm -f .prefect/serve.pid; exit 1; }; \
	fi
	@echo "Prefect UI: http://127.0.0.1:$(PREFECT_PORT)  (logs: .prefect/server.log, .prefect/serve.log)"

stop:
	@for name in serve server; do \
		pidfile=.prefect/$$name.pid; [ -f $$pidfile ] || continue; pid=$$(cat $$pidfile); \
		if kill -0 $$pid 2>/dev/null; then \
			if [ -n "$(SETSID)" ]; then kill -TERM -- -$$pid 2>/dev/null || kill -TERM $$pid; \
			else kill -TERM $$pid; fi; \
			for _ in $$(seq 20); do kill -0 $$pid 2>/dev/null || break; sleep 0.5; done; \
			kill -0 $$pid 2>/dev/null && kill -KILL $$pid; \
			echo "stopped $$name (PID $$pid)"; \
		fi; \
		rm -f $$pidfile; \
	done
