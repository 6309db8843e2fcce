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

# Prefect runs offline here: local home, no telemetry, patient start-up timeout
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: help setup run test lint format bench clean

help:
	@echo "make run    set up, screen sample_data/ and print where the review list is"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff (lint + format check) and mypy"
	@echo "make bench  benchmarks (see bench/README.md)"

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
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) out .prefect .pytest_cache .mypy_cache .ruff_cache
