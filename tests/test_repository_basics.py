"""Checks of what a published repository carries besides the book: the reader
environment (binder/), the package metadata, the citation file and the licenses.

Each place that must write a value literally (the repository URL in pyproject.toml and
CITATION.cff, the version in CITATION.cff, a pin shared by the two requirements files)
is compared with the one place that owns it, so changing one without the other fails.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPO_URL = CONFIG["repository"]["url"]
PIN = re.compile(r"([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.\-+]*)")

# Never in the reader environment: the book builder and the test tools.
DEV_ONLY = {"sphinx", "jupyter-book", "myst-nb", "sphinx-book-theme", "sphinxcontrib-bibtex",
            "pytest", "pytest-xdist", "hypothesis", "nbval", "playwright", "ruff"}
# What the chapters need to run live (the issue's list).
READER_NEEDS = {"numpy", "scipy", "matplotlib", "autograd", "ipywidgets", "ipykernel",
                "jupyterlab", "jupyterlab-myst"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """{normalised name: version} of a requirements file; fails on an unpinned line."""
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#")[0].strip()
        if not line or line == "-e .":
            continue
        match = PIN.fullmatch(line)
        assert match, f"{path.name}: {line!r} is not pinned with =="
        pins[_norm(match[1])] = match[2]
    return pins


def test_read_pins_refuses_an_unpinned_line(tmp_path):
    bad = tmp_path / "requirements.txt"
    bad.write_text("numpy==2.4.6\nscipy>=1.11\n")
    with pytest.raises(AssertionError, match="scipy>=1.11"):
        read_pins(bad)


def test_reader_environment_is_pinned_and_lean():
    reader = read_pins(ROOT / "binder" / "requirements.txt")
    assert READER_NEEDS <= set(reader), f"missing: {sorted(READER_NEEDS - set(reader))}"
    dev_tools = DEV_ONLY & set(reader)
    assert not dev_tools, f"binder/requirements.txt has development tools: {dev_tools}"


def test_shared_pins_agree_with_the_development_set():
    dev = read_pins(ROOT / "requirements.txt")
    reader = read_pins(ROOT / "binder" / "requirements.txt")
    differ = {name: (dev[name], reader[name]) for name in set(dev) & set(reader)
              if dev[name] != reader[name]}
    assert not differ, f"requirements.txt vs binder/requirements.txt: {differ}"


def test_binder_installs_the_project_after_the_cached_pip_layer():
    text = (ROOT / "binder" / "requirements.txt").read_text()
    local = [ln for ln in text.splitlines()
             if ln.strip().startswith(("-e", ".", "/")) or "file:" in ln]
    assert not local, f"a local path in binder/requirements.txt defeats Binder's cache: {local}"
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    install = [ln for ln in post_build.read_text().splitlines() if "pip install" in ln]
    assert install and all("--no-deps" in ln and " -e " not in ln for ln in install), install


def test_runtime_matches_requires_python():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    assert PYPROJECT["project"]["requires-python"] == f">={runtime.removeprefix('python-')}"
    assert not (ROOT / "runtime.txt").exists(), (
        "Binder reads only binder/ when it exists: a root runtime.txt would be ignored")


def test_package_metadata():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    for name in project["license-files"]:
        assert (ROOT / name).is_file(), name
    urls = project["urls"]
    assert urls["Repository"] == REPO_URL
    assert urls["Issues"] == f"{REPO_URL}/issues"
    notebooks = project["optional-dependencies"]["notebooks"]
    assert {_norm(re.split(r"[<>=!~ ]", r)[0]) for r in notebooks} == {
        "autograd", "scipy", "matplotlib", "ipywidgets", "pillow"}
    capped = [r for r in notebooks if re.search(r"==|<|~=|!=", r)]
    assert not capped, f"the notebooks extra takes lower bounds only (Colab keeps its own): {capped}"
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"Programming Language :: Python :: {running}" in project["classifiers"]


def test_citation_file_agrees_with_the_package():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "date-released", "license"):
        assert cff.get(key), f"CITATION.cff: {key} is empty"
    assert str(cff["version"]) == PYPROJECT["project"]["version"]
    assert cff["repository-code"] == REPO_URL
    assert set(cff["license"]) == {"MIT", "CC-BY-4.0"}


def test_licenses_say_which_is_which():
    code = (ROOT / "LICENSE").read_text()
    content = (ROOT / "LICENSE-CONTENT").read_text()
    assert code.startswith("MIT License") and "LICENSE-CONTENT" in code
    assert "Attribution 4.0 International Public License" in content
    assert "MIT License: see LICENSE" in content


def test_book_footer_and_issues_button():
    assert CONFIG["html"]["use_issues_button"] is True
    assert CONFIG["sphinx"]["local_extensions"]["book_footer"] == "book/_ext"
    assert CONFIG["sphinx"]["config"]["html_last_updated_fmt"]


def test_footer_version_comes_from_pyproject(tmp_path):
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        from book_footer import project_version
        from sphinx.errors import ExtensionError
    finally:
        sys.path.pop(0)
    assert project_version() == PYPROJECT["project"]["version"]
    broken = tmp_path / "pyproject.toml"
    broken.write_text('[project]\nname = "x"\n')
    with pytest.raises(ExtensionError, match=r"\[project\] version"):
        project_version(broken)


def test_build_output_is_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in ("build/", "_build/", ".venv/", ".venv-lab/"):
        assert entry in ignored, f".gitignore lacks {entry}"
