#!/usr/bin/env python
"""Build the speechnb docs site offline into _docs/ (`make docs`).

Quarto, which `nbdev_docs` uses, cannot be installed on machines without internet access beyond
package registries, so this builds the site from the same sources with Python alone:

- nbdev's *processed* notebooks (`nbdev.serve.proc_nbs`: directives applied, `show_doc` cells
  executed so every exported function gets its signature and docs) rendered by nbconvert;
- an API reference generated from nbdev's symbol index (`speechnb/_modidx.py`), one page per module;
- the executed experiment notebooks from `reports/executed/` as tutorials with their outputs;
- the figures and tables from `reports/`.

`nbdev_proc_nbs` (the command) is not used: before processing it tries to install Quarto with sudo
and to pip-install the project with whatever pip is first on PATH. People with Quarto can still
run `nbdev_docs` with `nbs/_quarto.yml` and `nbs/nbdev.yml`.
"""
from __future__ import annotations

import argparse
import html
import importlib
import inspect
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1f2328;line-height:1.5}
nav.site{background:#1f3b57;padding:.6rem 1.2rem;display:flex;gap:1.2rem;flex-wrap:wrap;align-items:center}
nav.site a{color:#fff;text-decoration:none;font-weight:500} nav.site a.brand{font-size:1.15rem;font-weight:700;margin-right:1rem}
main.page{max-width:1000px;margin:1.5rem auto;padding:0 1.2rem}
pre,code{background:#f6f8fa;border-radius:4px} pre{padding:.8rem;overflow:auto}
table{border-collapse:collapse} td,th{border:1px solid #d0d7de;padding:.3rem .6rem}
.sym{border-left:4px solid #1f3b57;padding:.2rem 1rem;margin:1.2rem 0;background:#fafbfc}
.gallery img{max-width:100%;border:1px solid #d0d7de;margin:.5rem 0}
"""


def nav(prefix: str = "") -> str:
    links = [("index.html", "Home"), ("tutorials.html", "Notebooks"), ("api/index.html", "API"), ("reports.html", "Reports")]
    items = "".join(f'<a href="{prefix}{href}">{label}</a>' for href, label in links)
    return f'<nav class="site"><a class="brand" href="{prefix}index.html">speechnb</a>{items}</nav>'


def page(title: str, body: str, prefix: str = "") -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} – speechnb</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>{nav(prefix)}<main class='page'>{body}</main></body></html>")


def markdown(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return markdown2html_mistune(text)


def render_notebook(source: Path, target: Path, prefix: str = "") -> str:
    """Render a notebook with nbconvert's HTML exporter and put the site's navigation on top; returns its title."""
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(str(source), as_version=4)
    title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells
                  if c.cell_type == "markdown" and c.source.startswith("# ")), source.stem)
    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    body = body.replace("<body", f"<body data-speechnb-page='{html.escape(source.stem)}'", 1)
    close = body.index(">", body.index("<body")) + 1
    body = body[:close] + f"<style>{STYLE}</style>" + nav(prefix) + body[close:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return title


def api_pages(out: Path) -> list[tuple[str, str]]:
    """One page per exported module: signature and docstring of every symbol in nbdev's index."""
    from speechnb._modidx import d
    modules = []
    for module_name, symbols in sorted(d["syms"].items()):
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # a module that cannot import is listed with its reason, not dropped silently
            print(f"warning: cannot import {module_name}: {exc}", file=sys.stderr)
            module = None
        short = module_name.split(".", 1)[1]
        doc = inspect.getdoc(module) if module else ""
        parts = [f"<h1><code>{module_name}</code></h1>", f"<p>{html.escape(doc or '')}</p>"]
        for qualname, (doc_link, _) in symbols.items():
            obj = module
            for attr in qualname.split(".")[2:]:
                obj = getattr(obj, attr, None)
            name = qualname.split(".", 2)[2]
            if obj is None or name.startswith("_") or "._" in name:
                continue
            try:
                signature = str(inspect.signature(obj)) if callable(obj) else ""
            except (TypeError, ValueError):
                signature = ""
            notebook_page = doc_link.split("#")[0]
            parts.append(f"<div class='sym' id='{html.escape(name.lower())}'><h3><code>{html.escape(name)}{html.escape(signature)}</code></h3>"
                         f"<p>{html.escape(inspect.getdoc(obj) or '')}</p>"
                         f"<p><a href='../{html.escape(notebook_page)}'>in the notebook</a></p></div>")
        (out / "api" / f"{short}.html").write_text(page(module_name, "\n".join(parts), "../"), encoding="utf-8")
        modules.append((short, doc.splitlines()[0] if doc else ""))
    items = "".join(f"<li><a href='{m}.html'><code>speechnb.{m}</code></a> {html.escape(s)}</li>" for m, s in modules)
    (out / "api" / "index.html").write_text(page("API reference", f"<h1>API reference</h1><ul>{items}</ul>", "../"), encoding="utf-8")
    return modules


def build(out: Path = ROOT / "_docs", process: bool = True) -> Path:
    """Build the whole site into `out` and return the path of its index page."""
    if out.exists():
        shutil.rmtree(out)
    (out / "api").mkdir(parents=True)
    notebooks = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith("_"))
    if process:
        import nbdev.processors
        from nbdev.serve import proc_nbs
        # nbdev evaluates, while processing, every cell containing an import statement anywhere (nested
        # ones too), which runs test cells out of context. The docs need only the exported code (for
        # show_doc), so evaluate only cells with export-like directives. n_workers=0 keeps the
        # processing in this process, where the patch applies.
        evaluates = nbdev.processors._do_eval
        nbdev.processors._do_eval = lambda cell: bool(evaluates(cell)) and bool(
            cell.directives_.keys() & {"export", "exports", "exporti", "exec_doc"})
        proc_dir = proc_nbs(path=str(ROOT / "nbs"), n_workers=0, force=True)
        notebooks = sorted(p for p in Path(proc_dir).glob("*.ipynb") if not p.name.startswith("_"))
    listing = []
    for nb in notebooks:
        target = out / f"{nb.stem.split('_', 1)[-1]}.html"
        listing.append((target.name, render_notebook(nb, target)))
    executed = sorted((ROOT / "reports" / "executed").glob("*.ipynb"))
    runs = [(f"experiments/{nb.stem}.html", render_notebook(nb, out / "experiments" / f"{nb.stem}.html", "../")) for nb in executed]
    modules = api_pages(out)
    lib = "".join(f"<li><a href='{href}'>{html.escape(title)}</a></li>" for href, title in listing)
    exp = "".join(f"<li><a href='{href}'>{html.escape(title)}</a></li>" for href, title in runs) or "<li>none yet: run <code>make reproduce</code></li>"
    (out / "tutorials.html").write_text(page("Notebooks", f"<h1>Library notebooks</h1><ul>{lib}</ul><h1>Experiments (executed)</h1><ul>{exp}</ul>"), encoding="utf-8")
    figures = sorted((ROOT / "reports" / "figures").glob("*.png"))
    if figures:
        (out / "figures").mkdir()
    gallery = []
    for fig in figures:
        shutil.copy2(fig, out / "figures" / fig.name)
        gallery.append(f"<h3>{html.escape(fig.stem)}</h3><img src='figures/{html.escape(fig.name)}' alt='{html.escape(fig.stem)}'>")
    tables = [f"<h3>{html.escape(t.stem)}</h3>{markdown(t.read_text())}" for t in sorted((ROOT / "reports" / "tables").glob("*.md"))]
    (out / "reports.html").write_text(page("Reports", "<h1>Reports</h1><div class='gallery'>" + ("".join(gallery) or "<p>No figures yet: run <code>make reproduce</code>.</p>")
                                              + "</div><h2>Tables</h2>" + ("".join(tables) or "<p>No tables yet.</p>")), encoding="utf-8")
    readme = markdown((ROOT / "README.md").read_text())
    api_list = "".join(f"<li><a href='api/{m}.html'><code>speechnb.{m}</code></a></li>" for m, _ in modules)
    (out / "index.html").write_text(page("speechnb", readme + f"<h2>API</h2><ul>{api_list}</ul>"), encoding="utf-8")
    (out / ".nojekyll").write_text("")
    return out / "index.html"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "_docs"))
    parser.add_argument("--no-process", action="store_true", help="render the notebooks as they are (skip nbdev processing)")
    args = parser.parse_args()
    index = build(Path(args.out), process=not args.no_process)
    print(f"docs site: {index}")
