#!/usr/bin/env python
"""Redraw the figures that can be drawn from the committed tables in reports/tables, without running the pipeline.

The experiment notebooks draw these same figures with the same `speechnb.figures` / `speechnb.compare` functions
when `make reproduce` runs; this script only lets a change to a plotting function reach reports/figures before the
next run. Each figure keeps its manifest entry (notebook, profile, config hash) and gains `redrawn_from`.

Usage: scripts/redraw_figures.py [REPORTS_DIR]   (default: reports)
"""

import datetime
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from speechnb.compare import plot_elo  # noqa: E402
from speechnb.figures import (  # noqa: E402
    add_caption,
    interval_note,
    plot_calibration_by_judge,
    plot_judged_win_matrix,
    plot_perplexity,
)
from speechnb.speechworthy.dpo_config import DPOStepConfig  # noqa: E402
from speechnb.reporting import git_commit, load_config  # noqa: E402


def figures(tables: Path) -> dict:
    "Figure name -> (source table, function drawing it from that table), for the tables that exist."
    analyze = load_config("default", "analyze").get("compare", {})
    dpo = load_config("default", "dpo", config=DPOStepConfig)
    n_boot = dpo.judge.n_boot
    elo_caption = lambda n: "Error bars: " + interval_note(n, refit=True)  # noqa: E731
    found = {
        "distill_perplexity": (
            "distill_eval.csv",
            lambda t: plot_perplexity(t, "Held-out transcripts, unseen voice (24 prompts)"),
        ),
        "judge_calibration": (
            "judge_check.csv",
            lambda t: plot_calibration_by_judge(
                t, title=f"Judge calibration on {len(t)} check pairs ({', '.join(dict.fromkeys(t.split))})"
            ),
        ),
        "dpo_judged_win_matrix": (
            "dpo_judged_win_tie_loss.csv",
            lambda t: plot_judged_win_matrix(
                t, n_boot, f"Head to head judged on {t.prompts.max()} held-out prompts, both orders"
            ),
        ),
        "dpo_elo": (
            "dpo_elo.csv",
            lambda t: add_caption(plot_elo(t, score="reward"), elo_caption(min(200, dpo.grid.n_boot))),
        ),
    }
    for score in analyze.get("figure_scores", []):
        found[f"analyze_elo_{score}"] = (
            "analyze_elo.csv",
            lambda t, s=score: add_caption(
                plot_elo(t[t.score == s], "config", f"{s} ({t[t.score == s].better.iloc[0]} is better)"),
                elo_caption(analyze.get("elo_bootstrap", 200)),
            ),
        )
    return {name: item for name, item in found.items() if (tables / item[0]).is_file()}


def main(reports: Path) -> None:
    manifest_path = reports / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    sibling = {"dpo_judged_win_matrix": "tables/dpo_judged_win_tie_loss.csv"}  # a new figure takes its table's entry
    for name, (table, draw) in figures(reports / "tables").items():
        fig = draw(pd.read_csv(reports / "tables" / table))
        for ext in ("png", "pdf"):
            key = f"figures/{name}.{ext}"
            fig.savefig(reports / key, dpi=150, bbox_inches="tight")
            entry = dict(manifest.get(key) or manifest[sibling[name]])
            now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            manifest[key] = entry | dict(git_commit=git_commit(), time=now, redrawn_from=f"tables/{table}")
        plt.close(fig)
        print(f"redrew figures/{name}.png from tables/{table}")
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "reports"))
