"""Every library notebook under nbs/ runs top to bottom under nbdev's test runner, one pytest test each.

Library notebooks sit in nbs/ (the foundation) and in nbs/judge, nbs/speechworthy and nbs/speech_prompt, one folder per
subpackage. Cells flagged `#| slow`, `#| gpu` or `#| hub` (settings.ini `tst_flags`) are skipped here; experiment and
paper notebooks (nbs/experiments, nbs/paper) are exercised by their smoke profile instead.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIPELINE_FOLDERS = ("experiments", "paper")  # papermill notebooks, run by `speechnb reproduce`
NOTEBOOKS = sorted(
    p
    for p in (ROOT / "nbs").rglob("*.ipynb")
    if not p.name.startswith(("_", "."))
    and p.name != "index.ipynb"
    and not set(p.relative_to(ROOT / "nbs").parts[:-1]) & {*PIPELINE_FOLDERS, ".ipynb_checkpoints"}
)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook(notebook):
    # A fresh process per notebook: notebooks cannot leak state into each other, as in a fresh kernel.
    nbdev_test = Path(sys.executable).parent / "nbdev_test"
    done = subprocess.run(
        [str(nbdev_test), "--path", str(notebook.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{notebook.name} failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
