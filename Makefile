# Kaizen: `make repro` runs the pipeline, `make test` runs the gates. `make help` lists targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Stage commands call `python`: make it the project's environment.
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install repro lint pytest test clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

install: $(STAMP) ## Create/update .venv from the lock file (run by every other target)

repro: $(STAMP) ## Run the DVC pipeline (ingest -> prepare -> train -> evaluate) and print metrics
	$(BIN)/dvc repro
	@$(BIN)/kaizen summary --metrics metrics/evaluate/metrics.json

lint: $(STAMP) ## pylint (10/10), black --check, workflow lint (actionlint + zizmor)
	$(BIN)/pylint src tests
	$(BIN)/black --check --quiet src tests bench
	.ci/lint-workflows

pytest: $(STAMP) ## The whole test suite with the coverage gate (no lint)
	$(BIN)/pytest

test: lint pytest ## Lint, then the whole test suite (what CI runs)

clean: ## Remove caches (not data, not .venv)
	rm -rf .pytest_cache .coverage htmlcov
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
