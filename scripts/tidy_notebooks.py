#!/usr/bin/env python
"""Tidy notebooks to the house rules: imports in their own cell, the project's kernel, no editor metadata.

- nbdev's docs processor executes every cell that contains an import, so a cell mixing imports with
  other code runs out of context when the docs are built. Such cells are split: the import statements
  go to a new cell just before (carrying the cell's `#| export`-like directives), the rest stays.
- Every notebook names the `python3` kernel (the venv's own kernel under `make lab` and papermill).
- Editor metadata (jupytext's) is dropped.

Usage: scripts/tidy_notebooks.py nbs/*.ipynb nbs/*/*.ipynb [--check]
(--check: report, change nothing, exit 1 if untidy)
"""

import ast
import sys

import nbformat

KERNELSPEC = {"name": "python3", "display_name": "python3", "language": "python"}
KEEP_DIRECTIVES = ("#| export", "#| exporti", "#| exports", "#| hide", "#| slow", "#| gpu", "#| hub")


def split_cell(source: str):
    """Return (import_source, rest_source) for a mixed cell, or None when nothing needs splitting."""
    if "nbdev_export()" in source:  # nbdev never evaluates the export cell
        return None
    lines = source.splitlines()
    directives = [line for line in lines if line.startswith("#|")]
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    others = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    if not imports or not others:
        return None
    if any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in imports):
        return None
    import_lines = set()
    for node in imports:
        import_lines.update(range(node.lineno - 1, node.end_lineno))
    kept_directives = [d for d in directives if d.split()[0:2] and " ".join(d.split()[:2]) in KEEP_DIRECTIVES]
    import_src = "\n".join(kept_directives + [lines[i] for i in sorted(import_lines)])
    rest = "\n".join(line for i, line in enumerate(lines) if i not in import_lines).strip("\n")
    return import_src, rest


def main(paths, check=False):
    changed = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if nb.metadata.get("kernelspec") != KERNELSPEC or "jupytext" in nb.metadata:
            changed.append(path)
            nb.metadata.pop("jupytext", None)
            nb.metadata["kernelspec"] = dict(KERNELSPEC)
        cells = []
        for cell in nb.cells:
            result = split_cell(cell.source) if cell.cell_type == "code" else None
            if result is None:
                cells.append(cell)
                continue
            changed.append(path)
            cells.append(nbformat.v4.new_code_cell(result[0]))
            cell.source = result[1]
            cells.append(cell)
        if not check and path in changed:
            nb.cells = cells
            nbformat.write(nb, path)
    return sorted(set(changed))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    found = main(args, check="--check" in sys.argv)
    for p in found:
        print(("untidy: " if "--check" in sys.argv else "tidied: ") + p)
    sys.exit(1 if found and "--check" in sys.argv else 0)
