"""Every chapter runs where it is opened: its first code cell installs what is missing.

On Colab, or from a downloaded .ipynb, neither the engine nor the book's helpers are
installed.  So each chapter starts with a cell that checks for mini_autograd,
book_tools and autograd (``importlib.util.find_spec``) and, only if one is missing,
pip-installs the repository with its ``notebooks`` extra.  Where everything is present
(a local checkout, nbval, the book build) it must do nothing and print nothing.

The repository URL is one setting, ``repository.url`` in _config.yml; these tests keep
the places that must write it out (the install cells, the how-to-run page's Colab line)
in step with it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
HOW_TO_RUN = ROOT / "book" / "how_to_run.md"
MODULES = ("mini_autograd", "book_tools", "autograd")
PLACEHOLDER = "@REPOSITORY_URL@"      # substituted by book/_ext/offline_assets.py


def repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"]


def install_cell(path: Path):
    return next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def run_cell(source: str, monkeypatch, missing=()):
    """Execute the cell's code with subprocess.run recorded instead of run; modules in
    `missing` look uninstalled.  Returns the recorded calls."""
    calls = []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(subprocess, "run", lambda *args, **kw: calls.append((args, kw)))
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in missing else real_find_spec(name, *a))
    exec(compile(source, "<install cell>", "exec"), {})  # noqa: S102 - the cell under test
    return calls


def test_every_chapter_was_found():
    assert len(CHAPTERS) >= 15


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_first_code_cell_installs_what_is_missing(path):
    cell = install_cell(path)
    assert "importlib.util.find_spec" in cell.source, (
        f"{path.name}: the first code cell must be the install cell")
    for module in MODULES:
        assert f'"{module}"' in cell.source, f"{path.name}: the guard misses {module}"
    # the HTML reader does not need it; Jupyter and Colab readers see it first
    assert "remove-cell" in cell.metadata.get("tags", []), path.name
    assert not cell.get("outputs"), f"{path.name}: the install cell printed something"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_install_cell_installs_from_the_configured_repository(path, monkeypatch):
    calls = run_cell(install_cell(path).source, monkeypatch, missing={"book_tools"})
    assert len(calls) == 1, calls
    (command,), options = calls[0]
    assert command == [sys.executable, "-m", "pip", "install", "-q",
                       f"mini_autograd[notebooks] @ git+{repository_url()}"]
    assert options == {"check": True}


@pytest.mark.parametrize("missing", MODULES)
def test_install_cell_runs_pip_when_any_module_is_missing(missing, monkeypatch):
    calls = run_cell(install_cell(CHAPTERS[0]).source, monkeypatch, missing={missing})
    assert len(calls) == 1 and repository_url() in calls[0][0][0][-1]


def test_install_cell_is_silent_when_everything_is_installed(monkeypatch, capsys):
    for module in MODULES:      # this test environment has all three
        assert importlib.util.find_spec(module) is not None, module
    for path in CHAPTERS:
        assert run_cell(install_cell(path).source, monkeypatch) == [], path.name
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_all_install_cells_are_the_same():
    sources = {install_cell(p).source for p in CHAPTERS}
    assert len(sources) == 1, "the install cells differ between chapters"


def colab_install_lines(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if re.search(r"pip install", line) and "git+" in line]


def test_how_to_run_installs_from_the_configured_repository():
    lines = colab_install_lines(HOW_TO_RUN.read_text(encoding="utf-8"))
    assert lines, "how_to_run.md has no `pip install ... git+<repository>` line for Colab"
    for line in lines:
        urls = re.findall(r"git\+([^\s\"']+)", line)
        assert urls, line
        for url in urls:
            assert url in (PLACEHOLDER, repository_url()), (
                f"how_to_run.md installs from {url!r}; write {PLACEHOLDER} (the build "
                f"substitutes repository.url) or {repository_url()!r}")


def test_colab_line_checker_catches_a_stale_url():
    stale = '!pip install -q "mini_autograd[notebooks] @ git+https://github.com/old/repo"'
    urls = re.findall(r"git\+([^\s\"']+)", colab_install_lines(stale)[0])
    assert urls == ["https://github.com/old/repo"]
    assert urls[0] not in (PLACEHOLDER, repository_url())
