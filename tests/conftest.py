"""Shared pytest set-up: run from the repository root, offline, with a predictable model cache."""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.chdir(ROOT)
# Nothing in the test suite may reach the hub; this also makes transformers fail fast.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Tests run two at a time on two cores: one math thread each. Two threads per process on a
    # shared pair of cores oversubscribes and was measured 4-12x slower for torch training steps.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = "1"


@pytest.fixture(scope="session")
def load_script():
    'Import a file of scripts/ as a module (scripts/ is not a package): `load_script("render_readme")`.'

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
