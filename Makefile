# Kaizen: `make repro` runs the pipeline, `make test` runs the gates. `make help` lists targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Stage commands call `python`: make it the project's environment.
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install install-mlflow install-spark repro report sweep promote sweep-clean lint pytest test docs \
	bench bench-drift bench-monitor bench-sweep bench-scores bench-serve bench-predict bench-mlflow serve clean

# `make help` groups the targets; a target not named here lands in its group by its name
# (bench-* in benchmarks, install-*/lock/clean in set-up), else in "other".
HELP_START := repro test help
HELP_PIPELINE := report sweep promote sweep-clean
HELP_SERVING := serve
HELP_QUALITY := lint pytest docs
help: ## List the targets, grouped
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -v start="$(HELP_START)" \
		-v pipeline="$(HELP_PIPELINE)" -v serving="$(HELP_SERVING)" -v quality="$(HELP_QUALITY)" \
		'BEGIN {FS = ":.*## "; n = split("start here|pipeline|serving|quality|set-up|benchmarks|other", order, "|"); \
		  split(start, a, " "); for (i in a) g[a[i]] = "start here"; split(pipeline, a, " "); for (i in a) g[a[i]] = "pipeline"; \
		  split(serving, a, " "); for (i in a) g[a[i]] = "serving"; split(quality, a, " "); for (i in a) g[a[i]] = "quality"} \
		{ t = $$1; grp = (t in g) ? g[t] : (t ~ /^bench/) ? "benchmarks" : (t ~ /^(install|lock|clean)/) ? "set-up" : "other"; \
		  lines[grp] = lines[grp] sprintf("  \033[36m%-15s\033[0m %s\n", t, $$2) } \
		END { for (i = 1; i <= n; i++) if (order[i] in lines) printf "%s:\n%s", order[i], lines[order[i]] }'

# --- set-up --------------------------------------------------------------------------------------
# Three locks, each the one before plus an extra, with one version of every shared package:
# requirements.lock (runtime: the pipeline, serving, the image), requirements-dev.lock (+ dev:
# lint, tests), requirements-mlflow.lock (+ mlflow, README "MLflow"). A venv only moves up: once
# it has had a lock, every later install uses that lock or a larger one. `make repro` needs at
# least the runtime lock ($(RUNTIME)); the other targets at least the dev lock ($(STAMP));
# `make install-mlflow` marks the venv so that every later install uses the MLflow lock.
.PHONY: install-dev lock
WITH_DEV := $(VENV)/.with-dev
WITH_MLFLOW := $(VENV)/.with-mlflow
# requirements-spark.lock: the MLflow lock + PySpark (`make install-spark`, docs/scale.md).
WITH_SPARK := $(VENV)/.with-spark
RUNTIME := $(VENV)/.installed-runtime
DEV_LOCK = $(if $(wildcard $(WITH_SPARK)),requirements-spark.lock,$(if $(wildcard $(WITH_MLFLOW)),requirements-mlflow.lock,requirements-dev.lock))
LOCK = $(if $(wildcard $(WITH_DEV) $(WITH_MLFLOW) $(WITH_SPARK)),$(DEV_LOCK),requirements.lock)
# Every file pip downloads is checked against the lock's hashes. The lock is the whole resolution,
# installed as is (--no-deps, then `pip check`): pip's own resolver would reject pytest-cov's
# `coverage[toml]` in hash mode (pip#9644, pip < 24). pip does not hash-check what it fetches
# into an isolated build environment (pip#13984), so nothing is built in one: the lock's
# setuptools goes in first and builds the one source distribution of the locks
# (antlr4-python3-runtime, via hydra-core) and the editable install of the project.
PIP := $(BIN)/python -m pip --disable-pip-version-check
define pip-install
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the $$(grep -c '^[a-zA-Z0-9]' $(1)) packages pinned in $(1) into $(VENV) (hash-checked;" \
		"2-6 minutes on a fresh machine, pip prints nothing until it is done)"
	$(PIP) install --quiet --require-hashes --no-deps -r <(sed -n '/^setuptools==/,/# via/p' $(1))
	$(PIP) install --quiet --require-hashes --no-deps --no-build-isolation -r $(1)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	$(PIP) check
endef

$(RUNTIME): $(LOCK) pyproject.toml
	$(call pip-install,$(LOCK))
	@touch $@ $(if $(wildcard $(WITH_DEV) $(WITH_MLFLOW) $(WITH_SPARK)),$(STAMP))

$(STAMP): $(DEV_LOCK) pyproject.toml
	$(call pip-install,$(DEV_LOCK))
	@touch $(WITH_DEV) $(RUNTIME) $@

install: $(RUNTIME) ## Create/update .venv from requirements.lock (the runtime; or the venv's larger lock)

install-dev: $(STAMP) ## .venv from requirements-dev.lock (runtime + dev tools; run by lint, test, …)

install-mlflow: ## .venv from requirements-mlflow.lock (+ the optional MLflow extra), kept from now on
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -f $(WITH_MLFLOW) || { touch $(WITH_MLFLOW); rm -f $(STAMP) $(RUNTIME); }
	@$(MAKE) --no-print-directory install-dev

install-spark: ## .venv from requirements-spark.lock (MLflow lock + the optional Spark extra), kept from now on
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -f $(WITH_SPARK) || { touch $(WITH_SPARK); rm -f $(STAMP) $(RUNTIME); }
	@$(MAKE) --no-print-directory install-dev

# `make lock` regenerates the three locks, with the hashes of every file of every pin (any
# platform, Python 3.11), each constrained by the one before so that shared pins agree, plus the
# caps of constraints.txt; then the drift benchmark's own lock. Existing pins are kept;
# UPGRADE=--upgrade (or --upgrade-package NAME) moves them. `--fork-strategy fewest`: one version
# per package (no Python >= 3.12 forks). uv comes pinned in .uv/ (git-ignored) unless UV= names
# another.
UV_VERSION := 0.13.9
UV ?= .uv/bin/uv
UPGRADE ?=
COMPILE = $(UV) pip compile --quiet pyproject.toml --generate-hashes --universal \
	--fork-strategy fewest --python-version 3.11 -c constraints.txt $(UPGRADE)
lock: $(if $(filter .uv/bin/uv,$(UV)),.uv/bin/uv) ## Regenerate the lock files (with hashes): requirements{,-dev,-mlflow,-spark}.lock, bench/evidently.lock
	$(COMPILE) -o requirements.lock
	$(COMPILE) --extra dev -c requirements.lock -o requirements-dev.lock
	$(COMPILE) --extra dev --extra mlflow -c requirements-dev.lock -o requirements-mlflow.lock
	$(COMPILE) --extra dev --extra mlflow --extra spark -c requirements-mlflow.lock \
		-o requirements-spark.lock
	$(UV) pip compile --quiet bench/evidently.in --generate-hashes --universal --fork-strategy fewest \
		--python-version 3.11 $(UPGRADE) -o bench/evidently.lock

.uv/bin/uv:
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --- pipeline and reports ------------------------------------------------------------------------
# REPRO_FLAGS: e.g. "--pull --allow-missing" to fetch from the DVC remote (CI: .ci/remote).
REPRO_FLAGS ?=
repro: $(RUNTIME) ## Run the DVC pipeline (every stage of dvc.yaml) on the data of params.yaml, print metrics
	$(BIN)/dvc repro $(REPRO_FLAGS)
	@$(BIN)/kaizen summary --metrics metrics/evaluate/metrics.json

BASE ?= main
report: $(STAMP) ## PR report of the workspace vs BASE (default main) -> report.md
	$(BIN)/kaizen report --base $(BASE) --output report.md

# --- experiments (docs/experiments.md) -----------------------------------------------------------
# GRID: `--grid NAME` (sweeps.yaml) or -S flags, e.g. GRID="-S 'train.model=choice(logreg,hgb)'".
# Selection is on cross-validated metrics of the train split (cv.*); RULE=one-se prefers the
# simplest model within one standard error; test.*/current.* need HOLDOUT=--allow-holdout.
GRID ?= --grid default
JOBS ?= $(shell nproc)
METRIC ?= cv.roc_auc
GUARD ?= cv.cost<=baseline
RULE ?= best
HOLDOUT ?=
sweep: $(STAMP) ## Queue GRID as dvc experiments, run JOBS workers, leaderboard by METRIC
	$(BIN)/kaizen sweep $(GRID) --jobs $(JOBS) --metric $(METRIC) --rule $(RULE) $(HOLDOUT) \
		$(if $(GUARD),--guard '$(GUARD)')

# With MLflow installed and a tracking store set (MLFLOW_TRACKING_URI, or mlruns.db from
# `kaizen mlflow log`), promote also moves the registered model MODEL's alias champion to its
# challenger; otherwise that step says why it did nothing.
MODEL ?= credit
promote: $(STAMP) ## Best experiment by METRIC meeting GUARD -> branch exp/<name> (or BRANCH=); MLflow champion
	$(BIN)/kaizen promote --metric $(METRIC) --rule $(RULE) $(HOLDOUT) \
		$(if $(GUARD),--guard '$(GUARD)') $(if $(BRANCH),--branch $(BRANCH))
	$(BIN)/kaizen mlflow promote --name $(MODEL) --if-configured

sweep-clean: $(STAMP) ## Remove finished experiments (a long `dvc exp show` slows DVC down)
	$(BIN)/kaizen sweep-clean

# --- serving (README: "Serve the model") ---------------------------------------------------------
serve: $(STAMP) ## Initialise the event store (idempotent) and serve the model on 127.0.0.1:8000
	$(BIN)/kaizen events init
	$(BIN)/kaizen serve

# --- quality gates -------------------------------------------------------------------------------
# A check that needs a tool a user may lack (promtool, node) goes through .ci/optional: skipped
# with its reason, listed again at the end of `make test`; .ci/run requires every one of them.
SKIPS := $(VENV)/lint-skips
lint: $(STAMP) ## pylint, flake8, mypy, black, workflows (actionlint + zizmor), hadolint, alert rules (promtool)
	@rm -f $(SKIPS)
	$(BIN)/pylint src tests bench/*.py
	$(BIN)/flake8 src tests bench
	$(BIN)/mypy
	$(BIN)/black --check --quiet src tests bench
	.ci/lint-workflows
	@.ci/optional promtool "alert rules (promtool check rules)" \
		"Debian/Ubuntu: apt-get install prometheus" -- promtool check rules monitoring/alerts.yml
	$(BIN)/hadolint Dockerfile

pytest: $(STAMP) ## The whole test suite with the coverage gate (no lint)
	$(BIN)/pytest

docs: $(STAMP) ## Build the documentation site into site/ (MkDocs, --strict: broken links fail)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint docs pytest ## Lint, the docs site, then the whole test suite (what CI runs)
	@if [ -s $(SKIPS) ]; then echo "Lint checks skipped (.ci/run requires them):"; cat $(SKIPS); fi

# --- benchmarks (bench/README.md) ----------------------------------------------------------------
BASELINE ?=
bench: $(STAMP) ## Benchmark the pipeline (cold repro [vs BASELINE rev], no-op repro vs DVC's floor, 100k vs 1M rows)
	$(BIN)/python bench/pipeline.py $(if $(BASELINE),--baseline $(BASELINE))

.PHONY: bench-noop
bench-noop: $(STAMP) ## Only no-op `dvc repro` vs a one-stage repository (DVC's floor), paired -> bench/README.md
	$(BIN)/python bench/pipeline.py --noop-only

# Evidently needs pandas < 3: it gets its own git-ignored environment, from its own lock file.
EVIDENTLY := bench/.work/evidently-venv
$(EVIDENTLY)/.installed: bench/evidently.lock
	@test -x $(EVIDENTLY)/bin/python || $(PYTHON) -m venv $(EVIDENTLY)
	$(EVIDENTLY)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--no-deps -r $<
	$(EVIDENTLY)/bin/python -m pip check
	@touch $@

bench-drift: $(STAMP) $(EVIDENTLY)/.installed ## Benchmark drift vs Evidently 0.7 -> bench/README.md
	PYTHONPATH=src $(BIN)/python bench/drift.py --evidently $(EVIDENTLY)/bin/python

.PHONY: bench-guards
bench-guards: $(STAMP) ## Drift guards from power: false alarms and detection, shipped defaults -> bench/README.md
	PYTHONPATH=src $(BIN)/python bench/guards.py

bench-monitor: $(STAMP) $(EVIDENTLY)/.installed ## Benchmark kaizen monitor: 100k events (SQLite), 1M (PostgreSQL), vs Evidently -> bench/README.md
	$(BIN)/python bench/monitor.py --evidently $(EVIDENTLY)/bin/python

bench-sweep: $(STAMP) ## Benchmark an 8-experiment sweep, -j 1 vs -j 2 -> bench/README.md
	$(BIN)/python bench/sweep.py

bench-scores: $(STAMP) ## Measure what the git copy of the per-row scores costs -> bench/README.md
	$(BIN)/python bench/scores.py

bench-serve: $(STAMP) ## Benchmark the API (store on/off, batches, SQLite vs PostgreSQL) -> bench/README.md
	$(BIN)/python bench/serve.py

bench-predict: $(STAMP) ## Benchmark kaizen predict (1M, 10M rows) vs pandas reading the CSV; DuckDB memory -> bench/README.md
	$(BIN)/python bench/predict.py

bench-mlflow: install-mlflow ## Benchmark kaizen serve (event store on) vs mlflow models serve -> bench/README.md
	$(BIN)/python bench/mlflow_serve.py

.PHONY: bench-datadiff
bench-datadiff: $(STAMP) ## Benchmark the PR report's value-level data diff on two 1M-row files -> bench/README.md
	$(BIN)/python bench/datadiff.py

clean: ## Remove caches (not data, not .venv)
	rm -rf .pytest_cache .coverage htmlcov
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
