"""The repository keeps its own contract: notebooks and library in sync, CI and docs naming make targets that exist."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _snapshot(root: Path) -> dict:
    files = list((root / "speechnb").rglob("*.py")) + list((root / "nbs").rglob("*.ipynb"))
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in files
        if not {".ipynb_checkpoints", "__pycache__"} & set(p.parts)
    }


def test_export_and_clean_leave_the_tree_unchanged(tmp_path):
    """nbdev_export and nbdev_clean, run on a copy (tests run in parallel), change no file."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "data", "reports", "_docs", "_proc", "__pycache__")
    )
    before = _snapshot(copy)
    for tool in ("nbdev_export", "nbdev_clean"):
        done = subprocess.run([str(BIN / tool)], cwd=copy, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    after = _snapshot(copy)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"nbdev_export / nbdev_clean change {changed}: run `make export` and commit"


def _make_targets(makefile: str) -> set[str]:
    "Targets a Makefile defines (`name:` at the start of a line)."
    return set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", makefile, flags=re.M))


def test_ci_and_docs_name_only_make_targets_that_exist():
    """CI's script, the README and CONTRIBUTING name make targets; each must exist and resolve (`make -n`), and
    every .PHONY name must be a target (a misspelt phony target silently does nothing)."""
    makefile = (ROOT / "Makefile").read_text()
    targets = _make_targets(makefile)
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, flags=re.M).group(1).split())
    assert phony <= targets, f".PHONY names targets that do not exist: {sorted(phony - targets)}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M), ".ci/run must run the suite with `make test`"
    named = set()
    for doc in (".ci/run", "README.md", "CONTRIBUTING.md"):
        named |= set(
            re.findall(r"(?:^|`)make ([a-z][\w-]*)", (ROOT / doc).read_text(), flags=re.M)
        )  # commands, not prose
    assert {"test", "reproduce", "docs"} <= named and named <= targets, (
        f"documented make targets that do not exist: {sorted(named - targets)}"
    )
    for target in sorted(named & targets):
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"make -n {target}: {done.stderr}"


def test_make_targets_are_found():
    assert _make_targets("a: b\n\tx\nb-c:\n\ty\nVAR := 1\n.PHONY: a\n") == {"a", "b-c"}


def test_cli_errors_are_one_line():
    done = subprocess.run([str(BIN / "speechnb"), "no-such-command"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("speechnb: error: unknown command") and "Traceback" not in done.stderr


def test_notebooks_are_tidy():
    """Imports in their own cells (nbdev's docs build executes import cells), the python3 kernel, no editor metadata."""
    notebooks = [str(p) for p in sorted((ROOT / "nbs").rglob("*.ipynb")) if ".ipynb_checkpoints" not in str(p)]
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "tidy_notebooks.py"), "--check", *notebooks],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, "run scripts/tidy_notebooks.py on:\n" + done.stdout


def test_experiment_notebooks_declare_the_pipeline_parameters():
    import papermill

    for notebook in sorted(
        [*(ROOT / "nbs" / "experiments").glob("*.ipynb"), *(ROOT / "nbs" / "paper").glob("*.ipynb")]
    ):
        declared = papermill.inspect_notebook(str(notebook))
        assert {"profile", "run_dir", "reports_dir"} <= set(declared), (
            f"{notebook.name}: parameters cell lacks a pipeline parameter"
        )


def test_readme_and_index_are_rendered_from_the_template_and_the_reports():
    """README.md and nbs/index.ipynb are what docs/README.template.md gives with today's reports/: a README number that
    disagrees with reports/ (or a hand edit of either file) fails here."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_readme.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_results_hold_no_hand_typed_measurements():
    """In the template's results section every measured number is a placeholder (benchmarks, measured outside the
    pipeline, are the one marked exception; dates and the budget are not measurements)."""
    template = (ROOT / "docs" / "README.template.md").read_text(encoding="utf-8")
    results = template.split("## What the default run gives", 1)[1].split("## ", 1)[0]
    results = results.split("Benchmarks (last line of each script")[0]
    literal = re.sub(r"\{\{[^}]*\}\}", "", results)
    # dates, the budget, interval coverage and batch sizes (settings, not measurements) may be written out
    literal = re.sub(r"\d{4}-\d{2}-\d{2}|60-minute|2-core|2 CPU cores|95%|1\.5×|batches of \d+|× \d+", "", literal)
    typed = re.findall(r"(?<![\w.])\d+(?:[.,]\d+)*%?", literal)
    assert not typed, f"numbers typed by hand in the README's results (read them from reports/): {typed}"


def test_readme_follows_the_reports(tmp_path, load_script):
    import json
    import shutil

    render = load_script("render_readme")
    shutil.copytree(ROOT / "reports", tmp_path / "reports", ignore=shutil.ignore_patterns("figures", "executed"))
    metrics = json.loads((tmp_path / "reports" / "metrics.json").read_text())
    before, _ = render.render(tmp_path / "reports")
    metrics["distill"]["ppl_audio"] = 1.2345
    (tmp_path / "reports" / "metrics.json").write_text(json.dumps(metrics))
    after, notebook = render.render(tmp_path / "reports")
    assert "1.23" in after and "1.23" not in before and "1.23" in notebook
    del metrics["distill"]["ppl_audio"]
    (tmp_path / "reports" / "metrics.json").write_text(json.dumps(metrics))
    try:
        render.render(tmp_path / "reports")
        raise AssertionError("a missing measurement must fail the README, not print a blank")
    except KeyError as exc:
        assert "ppl_audio" in str(exc)


def test_stored_outputs_hold_no_error_stderr_or_execution_count():
    """Outputs stored in the library notebooks (`scripts/build_docs.py --store-outputs`) show results, not failures."""
    import json

    from test_notebooks import NOTEBOOKS

    for notebook in NOTEBOOKS:
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
                assert output["output_type"] != "error" and "Traceback (most recent call last)" not in text, notebook
                assert output.get("name") != "stderr", f"{notebook.name}: a stderr stream is stored"
                assert output.get("execution_count") is None, f"{notebook.name}: run nbdev_clean"
