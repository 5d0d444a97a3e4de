"""Checks on the stored notebooks in chapters/ (no kernel needed).

nbval (a separate `make test` step) re-executes every chapter and compares outputs;
these tests check what nbval cannot: that the *stored* notebook is a clean, complete,
top-to-bottom run, that it is in the book, and that its citations resolve.

`check_notebook()` returns a list of human-readable problems; the tests at the end
feed it deliberately broken notebooks to prove that each check can fail.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
BIB = ROOT / "book" / "references.bib"
TOC = ROOT / "_toc.yml"

NAME_RE = re.compile(r"^\d{2}_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
CITE_RE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
BIB_KEY_RE = re.compile(r"^@(?!comment|string|preamble)\w+\s*\{\s*([^,\s]+)\s*,",
                        re.MULTILINE | re.IGNORECASE)
# nbval reads its instructions from cell tags (nbval 0.11), so readers never see them.
# The one allowed tag lets a cell's output change between runs ...
IGNORE_TAG = "nbval-ignore-output"
# ... and these would stop nbval from checking a cell at all: never allowed (a skipped
# check would be presented as passing).
FORBIDDEN_TAGS = ("nbval-skip", "nbval-raises-exception", "raises-exception")
# nbval also obeys comments such as `# NBVAL_IGNORE_OUTPUT` in the code, which readers
# would see: refused, whatever they say (use the tag instead).
COMMENT_MARKER_RE = re.compile(
    r"^\s*#+\s*(NBVAL_[A-Z_]+|PYTEST_VALIDATE_IGNORE_OUTPUT)\s*$", re.MULTILINE)
# Legitimate reasons for a cell's output to change between runs. A cell may carry the
# ignore tag only if its code matches one of these.
IGNORE_REASONS = {
    "interact": re.compile(r"\binteract(ive|_manual)?\b"),
    "widget": re.compile(r"widget|\b(Int|Float)(Range)?Slider\b|\bDropdown\b|\bPlay\b"
                         r"|\bToggleButtons?\b|\bCheckbox\b|\bjs(d)?link\b", re.IGNORECASE),
    "timing": re.compile(r"\btime\b|timeit|perf_counter|process_time|\bmonotonic\b"
                         r"|\bbest_time\b"),
    # memory measured with tracemalloc varies by allocator noise from run to run
    "memory": re.compile(r"\btracemalloc\b|\bmemory held\b"),
}
# (Animations are not a reason: book_tools.widgets.scrubbable_animation stores
# identical output on every run, so nbval checks it like any other output.)


# --------------------------------------------------------------------------- helpers

def bib_keys(path: Path = BIB) -> set[str]:
    return set(BIB_KEY_RE.findall(path.read_text(encoding="utf-8")))


def toc_files(path: Path = TOC) -> set[str]:
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.add(str(node[key]).removesuffix(".ipynb").removesuffix(".md"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def _strip_code(markdown: str) -> str:
    """Remove fenced code blocks and ``double-backtick`` spans (examples of syntax)."""
    markdown = re.sub(r"^(```|~~~).*?^\1", "", markdown, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"``.+?``", "", markdown, flags=re.DOTALL)


def cited_keys(markdown: str) -> list[str]:
    keys = []
    for group in CITE_RE.findall(_strip_code(markdown)):
        keys.extend(k.strip() for k in group.split(",") if k.strip())
    return keys


LIST_MARKER_RE = re.compile(r"^\s*([+*-]|\d+[.)])\s")


def math_broken_by_list_markers(markdown: str) -> list[str]:
    """Lines that start with ``+ ``, ``- ``, ``* `` or ``1. `` inside inline math.

    Markdown reads such a line as a list item, which cuts the ``$...$`` in two and leaves
    raw TeX on the page: wrap the line so that the operator ends the line before.
    """
    found, open_math, display = [], False, False
    # code fences go, directive fences (admonitions, solutions) hold prose and stay
    markdown = re.sub(r"^(```|~~~)(?!\{).*?^\1", "", markdown, flags=re.DOTALL | re.MULTILINE)
    for line in markdown.split("\n"):
        stripped = line.strip()
        if stripped.startswith("$$"):
            one_line = len(stripped) > 4 and stripped.endswith("$$")   # $$ x $$
            display = display if one_line else not display           # $$, $$ (label)
            continue
        if display:
            continue
        if open_math and LIST_MARKER_RE.match(line):
            found.append(line.strip()[:50])
        if line.replace("\\$", "").replace("$$", "").count("$") % 2:
            open_math = not open_math
    return found


def check_notebook(path: Path, *, toc: set[str] | None = None,
                   keys: set[str] | None = None, root: Path = ROOT) -> list[str]:
    """Return every problem found in the stored notebook at `path`."""
    problems: list[str] = []
    nb = nbformat.read(path, as_version=4)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        problems.append(f"invalid notebook: {exc.message}")

    if not NAME_RE.match(path.name):
        problems.append(f"file name {path.name!r} is not NN_slug.ipynb")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name is {kernel!r}, expected 'python3'")

    code = [(i, c) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip()]
    if not code:
        problems.append("no code cells")
    expected = 1
    n_outputs = 0
    for i, cell in code:
        where = f"cell {i}"
        count = cell.get("execution_count")
        if count is None:
            problems.append(f"{where}: never executed (execution_count is None); "
                            "run `make notebooks`")
        elif count != expected:
            problems.append(f"{where}: execution_count {count}, expected {expected}; "
                            "cells were run out of order or re-run "
                            "(run `make notebooks` for a fresh top-to-bottom run)")
        if count is not None:
            expected = count + 1
        for out in cell.get("outputs", []):
            n_outputs += 1
            if out.output_type == "error":
                problems.append(f"{where}: stored error output "
                                f"{out.get('ename')}: {out.get('evalue')}")
            elif (out.output_type == "stream" and out.get("name") == "stderr"
                  and "Traceback (most recent call last)" in out.get("text", "")):
                problems.append(f"{where}: stored traceback on stderr")
        tags = cell.get("metadata", {}).get("tags", [])
        for marker in COMMENT_MARKER_RE.findall(cell.source):
            problems.append(f"{where}: the comment `# {marker}` is shown to readers and "
                            "is not allowed; use the cell tag "
                            f"'{IGNORE_TAG}' (only for {', '.join(IGNORE_REASONS)})")
        for tag in FORBIDDEN_TAGS:
            if tag in tags:
                problems.append(f"{where}: the tag '{tag}' is not allowed: it hides a "
                                "cell from nbval; make the cell deterministic instead")
        if IGNORE_TAG in tags and not any(rx.search(cell.source)
                                          for rx in IGNORE_REASONS.values()):
            problems.append(
                f"{where}: tag '{IGNORE_TAG}' without a legitimate reason "
                f"(allowed only for {', '.join(IGNORE_REASONS)}); "
                "make the output deterministic instead")
    if code and n_outputs == 0:
        problems.append("no stored outputs at all; run `make notebooks`")

    if toc is not None:
        rel = path.resolve().relative_to(root.resolve()).with_suffix("").as_posix() \
            if path.resolve().is_relative_to(root.resolve()) else path.stem
        if rel not in toc:
            problems.append(f"{rel} is not listed in _toc.yml")

    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in math_broken_by_list_markers(cell.source):
                problems.append(f"cell {i}: {line!r} starts a list item inside inline "
                                "math ($...$ is cut in two on the page); move the "
                                "operator to the end of the line before")

    if keys is not None:
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for key in cited_keys(cell.source):
                if key not in keys:
                    problems.append(f"unknown citation key {key!r} "
                                    "(add it to book/references.bib)")
    return problems


# --------------------------------------------------------------------------- the book

@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_notebook(path):
    problems = check_notebook(path, toc=toc_files(), keys=bib_keys())
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_markdown_pages_cite_known_keys():
    keys = bib_keys()
    unknown = {}
    for page in sorted((ROOT / "book").rglob("*.md")):
        bad = [k for k in cited_keys(page.read_text(encoding="utf-8")) if k not in keys]
        if bad:
            unknown[str(page.relative_to(ROOT))] = bad
    assert not unknown, f"unknown {{cite}} keys: {unknown}"


def test_every_chapter_in_toc():
    toc = toc_files()
    missing = [p.name for p in CHAPTERS if f"chapters/{p.stem}" not in toc]
    assert not missing, f"chapters not listed in _toc.yml: {missing}"


# --------------------------------------------------------------------------- the checker

def _write(tmp_path: Path, cells, name="01_demo.ipynb", kernel="python3") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = cells
    path = tmp_path / "chapters" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _code(source, count, outputs=None, tags=None):
    cell = nbformat.v4.new_code_cell(source, execution_count=count)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = outputs if outputs is not None else [
        nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=count)]
    return cell


def _check(path, tmp_path, **kw):
    kw.setdefault("toc", {"chapters/01_demo"})
    kw.setdefault("keys", {"rumelhart1986learning"})
    return check_notebook(path, root=tmp_path, **kw)


def test_checker_accepts_a_clean_notebook(tmp_path):
    path = _write(tmp_path, [
        nbformat.v4.new_markdown_cell("As shown by {cite}`rumelhart1986learning`."),
        _code("1", 1), _code("import time\ntime.time()", 2, tags=["nbval-ignore-output"]),
        _code("t = best_time(f)", 3, tags=["nbval-ignore-output", "hide-input"]),
        _code("   ", None, outputs=[]),   # empty cells are never executed
    ])
    assert _check(path, tmp_path) == []


@pytest.mark.parametrize("case, cells, expect", [
    ("unexecuted", [_code("1", 1), _code("2", None, outputs=[])], "never executed"),
    ("out of order", [_code("1", 2), _code("2", 1)], "expected 1"),
    ("gap", [_code("1", 1), _code("2", 3)], "expected 2"),
    ("re-run", [_code("1", 1), _code("2", 2), _code("3", 2)], "expected 3"),
    ("error output", [_code("1/0", 1, outputs=[nbformat.v4.new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])])],
     "stored error output ZeroDivisionError"),
    ("no outputs", [_code("x = 1", 1, outputs=[])], "no stored outputs"),
    ("unjustified ignore", [_code("np.random.rand()", 1, tags=["nbval-ignore-output"])],
     "tag 'nbval-ignore-output' without a legitimate reason"),
    ("animation is no excuse", [_code("anim.to_jshtml()", 1, tags=["nbval-ignore-output"])],
     "tag 'nbval-ignore-output' without a legitimate reason"),
    ("skip tag", [_code("x = 1", 1, tags=["nbval-skip"])], "tag 'nbval-skip' is not allowed"),
    ("raises tag", [_code("1/0", 1, tags=["raises-exception"])],
     "tag 'raises-exception' is not allowed"),
    ("old ignore comment, even with a reason",
     [_code("# NBVAL_IGNORE_OUTPUT\nimport time\ntime.time()", 1)],
     "the comment `# NBVAL_IGNORE_OUTPUT` is shown to readers"),
    ("skip comment", [_code("#NBVAL_SKIP\nx = 1", 1)], "the comment `# NBVAL_SKIP`"),
    ("raises comment", [_code("x = 1\n  # NBVAL_RAISES_EXCEPTION", 1)],
     "the comment `# NBVAL_RAISES_EXCEPTION`"),
    ("list marker inside inline math",
     [nbformat.v4.new_markdown_cell("so $a = b\n+ c$ holds"), _code("1", 1)],
     "starts a list item inside inline math"),
    ("unknown cite", [nbformat.v4.new_markdown_cell("See {cite:p}`nobody2099,"
                                                    "rumelhart1986learning`."),
                      _code("1", 1)], "unknown citation key 'nobody2099'"),
])
def test_checker_reports(tmp_path, case, cells, expect):
    path = _write(tmp_path, cells)
    problems = _check(path, tmp_path)
    assert any(expect in p for p in problems), (case, problems)


def test_checker_reports_notebook_missing_from_toc(tmp_path):
    path = _write(tmp_path, [_code("1", 1)])
    assert any("not listed in _toc.yml" in p for p in _check(path, tmp_path, toc=set()))


def test_checker_reports_bad_name_and_kernel(tmp_path):
    path = _write(tmp_path, [_code("1", 1)], name="Chapter One.ipynb", kernel="julia")
    problems = _check(path, tmp_path, toc={"chapters/Chapter One"})
    assert any("not NN_slug" in p for p in problems), problems
    assert any("kernelspec" in p for p in problems), problems


def test_cite_parser_ignores_code_examples():
    text = "Use `` {cite}`key` ``.\n\n```md\n{cite}`other`\n```\nBut {cite:t}`a, b` counts."
    assert cited_keys(text) == ["a", "b"]


def test_toc_parser_reads_the_real_toc():
    assert "book/intro" in toc_files()


# --------------------------------------------------------------------------- one helper, one place

def _is_attached_method(node: ast.FunctionDef) -> bool:
    """`@add_method(Cls)` attaches the function to a class (chapter 7 builds its engine's
    `Value` one method at a time): a method, not a module-level helper."""
    return any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "add_method"
               for d in node.decorator_list)


def top_level_definitions(path: Path) -> set[str]:
    """Names of the functions and classes a notebook defines at the top level of a cell."""
    names = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines()
                         if not line.lstrip().startswith(("%", "!")))   # IPython magics
        for node in ast.parse(code).body:
            is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if (is_function and not _is_attached_method(node)) \
                    or isinstance(node, ast.ClassDef):
                names.add(node.name)
    return names


def shared_definitions(paths) -> dict[str, list[str]]:
    """{name: [notebooks]} for every name defined at the top level of two or more."""
    where = defaultdict(list)
    for path in paths:
        for name in top_level_definitions(path):
            where[name].append(path.name)
    return {name: files for name, files in sorted(where.items()) if len(files) > 1}


def test_no_two_chapters_define_the_same_function():
    """A helper used by two chapters lives in book_tools; a chapter's own function has a
    name no other chapter uses (two meanings of one name would confuse readers)."""
    shared = shared_definitions(CHAPTERS)
    assert not shared, (
        "defined in more than one chapter (move a shared helper to book_tools/, or "
        f"rename a chapter's own function): {shared}")


def test_shared_definitions_are_found(tmp_path):
    first = _write(tmp_path, [_code("def adam(g):\n    pass\n\nclass Net:\n    pass", 1),
                              _code("%matplotlib inline\ndef local(): pass", 2)],
                   name="01_a.ipynb")
    second = _write(tmp_path, [_code("def adam(g, lr):\n    pass", 1),
                               _code("class Net: pass\n@add_method(Value)\ndef local(x): pass",
                                     2)], name="02_b.ipynb")
    assert shared_definitions([first, second]) == {
        "Net": ["01_a.ipynb", "02_b.ipynb"], "adam": ["01_a.ipynb", "02_b.ipynb"]}
