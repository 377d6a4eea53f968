# Two commands for a fresh clone: `make demo` and `make test`. Both create .venv when missing and
# install the package; the CPU build of torch goes in FIRST so that no multi-GB CUDA wheel is pulled.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench install clean lint type check study study-report docs

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

test: $(STAMP)
	$(PY) -m pytest -q

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
	$(PY) -m pytest -q -m slow

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

clean:
	rm -rf $(VENV) build *.egg-info
