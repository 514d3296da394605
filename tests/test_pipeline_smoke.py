"""The whole experiment pipeline runs under the `smoke` profile, writes its reports; a second run skips everything."""

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from speechnb.reproduce import time_left_text

ROOT = Path(__file__).resolve().parents[1]
SPEECHNB = str(Path(sys.executable).parent / "speechnb")


def _reproduce(run_dir, reports_dir, *extra):
    done = subprocess.run(
        [
            SPEECHNB,
            "reproduce",
            "--profile",
            "smoke",
            "--run-dir",
            str(run_dir),
            "--reports-dir",
            str(reports_dir),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


def test_smoke_pipeline_end_to_end(tmp_path):
    run_dir, reports = tmp_path / "run", tmp_path / "reports"
    started = time.time()
    first = _reproduce(run_dir, reports)
    print(first, f"smoke pipeline: {time.time() - started:.0f} s")
    assert ": absent" not in first, first  # every step of the pipeline exists
    metrics = json.loads((reports / "metrics.json").read_text())
    for section in ("filter", "generate", "analyze", "judge", "reward_model", "rl", "dpo", "distill"):
        assert section in metrics, f"no {section!r} numbers in metrics.json"
    figures = list((reports / "figures").glob("*.png"))
    assert figures and all((reports / "figures" / f"{f.stem}.pdf").is_file() for f in figures)
    tables = list((reports / "tables").glob("*.csv"))
    assert tables and all(
        (reports / "tables" / f"{t.stem}.md").is_file() and (reports / "tables" / f"{t.stem}.tex").is_file()
        for t in tables
    )
    manifest = json.loads((reports / "manifest.json").read_text())
    assert all(f"figures/{f.name}" in manifest for f in figures)
    assert (reports / "executed").is_dir() and (reports / "tables" / "headline.csv").is_file()
    # each step's time with the engine and batch sizes of its config (issue 31)
    timings = json.loads((reports / "pipeline.json").read_text())
    generate = yaml.safe_load((ROOT / "configs" / "smoke" / "generate.yaml").read_text())["generation"]
    assert timings["generate"]["engine"]["generation.backend"] == generate["backend"], timings["generate"]
    assert timings["generate"]["batch_sizes"]["generation.batch_size"] == generate["batch_size"], timings["generate"]
    assert all(t["profile"] == "smoke" and t["seconds"] > 0 for t in timings.values()), timings

    second = _reproduce(run_dir, reports)
    assert "running" not in second and second.count("up to date") >= 6, second

    (run_dir / "metrics.csv").unlink()  # deleting one artefact reruns the step that makes it
    third = _reproduce(run_dir, reports)
    # the time left: analyze and the steps planned after it (they read its output), as long as their last runs took
    left = time_left_text(sum(timings[name]["seconds"] for name in ("analyze", "reward", "rl", "dpo", "paper")), [])
    assert f"analyze: running (output metrics.csv missing or modified) ..., {left}" in third, third
    assert "analyze: running" in third and "filter: up to date" in third and "generate: up to date" in third, third
