# speechnb: every target sets itself up (scripts/bootstrap.sh is idempotent and fast on a second run).
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default

.PHONY: setup test reproduce smoke docs lab export clean-nbs bench

setup:
	@bash scripts/bootstrap.sh

## the whole test suite: library notebooks under nbdev's test runner, plus plain pytest tests
test: setup
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=15 tests

## the main job on the embedded offline defaults (no hub, no GPU)
reproduce: setup
	$(BIN)/speechnb reproduce --profile $(PROFILE)

smoke: setup
	$(BIN)/speechnb reproduce --profile smoke

## the docs site, offline, into _docs/ (nbdev's processed notebooks + API reference + reports)
docs: setup
	$(BIN)/python scripts/build_docs.py

export: setup
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b --quick || exit 1; done

lab: setup
	$(BIN)/python -m ipykernel install --user --name speechnb --display-name "speechnb (.venv)" >/dev/null
	$(BIN)/jupyter lab nbs
