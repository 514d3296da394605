"""Rules the code base keeps: no import circles among speechnb modules, small functions, one module per public name,
no reference to a file outside the repository. Each rule is checked on the repository and, to show the check can
fail, on a small example that breaks it."""

import ast
import graphlib
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from speechnb import reproduce
from speechnb.reproduce import module_graph

ROOT = Path(__file__).resolve().parents[1]

# --- import circles ---------------------------------------------------------------------------------------------
# The graph counts imports inside functions as well as those at the top of a module. A function-level import is
# still a dependency: the module cannot do its work without the other one, and the pipeline's staleness check
# (`speechnb.reproduce.step_modules`) follows the same edges. Deferring an import hides a circle from Python's
# import machinery; it does not remove the circle from the design.


def import_circle(graph: dict) -> list | None:
    "A circle of modules in `graph` (module -> modules it imports), or None."
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return error.args[1]
    return None


def test_speechnb_modules_import_no_circle():
    circle = import_circle(module_graph(ROOT))
    assert circle is None, f"import circle: {' -> '.join(circle)}"


def test_a_circle_through_a_function_level_import_is_found(tmp_path):
    package = tmp_path / "speechnb"
    package.mkdir()
    (package / "a.py").write_text("from .core import x\n\ndef f():\n    from speechnb.b import g\n    return g()\n")
    (package / "b.py").write_text("import speechnb.a\n\ndef g():\n    return 1\n")
    (package / "core.py").write_text("x = 1\n")
    circle = import_circle(module_graph(tmp_path))
    assert circle is not None and set(circle) == {"a", "b"}


# --- layers -----------------------------------------------------------------------------------------------------
# speechnb/ is the foundation (core, config, models, engines, audio, whisper, compare, reporting, reproduce);
# speechnb/judge is the LLM judge that both research lines are measured with; speechnb/speechworthy and
# speechnb/speech_prompt are the two research lines. An import stays in its layer or points down (a line to the judge or
# the foundation, the judge to the foundation): a line never imports the other line, and nothing imports a layer above
# it.
LAYERS = {"": 0, "judge": 1, "speechworthy": 2, "speech_prompt": 2}


def layer_of(module: str) -> str:
    "The subpackage a dotted module name lives in ('' for the foundation)."
    return module.split(".")[0] if "." in module else ""


def layering_violations(graph: dict) -> list[str]:
    "Imports that point up a layer or across to the other research line, as 'module -> imported'."
    found = []
    for module, imports in graph.items():
        for other in imports:
            here, there = layer_of(module), layer_of(other)
            if here != there and LAYERS[there] >= LAYERS[here]:
                found.append(f"{module} -> {other}")
    return sorted(found)


def test_the_two_research_lines_never_import_each_other():
    graph = module_graph(ROOT)
    assert {layer_of(m) for m in graph} == set(LAYERS), "a module outside the known subpackages"
    assert not layering_violations(graph), layering_violations(graph)


def test_a_crossing_between_the_lines_is_found(tmp_path):
    package = tmp_path / "speechnb"
    for folder in ("judge", "speechworthy", "speech_prompt"):
        (package / folder).mkdir(parents=True)
    (package / "core.py").write_text("def f():\n    from speechnb.judge.rubrics import r\n")
    (package / "judge" / "rubrics.py").write_text("from ..core import f\nr = 1\n")
    (package / "speechworthy" / "reward.py").write_text(
        "from ..speech_prompt.distill import d\nfrom ..judge import rubrics\n"
    )
    (package / "speech_prompt" / "distill.py").write_text("from ..judge.rubrics import r\nd = 1\n")
    assert layering_violations(module_graph(tmp_path)) == [
        "core -> judge.rubrics",
        "speechworthy.reward -> speech_prompt.distill",
    ]


# --- function length --------------------------------------------------------------------------------------------
MAX_FUNCTION_LINES = 50  # statements of a module-level function or method, docstring included, signature not
# (docments put one parameter per line: a long parameter list is documentation, not logic)

# Current offenders in modules whose owners are splitting them (issue 21). Each entry is the length when it was
# listed: the test fails if the function grows, and once it is within the limit (then delete its entry). The lead
# shrinks this to empty.
LONG_FUNCTIONS = {}


def function_lengths(source: str) -> dict[str, int]:
    "Body length of every module-level function and method of a module-level class, by (qualified) name."
    lengths = {}
    for node in ast.parse(source).body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}." if isinstance(node, ast.ClassDef) else ""
        for member in members:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lengths[prefix + member.name] = member.end_lineno - member.body[0].lineno + 1
    return lengths


def module_files(root: Path) -> dict[str, Path]:
    "Every speechnb module file by its path below speechnb/ ('core.py', 'judge/rubrics.py'), as reproduce lists them."
    return {path.relative_to(root / "speechnb").as_posix(): path for path in reproduce.module_files(root).values()}


def long_functions(root: Path) -> dict[str, int]:
    "Every function of `root`/speechnb over the limit, as 'speechnb/module.py:name' -> length."
    found = {}
    for relative, path in module_files(root).items():
        for name, length in function_lengths(path.read_text(encoding="utf-8")).items():
            if length > MAX_FUNCTION_LINES:
                found[f"speechnb/{relative}:{name}"] = length
    return found


def test_functions_stay_small():
    found = long_functions(ROOT)
    new = {name: n for name, n in found.items() if name not in LONG_FUNCTIONS}
    grown = {name: n for name, n in found.items() if name in LONG_FUNCTIONS and n > LONG_FUNCTIONS[name]}
    fixed = sorted(set(LONG_FUNCTIONS) - set(found))
    assert not new, f"functions over {MAX_FUNCTION_LINES} lines: {new} (split them into named parts)"
    assert not grown, f"listed long functions grew: {grown} (listed: {LONG_FUNCTIONS})"
    assert not fixed, f"within the limit now, delete from LONG_FUNCTIONS: {fixed}"


def test_a_long_function_is_found():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = 'def short():\n    "Fine."\n    return 1\n\nclass C:\n    def long(self):\n        "Too long."\n'
    source += textwrap.indent(body, "    ") + "\n"
    assert function_lengths(source) == {"short": 2, "C.long": MAX_FUNCTION_LINES + 1}


# --- one implementation of each piece of machinery -----------------------------------------------------------------
# Saving a folder whole, talking to an OpenAI-compatible server, caching model outputs and Krippendorff's alpha each
# live in one module; everything else calls it. A pattern below found anywhere else is a second copy.
TWINS = {
    "a folder swapped in by hand (use core.atomic_folder)": (
        r"mkdtemp\(dir=|os\.replace\([^)]*(staging|old|previous)",
        "core.py",
    ),
    "an HTTP client for chat completions (use engines.OpenAIChat)": (
        r"urllib\.request\.Request\(|chat/completions",
        "engines.py",
    ),
    "Krippendorff's alpha (use compare.reliability_alpha)": (r"krippendorff\.alpha\(", "compare.py"),
    "a cache of model outputs (use engines.ContentCache)": (
        r"^class \w*Cache\b(?![^\n]*ContentCache)(?!(?:[^\n]*\n){1,5}[^\n]*ContentCache)",  # not built on it
        "engines.py",
    ),
}


def twin_implementations(root: Path) -> dict[str, list[str]]:
    "Places outside the one allowed module where each piece of machinery is written again: what -> files."
    found = {}
    for what, (pattern, home) in TWINS.items():
        for relative, path in module_files(root).items():
            if relative != home and re.search(pattern, path.read_text(encoding="utf-8"), flags=re.M):
                found.setdefault(what, []).append(relative)
    return found


def test_machinery_is_written_once():
    assert not twin_implementations(ROOT), twin_implementations(ROOT)


def test_a_second_copy_is_found(tmp_path):
    (tmp_path / "speechnb").mkdir()
    (tmp_path / "speechnb" / "trainer.py").write_text(
        "staging = Path(tempfile.mkdtemp(dir=out.parent))\nos.replace(staging, out)\n"
        "class ScoreCache:\n    def __init__(self):\n        self.folder = cache_dir('x')\n"
        "request = urllib.request.Request(url)\nkrippendorff.alpha(reliability_data=m)\n"
    )
    (tmp_path / "speechnb" / "ok.py").write_text("class JudgeCache(ContentCache):\n    pass\n")
    assert set(twin_implementations(tmp_path)) == set(TWINS)
    assert all(files == ["trainer.py"] for files in twin_implementations(tmp_path).values())


# --- references outside the repository --------------------------------------------------------------------------
# A design note, a shared folder or a developer's checkout is not part of the repository: a clone has none of them.
OUTSIDE = re.compile(r"\bDESIGN\.md\b|(?<![\w.~-])/w[o]rk/|\.\./shared\b")

# Current references in files whose owners are removing them (issue 21); the lead shrinks this to empty. The test
# fails on any other file, and on a listed file that no longer has one (delete its entry).
OUTSIDE_REFERENCES: set[str] = set()


def files_referring_outside(root: Path, paths: list[str]) -> dict[str, str]:
    "Text files among `paths` (relative to `root`) that mention a file outside the repository: path -> first match."
    found = {}
    for path in paths:
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary files (figures, weights) and files deleted in the work tree
        match = OUTSIDE.search(text)
        if match:
            found[path] = match.group(0)
    return found


def test_no_file_refers_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = files_referring_outside(ROOT, tracked)
    new = {path: what for path, what in found.items() if path not in OUTSIDE_REFERENCES}
    fixed = sorted(OUTSIDE_REFERENCES - set(found))
    assert not new, f"references to files outside the repository: {new}"
    assert not fixed, f"no outside reference left, delete from OUTSIDE_REFERENCES: {fixed}"


def test_outside_references_are_found(tmp_path):
    design, work, shared = "DESIGN" + ".md", "/" + "work/", ".." + "/shared"  # built here: this file must not match
    samples = {
        "a.md": f"see {design} for details",
        "b.py": f"path = '{work}main/x'",
        "c.txt": f"cp {shared}/notes .",
        "d.py": "ok = 'reports/figures'",
        "e.bin": b"\xff\xfe " + design.encode(),
    }
    for name, content in samples.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    assert sorted(files_referring_outside(tmp_path, list(samples))) == ["a.md", "b.py", "c.txt"]


# --- one module per public name ---------------------------------------------------------------------------------
# Two modules exporting the same name (`aggregate`, `load_pairs`) make readers guess which one a notebook means.
# A module's own logger, `log`, is the one name every module may have.
SHARED_NAMES_ALLOWED = {"log"}
# Current duplicates in modules whose owners are renaming or removing theirs (issue 21); the lead shrinks this.
DUPLICATE_NAMES: set[str] = set()


def exported_names(root: Path) -> dict[str, list[str]]:
    "Each name in a speechnb module's `__all__` -> the modules that export it."
    where = {}
    for relative, path in module_files(root).items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                for name in ast.literal_eval(node.value):
                    where.setdefault(name, []).append(relative.removesuffix(".py").replace("/", "."))
    return where


def test_public_names_are_defined_once():
    duplicated = {
        name: modules
        for name, modules in exported_names(ROOT).items()
        if len(modules) > 1 and name not in SHARED_NAMES_ALLOWED
    }
    new = {name: modules for name, modules in duplicated.items() if name not in DUPLICATE_NAMES}
    fixed = sorted(DUPLICATE_NAMES - set(duplicated))
    assert not new, f"names exported by more than one module: {new}"
    assert not fixed, f"no longer duplicated, delete from DUPLICATE_NAMES: {fixed}"


# Commands whose module needs these at import time, and why (the list only shrinks): audio modules hold numpy
# arrays. (distill and ask parse with `speechnb.speech_prompt.distill_cli` before the torch-heavy distillation module
# loads.)
HEAVY_HELP = {"speak": {"numpy"}, "transcribe": {"numpy"}}


def _commands() -> list[str]:
    from speechnb.cli import COMMANDS

    return list(COMMANDS)


@pytest.mark.parametrize("command", _commands())
def test_help_of_every_command_shows_an_example(command):
    """Every command's --help has an example and no heavy import on its path beyond its listed ones (timing stays
    out of tests: `--help` times are measured by hand and reported)."""
    import sys

    probe = (
        "import sys; from speechnb.cli import run_command\n"
        "try:\n    run_command([sys.argv[1], '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'transformers', 'trl', 'spacy', 'pandas', 'numpy')\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe, command], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    heavy = set(re.search(r"HEAVY \[(.*)\]", done.stdout).group(1).replace("'", "").replace(" ", "").split(",")) - {""}
    assert "example" in done.stdout, done.stdout[-800:]
    assert heavy <= HEAVY_HELP.get(command, set()), f"{command} --help imports {sorted(heavy)}"
