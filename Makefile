# Two commands for a fresh clone: `make demo` and `make test`. Both create .venv when missing and
# install the package; the CPU build of torch goes in FIRST so that no multi-GB CUDA wheel is pulled.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench install clean lint type check study study-report docs a2c-worktree a2c-pilot a2c-pilot-records a2c-study a2c-study-report

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev,ray]"
	touch $(STAMP)

install: $(STAMP)

# The main job: experiments/quick.yaml (PPO on Breakout, nature vs coordconv, 2 seeds) through sweep and
# analyze. Re-running resumes or skips what is done; DEMO_OUT=... puts it elsewhere.
DEMO_OUT ?= runs/demo
demo: $(STAMP)
	$(VENV)/bin/rl-coordconv sweep experiments/quick.yaml --out $(DEMO_OUT) --workers 2
	$(VENV)/bin/rl-coordconv analyze $(DEMO_OUT)

# The suite over TEST_WORKERS processes (pytest-xdist; TEST_WORKERS=0 runs it in this one), each test file
# whole in one process, so module fixtures are built once. Plain `pytest` still runs it serially.
TEST_WORKERS ?= 2
TEST_PAR = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
test: $(STAMP)
	$(PY) -m pytest -q $(TEST_PAR)

# Style and types: ruff (lint rules and formatting, configured in pyproject.toml) and mypy on the package.
lint: $(STAMP)
	$(VENV)/bin/ruff check rl_coordconv tests
	$(VENV)/bin/ruff format --check rl_coordconv tests

type: $(STAMP)
	$(VENV)/bin/mypy rl_coordconv/

# What CI runs.
check: lint type test

# The documentation site (mkdocs.yml, docs/) into site/, strict: a broken link, page, included file or
# API reference fails it. Its tools come from the `docs` extra, installed into .venv the first time.
DOCS_STAMP := $(VENV)/.installed-docs
$(DOCS_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(STAMP) $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(TEST_PAR)

bench: $(STAMP)
	$(VENV)/bin/rl-coordconv bench

# The atari100k study (results/atari100k/README.md): continue it where it stopped, 2 workers (STUDY_WORKERS=...).
# A missing sweep folder is seeded with the committed records, so finished runs are never run again.
STUDY_OUT ?= runs/atari100k
STUDY_WORKERS ?= 2
study: $(STAMP)
	[ -d $(STUDY_OUT) ] || $(VENV)/bin/rl-coordconv export results/atari100k $(STUDY_OUT)
	$(VENV)/bin/rl-coordconv sweep experiments/atari100k.yaml --out $(STUDY_OUT) --workers $(STUDY_WORKERS)

# Inspect the finished runs not inspected yet (their weights stay in $(STUDY_OUT)), copy the finished runs'
# records and inspections' numbers (no weights) into results/atari100k, regenerate its report and write
# its answer into the study's README and the project's README.
study-report: $(STAMP)
	$(VENV)/bin/rl-coordconv inspect $(STUDY_OUT) --no-gif
	$(VENV)/bin/rl-coordconv export $(STUDY_OUT) results/atari100k
	$(VENV)/bin/rl-coordconv analyze results/atari100k --published experiments/published_100k/published_100k.csv \
		--inspect --answer-into results/atari100k/README.md --answer-into README.md

# The a2c-atari5 study (results/a2c-atari5/README.md), at 3M agent steps (experiments/a2c-atari5-3m.yaml).
# Its code is fixed: it runs from its own git worktree at the commit its README records (the spec is read
# from this checkout, where it was committed before the first run), so that work on main never changes the
# code of the cells still to run; the package's .venv runs it, with the worktree first on PYTHONPATH.
# `make a2c-pilot` is its learning check (seed 0 of nature on the six games); `make a2c-study` continues
# the sweep (a missing sweep folder is seeded with the committed records); `make a2c-study-report` copies
# the finished runs' records (no weights) into results/a2c-atari5, regenerates its report and writes its
# answer into its README and the project's.
A2C_COMMIT := 016b13d7e35ebe20d2b977d4e98b64e9eace2616
A2C_TREE ?= ../a2c-atari5
A2C_OUT ?= runs/a2c-atari5-3m
A2C_RUN = cd $(A2C_TREE) && PYTHONPATH=$$PWD $(CURDIR)/$(VENV)/bin/rl-coordconv
a2c-worktree:
	[ -d $(A2C_TREE) ] || git worktree add --detach $(A2C_TREE) $(A2C_COMMIT)
A2C_PILOT_OUT ?= runs/a2c-atari5-3m-pilot
a2c-pilot: $(STAMP) a2c-worktree
	[ -d $(A2C_PILOT_OUT) ] || [ ! -d results/a2c-atari5/pilot-3m/runs ] || \
		$(VENV)/bin/rl-coordconv export results/a2c-atari5/pilot-3m $(A2C_PILOT_OUT)
	$(A2C_RUN) sweep $(CURDIR)/experiments/a2c-atari5-3m-pilot.yaml --out $(CURDIR)/$(A2C_PILOT_OUT) \
		--workers $(STUDY_WORKERS)
a2c-study: $(STAMP) a2c-worktree
	[ -d $(A2C_OUT) ] || [ ! -d results/a2c-atari5/runs ] || $(VENV)/bin/rl-coordconv export results/a2c-atari5 $(A2C_OUT)
	$(A2C_RUN) sweep $(CURDIR)/experiments/a2c-atari5-3m.yaml --out $(CURDIR)/$(A2C_OUT) --workers $(STUDY_WORKERS)
a2c-pilot-records: $(STAMP)
	$(VENV)/bin/rl-coordconv export $(A2C_PILOT_OUT) results/a2c-atari5/pilot-3m
a2c-study-report: $(STAMP)
	$(VENV)/bin/rl-coordconv export $(A2C_OUT) results/a2c-atari5
	$(VENV)/bin/rl-coordconv analyze results/a2c-atari5 --answer-block a2c-atari5 \
		--answer-into results/a2c-atari5/README.md --answer-into README.md

clean:
	rm -rf $(VENV) build *.egg-info
