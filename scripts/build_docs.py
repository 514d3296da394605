#!/usr/bin/env python
"""Build the speechnb docs site offline into _docs/ (`make docs`).

Every library notebook is executed (nbclient, the Jupyter kernel papermill uses; cells flagged like
settings.ini's `tst_flags` are shown but not run) and rendered with its outputs: tables, figures, audio
players. Each exported cell becomes the rendered `show_doc` of what it defines, from the module itself, so
parameter tables come from docments (dataclass configs included); its source stays one click away.
The site also has an API page per module, a page of every step's config, the design page (docs/design.md),
the executed experiment notebooks of the last `make reproduce` (reports/executed/) and the reports, with a
search box over all of it that works from `file://`.

Why not Quarto (nbdev_docs): it is not installable offline here. Why not MkDocs or Sphinx with a notebook
plugin: neither is installed, and neither knows nbdev's directives (`#| export`, `#| hide`) or renders
`show_doc`, so nbdev-specific processing would be needed anyway; this script is that processing plus an HTML
writer, on what the project already installs (nbclient, nbformat, mistune through nbconvert, pygments,
nbdev.showdoc). Executed notebooks are cached in _proc/docs/ by the content of the notebook and of the speechnb
modules it imports (found as `speechnb reproduce` finds a step's), so a rebuild executes only what changed.
"""

from __future__ import annotations

import argparse
import ast
import base64
import configparser
import hashlib
import html
import importlib
import inspect
import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_proc" / "docs"
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1f2328;line-height:1.5}
nav.site{background:#1f3b57;padding:.6rem 1.2rem;display:flex;gap:1.2rem;flex-wrap:wrap;align-items:center}
nav.site a{color:#fff;text-decoration:none;font-weight:500}
nav.site a.brand{font-size:1.15rem;font-weight:700;margin-right:1rem}
nav.site input{margin-left:auto;padding:.25rem .5rem;border-radius:4px;border:0;min-width:14rem}
#search-results{max-width:1000px;margin:0 auto;padding:0 1.2rem} #search-results li{margin:.3rem 0}
div.layout{display:grid;grid-template-columns:15rem minmax(0,1fr) 13rem;gap:1.5rem;max-width:1400px;margin:0 auto}
aside.sidebar,aside.contents{position:sticky;top:0;align-self:start;max-height:100vh;overflow-y:auto}
aside.sidebar,aside.contents{padding:1rem 0;font-size:.9rem;overflow-x:hidden;overflow-wrap:anywhere}
aside.sidebar{padding-left:1rem} aside h4{margin:.8rem 0 .3rem;color:#57606a;font-size:.8rem;text-transform:uppercase}
aside ul{list-style:none;padding:0;margin:0} aside li{margin:.15rem 0} aside a{color:#1f3b57;text-decoration:none}
aside a.current{font-weight:700} aside.contents li.h3{padding-left:.8rem}
main.page{min-width:0;margin:1.5rem 0;padding:0 .5rem}
@media (max-width:1000px){div.layout{grid-template-columns:minmax(0,1fr)} aside.sidebar,aside.contents{display:none}}
.table-wrap{overflow-x:auto;max-width:100%} .output{overflow-x:auto}
pre,code{background:#f6f8fa;border-radius:4px;font-size:.92em} pre{padding:.7rem;overflow:auto}
table{border-collapse:collapse;margin:.6rem 0}
td{overflow-wrap:break-word} td,th{border:1px solid #d0d7de;padding:.25rem .55rem;vertical-align:top}
.lead{font-size:1.1rem;color:#57606a} .cell{margin:.8rem 0} .output{margin:.3rem 0 .9rem 1rem}
.output pre{background:#fff;border-left:3px solid #d0d7de} .output img{max-width:100%}
.error pre{border-left-color:#cf222e}
.sym{border-left:4px solid #1f3b57;padding:.2rem 1rem;margin:1.2rem 0;background:#fafbfc}
.sym blockquote{margin:0} .skipped{color:#57606a;font-size:.9em} details{margin:.3rem 0}
.gallery img{max-width:100%;border:1px solid #d0d7de;margin:.5rem 0}
a.anchor-link{margin-left:.3rem;text-decoration:none;color:#57606a;visibility:hidden}
:is(h1,h2,h3,h4):hover a.anchor-link{visibility:visible} .unfinished{border-left:4px solid #bf8700;padding:.3rem .8rem}
"""
# A search over a prebuilt index, by hand: the site must work from file:// (no fetch of a JSON file there) and
# offline, and no search library (lunr.js and the like) is installed; ranking is "every word present", title first.
SEARCH_JS = """
function inTitle(entry, words) { return words.every(w => entry.title.toLowerCase().includes(w)); }
function speechnbSearch(query) {
  const box = document.getElementById('search-results');
  const words = query.toLowerCase().split(/\\s+/).filter(Boolean);
  box.innerHTML = ''; if (!words.length) return;
  const hits = SEARCH_INDEX.filter(e => words.every(w => (e.title + ' ' + e.text).toLowerCase().includes(w)))
    .sort((a, b) => inTitle(b, words) - inTitle(a, words));
  const list = document.createElement('ul'); list.id = 'search-hits';
  for (const e of hits.slice(0, 30)) {
    const item = document.createElement('li'); const link = document.createElement('a');
    link.href = SEARCH_PREFIX + e.url; link.textContent = e.title; item.appendChild(link); list.appendChild(item);
  }
  box.appendChild(document.createTextNode(hits.length + ' result(s) for "' + query + '"')); box.appendChild(list);
}
"""
OUTPUT_ORDER = ("text/html", "image/png", "image/svg+xml", "text/markdown", "text/plain")


def nav(prefix: str = "") -> str:
    links = [
        ("index.html", "Home"),
        ("design.html", "Design"),
        ("notebooks.html", "Notebooks"),
        ("api/index.html", "API"),
        ("configs.html", "Configs"),
        ("reports.html", "Reports"),
    ]
    items = "".join(f'<a href="{prefix}{href}">{label}</a>' for href, label in links)
    search = (
        '<input id="search" type="search" placeholder="Search the docs" aria-label="Search" '
        'oninput="speechnbSearch(this.value)">'
    )
    return f'<nav class="site"><a class="brand" href="{prefix}index.html">speechnb</a>{items}{search}</nav>'


# The sidebar groups the library notebooks as the package does: the foundation (nbs/), the judge both lines are measured
# with (nbs/judge), and the two research lines (nbs/speechworthy, nbs/speech_prompt).
SECTIONS = (
    ("Foundations", ""),
    ("The LLM judge", "judge"),
    ("Speechworthy answers", "speechworthy"),
    ("Prompting with audio", "speech_prompt"),
)


def sidebar(current: str = "", prefix: str = "") -> str:
    "The left column: every library notebook page, grouped by research line; the current page in bold."
    parts = []
    for heading, folder in SECTIONS:
        links = []
        for path in library_notebooks(None):
            stem = path.stem.partition("_")[2]
            if path.parent.relative_to(ROOT / "nbs").as_posix().strip(".") == folder:
                mark = " class='current'" if current == f"{stem}.html" else ""
                links.append(f"<li><a{mark} href='{prefix}{stem}.html'>{html.escape(stem.replace('_', ' '))}</a></li>")
        parts.append(f"<h4>{heading}</h4><ul>{''.join(links)}</ul>")
    return f"<aside class='sidebar' aria-label='Notebooks'>{''.join(parts)}</aside>"


def with_anchors(body: str) -> tuple[str, str]:
    "Give every h2/h3 an id and return (body, the 'On this page' list linking to them)."
    entries, seen = [], set()

    def anchor(match):
        level, attrs, inner = match.group(1), match.group(2), match.group(3)
        found = re.search(r"""\sid=(?:"([^"]*)"|'([^']*)')""", attrs)
        old = (found.group(1) or found.group(2)) if found else None
        # keep an id that is safe in a URL fragment (show_doc's names); mistune's can hold quotes: make a slug
        ident = old if old and re.fullmatch(r"[\w.:%-]+", old) else None
        ident = ident or re.sub(r"[^a-z0-9]+", "-", plain_text(inner).lower()).strip("-") or "part"
        while ident in seen:
            ident += "-"
        seen.add(ident)
        if old is not None:
            attrs = attrs.replace(found.group(0), "")
            inner = inner.replace(f'href="#{old}"', f'href="#{ident}"')  # mistune's permalink follows
        label = html.escape(plain_text(inner).rstrip("¶ "))  # mistune's heading permalink sign stays in the page
        entries.append(f"<li class='h{level}'><a href='#{ident}'>{label}</a></li>")
        return f"<h{level}{attrs} id='{ident}'>{inner}</h{level}>"

    body = re.sub(r"<h([23])([^>]*)>(.*?)</h\1>", anchor, body, flags=re.S)
    contents = f"<aside class='contents' aria-label='On this page'><h4>On this page</h4><ul>{''.join(entries)}</ul>"
    return body, (contents + "</aside>" if entries else "<aside class='contents'></aside>")


def page(title: str, body: str, prefix: str = "", current: str = "") -> str:
    scripts = (
        f"<script src='{prefix}search_index.js'></script><script>const SEARCH_PREFIX = '{prefix}';{SEARCH_JS}</script>"
    )
    wrapped = re.sub(r"(<table\b.*?</table>)", r"<div class='table-wrap'>\1</div>", body, flags=re.S)
    body, contents = with_anchors(wrapped)
    full_title = title if title == "speechnb" else f"{title} – speechnb"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(full_title)}</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style>"
        f"{highlight_css()}{scripts}</head><body>{nav(prefix)}<div id='search-results'></div>"
        f"<div class='layout'>{sidebar(current, prefix)}<main class='page'>{body}</main>{contents}</div></body></html>"
    )


def markdown(text: str) -> str:
    "Markdown to HTML (tables, inline code, raw HTML), with Quarto's `{...}` link attributes (from show_doc) dropped."
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(re.sub(r"\)\{[^}\n]*\}", ")", text))


def highlight(code: str) -> str:
    from pygments import highlight as pyg
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return pyg(code, PythonLexer(), HtmlFormatter(nowrap=False, cssclass="code"))


def highlight_css() -> str:
    from pygments.formatters import HtmlFormatter

    return f"<style>{HtmlFormatter(style='default').get_style_defs('.code')}</style>"


def plain_text(markup: str) -> str:
    "The words of an HTML fragment, for the search index."
    return " ".join(
        html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S))).split()
    )


# --- notebooks: execute, then turn nbdev's conventions into a page ----------------------------------------------


def directives(source: str) -> dict[str, list[str]]:
    "nbdev's `#| name args` lines at the top of a cell."
    found = {}
    for line in source.splitlines():
        if not line.startswith("#|"):
            break
        name, *args = line[2:].split()
        found[name] = args
    return found


def skip_flags() -> set[str]:
    "settings.ini's `tst_flags`: cells flagged with these are not run (as under nbdev_test)."
    config = configparser.ConfigParser()
    config.read(ROOT / "settings.ini")
    return set(config["DEFAULT"].get("tst_flags", "").split())


def cache_key(path: Path) -> str:
    """What an executed notebook depends on: its cells (not their stored outputs: storing them must not make the next
    build execute the notebook again), the speechnb modules it uses (as the pipeline derives them), the configs."""
    from speechnb.reproduce import module_graph, notebook_source, used_modules

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    inputs = [(c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("tags")) for c in cells]
    digest = hashlib.sha256(json.dumps(inputs).encode())
    for name in used_modules(notebook_source(path), module_graph(ROOT)):
        digest.update((ROOT / "speechnb" / f"{name.replace('.', '/')}.py").read_bytes())
    for config in sorted((ROOT / "configs").rglob("*.yaml")):
        digest.update(config.read_bytes())
    return digest.hexdigest()[:16]


def execute(path: Path, use_cache: bool = True):
    "The notebook executed from its own folder with the project's kernel (cached by `cache_key`)."
    import nbformat
    from nbclient import NotebookClient

    cached = CACHE / f"{path.stem}.{cache_key(path)}.ipynb"
    if use_cache and cached.is_file():
        return nbformat.read(str(cached), as_version=4)
    nb = nbformat.read(str(path), as_version=4)
    flags = skip_flags()
    for cell in nb.cells:
        if cell.cell_type == "code" and flags & set(directives(cell.source)):
            cell.metadata.setdefault("tags", []).append("skip-execution")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the kernel's debugger warning, once per notebook
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    NotebookClient(
        nb,
        kernel_name="python3",
        extra_arguments=["--log-level=ERROR"],  # not the kernel's transport warning once per notebook
        timeout=1200,
        skip_cells_with_tag="skip-execution",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"{path.stem}.*.ipynb"):
        stale.unlink()
    nbformat.write(nb, str(cached))
    return nb


def title_of(nb, fallback: str) -> tuple[str, str]:
    "(title, description) from the first Markdown cell's `# Title` and `> description` (nbdev's front matter)."
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("---"):
            fields = dict(re.findall(r"^(\w+):\s*(.+)$", cell.source, flags=re.M))
            if "title" in fields:
                return fields["title"].strip("'\""), fields.get("description", "").strip("'\"")
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            lines = cell.source.strip().splitlines()
            description = next((line.lstrip("> ").strip() for line in lines[1:] if line.startswith(">")), "")
            return lines[0][2:].strip(), description
    return fallback, ""


def defined_names(source: str) -> list[str]:
    "Public functions and classes a cell defines at top level."
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")
    ]


def symbol_doc(module, name: str) -> str:
    "show_doc of `module.name` as HTML: signature, docstring and the docments parameter table."
    from nbdev.showdoc import show_doc

    obj = getattr(module, name)
    rendered = show_doc(obj, title_level=3)._repr_markdown_()
    # nbdev's show_doc cannot find line numbers in generated modules (it writes "#LNone"): use inspect's
    try:
        line = f"#L{inspect.getsourcelines(obj)[1]}"
    except (OSError, TypeError):
        line = ""
    rendered = rendered.replace("#LNone", line)
    return f"<div class='sym' id='{html.escape(name.lower())}'>{markdown(rendered)}</div>"


def render_output(output) -> str:
    "One cell output as HTML: HTML (tables, audio players) as is, images inline, Markdown rendered, text preformatted."
    if output.output_type == "stream":
        return f"<pre>{html.escape(output.text)}</pre>"
    if output.output_type == "error":
        return f"<div class='error'><pre>{html.escape(output.ename + ': ' + output.evalue)}</pre></div>"
    data = output.get("data", {})
    kind = next((k for k in OUTPUT_ORDER if k in data), None)
    value = data.get(kind, "")
    if kind == "text/html":
        return value
    if kind == "image/png":
        return f"<img alt='figure' src='data:image/png;base64,{value.strip()}'>"
    if kind == "image/svg+xml":
        return f"<img alt='figure' src='data:image/svg+xml;base64,{base64.b64encode(value.encode()).decode()}'>"
    if kind == "text/markdown":
        return markdown(value)
    return f"<pre>{html.escape(value)}</pre>" if kind else ""


def render_cell(cell, module, flags: set[str]) -> str:
    "A cell as HTML following nbdev's conventions: hidden cells dropped, exported ones shown as their documentation."
    marks = directives(cell.source)
    if cell.cell_type == "markdown":
        return markdown(cell.source)
    if cell.cell_type != "code" or "hide" in marks or "default_exp" in marks or not cell.source.strip():
        return ""
    code = "\n".join(line for line in cell.source.splitlines() if not line.startswith("#|")).strip()
    if ({"export", "exports", "exporti"} & set(marks)) and module is not None:
        docs = "".join(symbol_doc(module, name) for name in defined_names(code) if hasattr(module, name))
        return f"{docs}<details><summary>source</summary>{highlight(code)}</details>" if code else ""
    skipped = sorted(flags & set(marks))
    note = f"<p class='skipped'>not run when building the docs (flagged {', '.join(skipped)})</p>" if skipped else ""
    outputs = "".join(render_output(output) for output in kept_outputs(cell.get("outputs", [])))
    return f"<div class='cell'>{highlight(code)}{note}<div class='output'>{outputs}</div></div>"


def notebook_module(nb):
    "The speechnb module a library notebook exports to (`#| default_exp name`), imported, or None."
    for cell in nb.cells:
        name = directives(cell.source).get("default_exp")
        if cell.cell_type == "code" and name:
            return importlib.import_module(f"speechnb.{name[0]}")
    return None


def render_notebook(nb, target: Path, fallback: str, prefix: str = "") -> dict:
    "Write one notebook page; returns its search entry (title, description, url, text)."
    title, description = title_of(nb, fallback)
    module, flags = notebook_module(nb), skip_flags()
    cells = list(nb.cells)
    if cells and cells[0].cell_type == "markdown" and cells[0].source.lstrip().startswith("# "):
        cells = cells[1:]  # the title cell: rendered as the page's heading and lead below
    body = "".join(
        render_cell(cell, module, flags)
        for cell in cells
        if not (cell.cell_type == "raw" and cell.source.startswith("---"))
    )
    head = f"<h1>{html.escape(title)}</h1>" + (f"<p class='lead'>{markdown(description)}</p>" if description else "")
    # an experiment executed by papermill that had not finished when the site was built (a run still going, or killed)
    states = [cell.metadata.get("papermill", {}).get("status") for cell in nb.cells if cell.cell_type == "code"]
    if "papermill" in nb.metadata and any(state in ("pending", "running") for state in states):
        done = states.count("completed")
        head += f"<p class='unfinished'>This run had not finished: {done} of {len(states)} code cells had run.</p>"
    target.parent.mkdir(parents=True, exist_ok=True)
    current = target.name if not prefix else ""
    target.write_text(page(title, head + body, prefix, current), encoding="utf-8")
    return dict(title=title, description=description, text=plain_text(body)[:20000])


# --- API, configs, reports ----------------------------------------------------------------------------------


def module_names() -> list[str]:
    "Every speechnb module by dotted name below the package: core, judge.rubrics, speechworthy.reward, ..."
    from speechnb.reproduce import module_files

    return sorted(module_files(ROOT))


def api_page(out: Path, name: str) -> tuple[str, list[dict]]:
    "One page per module: every name in `__all__`, functions and classes with their parameter tables."
    module = importlib.import_module(f"speechnb.{name}")
    summary = (inspect.getdoc(module) or "").splitlines()[0] if inspect.getdoc(module) else ""
    parts, entries = [f"<h1><code>speechnb.{name}</code></h1>", markdown(summary)], []
    for symbol in getattr(module, "__all__", []):
        obj = getattr(module, symbol)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            parts.append(symbol_doc(module, symbol))
            entries.append(
                dict(
                    title=f"speechnb.{name}.{symbol}",
                    url=f"api/{name}.html#{symbol.lower()}",
                    text=(inspect.getdoc(obj) or "")[:500],
                )
            )
        elif not symbol == "log":
            parts.append(
                f"<div class='sym' id='{symbol.lower()}'><h3><code>{html.escape(symbol)}</code></h3>"
                f"<pre>{html.escape(repr(obj)[:600])}</pre></div>"
            )
    (out / "api" / f"{name}.html").write_text(page(f"speechnb.{name}", "\n".join(parts), "../"), encoding="utf-8")
    return summary, entries


def step_configs() -> list[tuple[str, type]]:
    "Every config dataclass of a pipeline step: the `*Config` classes the speechnb modules export."
    import dataclasses

    found = []
    for name in module_names():
        module = importlib.import_module(f"speechnb.{name}")
        for symbol in getattr(module, "__all__", []):
            obj = getattr(module, symbol)
            if (
                inspect.isclass(obj)
                and dataclasses.is_dataclass(obj)
                and symbol.endswith("Config")
                and obj.__module__ == module.__name__
            ):
                found.append((f"speechnb.{name}.{symbol}", obj))
    return found


def configs_page(out: Path) -> dict:
    from speechnb.config import config_table

    parts = [
        "<h1>Configs</h1>",
        markdown(
            "Every step's settings are one dataclass: `configs/<profile>/<step>.yaml` is read into "
            "it, and every field is also a command-line flag. Keys in **bold** are sections. A number's type "
            "gives its allowed range; values outside it, NaN and ±inf are refused, from YAML and flags alike."
        ),
    ]
    for name, cls in step_configs():
        parts.append(
            f"<h2 id='{cls.__name__.lower()}'><code>{name}</code></h2>{markdown(inspect.getdoc(cls) or '')}"
            f"{markdown(config_table(cls))}"
        )
    body = "\n".join(parts)
    (out / "configs.html").write_text(page("Configs", body), encoding="utf-8")
    return dict(title="Configs", url="configs.html", text=plain_text(body)[:20000])


def shipped_checkpoint_cards() -> str:
    "The model cards of the checkpoints shipped in checkpoints/ (their headings one level down)."
    cards = sorted((ROOT / "checkpoints").glob("*/README.md"))
    demoted = [re.sub(r"(?m)^(#+) ", r"##\1 ", card.read_text(encoding="utf-8")) for card in cards]
    shown = [markdown(text) for text in demoted]
    return "<h2>Shipped checkpoints</h2>" + "".join(shown) if shown else ""


def reports_page(out: Path) -> dict:
    figures = sorted((ROOT / "reports" / "figures").glob("*.png"))
    if figures:
        (out / "figures").mkdir(exist_ok=True)
    gallery = []
    for fig in figures:
        shutil.copy2(fig, out / "figures" / fig.name)
        gallery.append(
            f"<h3>{html.escape(fig.stem)}</h3><img src='figures/{html.escape(fig.name)}' alt='{html.escape(fig.stem)}'>"
        )
    tables = [
        f"<h3>{html.escape(t.stem)}</h3>{markdown(t.read_text())}"
        for t in sorted((ROOT / "reports" / "tables").glob("*.md"))
    ]
    body = (
        "<h1>Reports</h1><div class='gallery'>"
        + ("".join(gallery) or "<p>No figures yet: run <code>make reproduce</code>.</p>")
        + "</div>"
        + shipped_checkpoint_cards()
        + "<h2>Tables</h2>"
        + ("".join(tables) or "<p>No tables yet.</p>")
    )
    (out / "reports.html").write_text(page("Reports", body), encoding="utf-8")
    return dict(title="Reports", url="reports.html", text=plain_text(body)[:20000])


# --- outputs stored in the source notebooks (`--store-outputs`) -------------------------------------------------

# Widget views (tqdm.auto's bars) point at a kernel that is gone; the text beside them is a placeholder.
DROPPED_MIME = ("application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json")


def stable_text(text: str) -> str:
    """Text an output prints, without what differs from run to run and machine to machine: a folder in the temporary
    folder (`tempfile`'s, whatever its prefix) and this checkout's folder are shown as `…`."""
    import tempfile

    text = text.replace(str(ROOT), "…")  # first: a checkout may itself sit in the temporary folder (a fresh clone)
    # not inside base64 (audio players, images), whose alphabet holds "/tmp/" by chance
    return re.sub(r"(?<![\w+/=])" + re.escape(tempfile.gettempdir()) + r"[/\\][^/\\\s'\"<>:,;()\[\]]+", "…", text)


def stable_output(output):
    "The output as it is stored in the source notebook, or None when it is dropped (stderr: warnings, progress bars)."
    if output.output_type == "stream":
        if output.name == "stderr":
            return None
        output.text = stable_text(output.text)
    if output.output_type in ("display_data", "execute_result"):
        data = {k: v for k, v in output.get("data", {}).items() if k not in DROPPED_MIME}
        if not data or len(data) < len(output.get("data", {})):
            return None  # a widget: its text/plain ("HBox(...)") says nothing without the kernel
        output.data = {k: stable_text(v) if k.startswith("text/") else v for k, v in data.items()}
        output.metadata = {}
    return output


def kept_outputs(outputs: list) -> list:
    "A cell's outputs as stored and shown: `stable_output`s, a run of stdout pieces (split by stderr) as one block."
    import copy

    kept = []
    for output in (stable_output(copy.deepcopy(o)) for o in outputs):
        last = kept[-1] if kept else None
        if output is None:
            continue
        if last and last.output_type == output.output_type == "stream" and last.name == output.name:
            last.text += output.text
        else:
            kept.append(output)
    return kept


def store_outputs(paths: list[Path], use_cache: bool = True) -> list[tuple[Path, str]]:
    """Execute each notebook (`execute`, so the docs' cache is shared) and write its outputs back into the source
    notebook: stderr and widgets dropped, flagged (`tst_flags`) cells left without output, then nbdev_clean (execution
    counts, `at 0x...` ids). A notebook that fails to execute is left as it is; returns the (path, error) of those."""
    import nbformat
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4.rwbase import split_lines

    flags, failed = skip_flags(), []
    for path in paths:
        print(f"storing outputs of {path.name}", file=sys.stderr, flush=True)
        try:
            done = execute(path, use_cache)
        except (CellExecutionError, TimeoutError, RuntimeError) as error:
            line = next((ln for ln in reversed(str(error).splitlines()) if ln.strip()), type(error).__name__)
            failed.append((path, re.sub(r"\x1b\[[0-9;]*m", "", line).strip()))
            print(f"  failed: {failed[-1][1]}", file=sys.stderr, flush=True)
            continue
        # the source as JSON, not through nbformat, whose writer gives an id to a cell without one
        nb = json.loads(path.read_text(encoding="utf-8"))
        if ["".join(c["source"]) for c in nb["cells"]] != [c.source for c in done.cells]:
            failed.append((path, "the notebook changed while it was executed"))
            continue
        for cell, ran in zip(nb["cells"], done.cells):
            if cell["cell_type"] != "code":
                continue
            ran_outputs = [] if flags & set(directives(ran.source)) else ran.get("outputs", [])
            cell["outputs"] = kept_outputs(ran_outputs)
        # text as lists of lines, as Jupyter saves it (line-based diffs)
        nb = split_lines(nbformat.from_dict(nb))
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    from nbdev.clean import nbdev_clean

    for path in paths:
        nbdev_clean.__wrapped__(fname=str(path))  # the plain function, not the command line parser
    return failed


# --- the site -----------------------------------------------------------------------------------------------


PIPELINE_FOLDERS = ("experiments", "paper")  # papermill notebooks: their pages come from reports/executed/


def library_notebooks(only: list[str] | None) -> list[Path]:
    "The library notebooks, in nbs/ and its subpackage folders, in the order of their numbers."
    found = sorted(
        (
            p
            for p in (ROOT / "nbs").rglob("*.ipynb")
            if not p.name.startswith(("_", "."))
            and p.stem != "index"
            and not set(p.relative_to(ROOT / "nbs").parts[:-1]) & {*PIPELINE_FOLDERS, ".ipynb_checkpoints"}
        ),
        key=lambda p: p.name,
    )
    return [p for p in found if not only or p.stem in only]


def notebook_pages(out: Path, only: list[str] | None, use_cache: bool) -> tuple[list[dict], list[dict]]:
    "The library notebooks (executed) and the executed experiments of the last `make reproduce`, as pages."
    import nbformat

    library, paths = [], library_notebooks(only)
    cold = [p for p in paths if not use_cache or not (CACHE / f"{p.stem}.{cache_key(p)}.ipynb").is_file()]
    if cold:
        print(
            f"{len(cold)} of {len(paths)} notebooks to execute (the rest are cached in _proc/docs/); a cold build of "
            "all of them takes about 10 minutes on 2 CPU cores",
            file=sys.stderr,
            flush=True,
        )
    for path in paths:
        print(f"{'executing' if path in cold else 'cached   '} {path.name}", file=sys.stderr, flush=True)
        href = f"{path.stem.split('_', 1)[-1]}.html"
        library.append({**render_notebook(execute(path, use_cache), out / href, path.stem), "url": href})
    experiments = []
    for path in sorted((ROOT / "reports" / "executed").glob("*.ipynb")):
        href = f"experiments/{path.stem}.html"
        experiments.append(
            {**render_notebook(nbformat.read(str(path), as_version=4), out / href, path.stem, "../"), "url": href}
        )
    return library, experiments


def listing(entries: list[dict], prefix: str = "") -> str:
    "An HTML list of links to `entries`, each with its description."
    inline = lambda text: markdown(text).strip().removeprefix("<p>").removesuffix("</p>")
    return "".join(
        f"<li><a href='{prefix}{e['url']}'>{html.escape(e['title'])}</a>"
        f"{' – ' + inline(e['description']) if e.get('description') else ''}</li>"
        for e in entries
    )


def build(out: Path = ROOT / "_docs", only: list[str] | None = None, use_cache: bool = True) -> Path:
    """Build the whole site into `out` and return the path of its index page."""
    if out.exists():
        shutil.rmtree(out)
    (out / "api").mkdir(parents=True)
    library, experiments = notebook_pages(out, only, use_cache)
    api_entries, modules = [], []
    for name in module_names():
        summary, entries = api_page(out, name)
        modules.append(dict(title=f"speechnb.{name}", url=f"api/{name}.html", description=summary))
        api_entries += entries
    (out / "api" / "index.html").write_text(
        page("API reference", f"<h1>API reference</h1><ul>{listing(modules, '../')}</ul>", "../"), encoding="utf-8"
    )
    none_yet = "<li>none yet: run <code>make reproduce</code></li>"
    (out / "notebooks.html").write_text(
        page(
            "Notebooks",
            f"<h1>Library notebooks</h1><ul>{listing(library)}</ul>"
            f"<h1>Experiments (executed)</h1><ul>{listing(experiments) or none_yet}</ul>",
        ),
        encoding="utf-8",
    )
    design = markdown((ROOT / "docs" / "design.md").read_text(encoding="utf-8"))
    (out / "design.html").write_text(page("Design", design), encoding="utf-8")
    readme = markdown((ROOT / "README.md").read_text(encoding="utf-8"))
    (out / "index.html").write_text(
        page("speechnb", readme + f"<h2>Notebooks</h2><ul>{listing(library)}</ul>"), encoding="utf-8"
    )
    search = [
        *library,
        *experiments,
        *modules,
        *api_entries,
        configs_page(out),
        reports_page(out),
        dict(title="Design", url="design.html", text=plain_text(design)),
        dict(title="speechnb", url="index.html", text=plain_text(readme)),
    ]
    index = [dict(title=e["title"], url=e["url"], text=e.get("text", "") or e.get("description", "")) for e in search]
    (out / "search_index.js").write_text("const SEARCH_INDEX = " + json.dumps(index) + ";\n", encoding="utf-8")
    (out / ".nojekyll").write_text("")
    return out / "index.html"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "_docs"), help="site folder (default: _docs/)")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NOTEBOOK",
        help="library notebooks to execute and render, by stem, e.g. 31_compare (default: all)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="execute every notebook again (default: reuse _proc/docs/)"
    )
    parser.add_argument(
        "--store-outputs",
        nargs="*",
        metavar="NOTEBOOK",
        help="instead of building the site, execute these notebooks (paths or stems; none: every library notebook) "
        "and store their outputs in them, as nbdev_clean leaves them",
    )
    args = parser.parse_args()
    if args.store_outputs is not None:
        stems = [Path(name).stem for name in args.store_outputs]
        failed = store_outputs(library_notebooks(stems or None), use_cache=not args.no_cache)
        for path, line in failed:
            print(f"not stored (failed to execute): {path.name}: {line}")
        sys.exit(1 if failed else 0)
    index = build(Path(args.out), args.only, use_cache=not args.no_cache)
    print(f"docs site: {index}")
