# speechnb: every target sets itself up (scripts/bootstrap.sh is idempotent and fast on a second run).
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default
# JupyterLab refuses to start as root without --allow-root (containers, CI machines)
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup test lint reproduce smoke docs lab export bench readme demo

setup:
	@bash scripts/bootstrap.sh

## the whole test suite: the linter, then library notebooks under nbdev's test runner and the pytest tests
test: setup lint
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=15 tests

## ruff, configured in pyproject.toml (rules that catch real bugs; see its comments)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## a real result in a few minutes: a spoken question answered through the shipped speech connector, two answers judged
## by the listening judge, one figure; everything under data/runs/demo/ (scripts/demo.py)
demo: setup
	$(BIN)/python scripts/demo.py

## the main job on the embedded offline defaults (no hub, no GPU)
reproduce: setup
	$(BIN)/speechnb reproduce --profile $(PROFILE)

smoke: setup
	$(BIN)/speechnb reproduce --profile smoke

## the docs site, offline, into _docs/ (executed notebooks with their outputs, API reference with parameter tables, search)
docs: setup
	$(BIN)/python scripts/build_docs.py

export: setup
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

## README.md and nbs/index.ipynb from docs/README.template.md, numbers read from reports/
readme: setup
	$(BIN)/python scripts/render_readme.py

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b --quick || exit 1; done

lab: setup
	$(BIN)/python -m ipykernel install --user --name speechnb --display-name "speechnb (.venv)" >/dev/null
	$(BIN)/jupyter lab $(LAB_FLAGS) nbs
