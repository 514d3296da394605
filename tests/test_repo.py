"""The repository keeps its own contract: notebooks and library in sync, CI calling the README's command."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _git_state():
    status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    diff = subprocess.run(["git", "diff"], cwd=ROOT, capture_output=True, text=True).stdout
    return status, diff


def test_export_and_clean_leave_the_tree_unchanged():
    if not (ROOT / ".git").exists():
        import pytest; pytest.skip("not a git checkout")
    before = _git_state()
    for tool in ("nbdev_export", "nbdev_clean"):
        done = subprocess.run([str(BIN / tool)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    after = _git_state()
    assert before == after, "nbdev_export / nbdev_clean changed files: run `make export` and commit\n" + after[0]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make reproduce" in readme


def test_cli_errors_are_one_line():
    done = subprocess.run([str(BIN / "speechnb"), "no-such-command"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("speechnb: error: unknown command") and "Traceback" not in done.stderr
