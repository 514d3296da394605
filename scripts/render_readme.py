#!/usr/bin/env python
"""Write README.md and nbs/index.ipynb from one source, docs/README.template.md, with every measured number read
from reports/.

A placeholder is `{{key}}` or `{{key|format}}`. The key is a dotted path into `reports/metrics.json`, into
`reports/pipeline.json` when it starts with `pipeline:`, or into the shipped checkpoint's
`checkpoints/bridge-default/meta.json` (its model card's figures) when it starts with `shipped:` (hyphens allowed:
`dpo.mean_words.dpo-base`). The format is a
Python format spec (`.3f`, `,`), or one of: `pct` (a share as a whole percentage, 0.4048 -> 40%), `pct1` (one decimal,
40.5%), `min` (seconds as minutes, one decimal), `s` (seconds, no decimals), `mb` (bytes as megabytes, one decimal). A
key that is missing, or a measurement that could not be made (null), fails the build: the README never shows a number
that `reports/` (or the shipped checkpoint's meta) does not hold.

Why a script and not `nbdev_readme`: that command needs Quarto, which cannot be installed offline here; nbdev's
convention that index.ipynb is the README's source is kept by generating both from the same template.

    python scripts/render_readme.py          # write README.md and nbs/index.ipynb
    python scripts/render_readme.py --check  # exit 1 if either is out of date (the test suite runs this)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "docs" / "README.template.md"
PLACEHOLDER = re.compile(r"\{\{\s*([^}|\s]+)\s*(?:\|\s*([^}\s]+)\s*)?\}\}")
UNITS = {
    "pct": lambda v: f"{100 * v:.0f}%",
    "pct1": lambda v: f"{100 * v:.1f}%",
    "min": lambda v: f"{v / 60:.1f}",
    "s": lambda v: f"{v:.0f}",
    "mb": lambda v: f"{v / 1e6:.1f}",
}


SHIPPED_META = ROOT / "checkpoints" / "bridge-default" / "meta.json"  # `shipped:` keys (scripts/ship_checkpoint.py)


def lookup(key: str, reports: Path) -> object:
    "The value at a dotted `key` of reports/metrics.json (or pipeline.json, or the shipped checkpoint's meta.json)."
    source, _, path = key.rpartition(":")
    file = SHIPPED_META if source == "shipped" else reports / f"{source or 'metrics'}.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            raise KeyError(f"{source or 'metrics'}.json has no {path!r} (at {part!r})")
        data = data[part]
    if data is None:
        raise KeyError(f"{source or 'metrics'}.json: {path!r} is null (not measured)")
    return data


def fill(template: str, reports: Path) -> str:
    "The template with every placeholder replaced by its formatted value."

    def value(match):
        found, spec = lookup(match.group(1), reports), match.group(2) or ""
        return UNITS[spec](found) if spec in UNITS else format(found, spec)

    return PLACEHOLDER.sub(value, template)


def index_notebook(readme: str) -> dict:
    "nbs/index.ipynb as nbdev writes it: the title and summary in the first cell, then one Markdown cell per section."
    parts = re.split(r"(?m)^(?=## )", readme.strip() + "\n")
    cells = [
        {
            "cell_type": "markdown",
            "id": f"{index:08x}",
            "metadata": {},
            "source": part.strip().splitlines(keepends=True),
        }
        for index, part in enumerate(parts)
    ]
    kernel = {"display_name": "python3", "language": "python", "name": "python3"}
    return {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}


def render(reports: Path = ROOT / "reports") -> tuple[str, str]:
    "(README.md text, nbs/index.ipynb text) from the template and the reports."
    readme = fill(TEMPLATE.read_text(encoding="utf-8"), reports)
    notebook = json.dumps(index_notebook(readme), indent=1, ensure_ascii=False) + "\n"
    return readme, notebook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether README.md and index.ipynb are current")
    args = parser.parse_args()
    try:
        readme, notebook = render()
    except KeyError as exc:
        print(f"{TEMPLATE.relative_to(ROOT)}: {exc.args[0]}", file=sys.stderr)
        return 1
    targets = {ROOT / "README.md": readme, ROOT / "nbs" / "index.ipynb": notebook}
    stale = [path for path, text in targets.items() if not path.is_file() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: edit {TEMPLATE.relative_to(ROOT)}, then run {__file__}")
        return 1 if stale else 0
    for path in stale:
        path.write_text(targets[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
