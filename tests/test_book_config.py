"""Checks of the book's configuration: _config.yml, _toc.yml, package.json, bib.

These run in the "unit tests" step of `make test`, before any notebook runs, and
catch configuration mistakes with a clear message instead of a failed build.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
REPO_URL = "https://github.com/backprop-book/backprop-by-running-it"


def toc_files(node) -> list[str]:
    """Every `file:` (and the root) in a jupyter-book toc, in order."""
    found = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                found.append(node[key])
        for value in node.values():
            if isinstance(value, (list, dict)):
                found.extend(toc_files(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(toc_files(item))
    return found


def test_toc_format_and_root():
    assert TOC["format"] == "jb-book"
    assert TOC["root"] == "book/intro"


@pytest.mark.parametrize("entry", toc_files(TOC))
def test_toc_entry_exists(entry):
    candidates = [ROOT / f"{entry}{ext}" for ext in ("", ".md", ".ipynb")]
    assert any(c.is_file() for c in candidates), (
        f"_toc.yml lists {entry!r} but no such .md/.ipynb exists; "
        "the toc must only reference existing files"
    )


def test_toc_has_no_duplicates():
    files = toc_files(TOC)
    assert len(files) == len(set(files)), files


def test_parts_are_in_syllabus_order():
    captions = [part.get("caption") for part in TOC["parts"]]
    wanted = ["Part I - Principles and mechanisms",
              "Part II - Applications and interdisciplinary connections"]
    assert [c for c in captions if c in wanted] == wanted


def _without_install_cell(path: Path) -> str:
    """The page's text; for a chapter, without its first code cell (the install cell)."""
    text = path.read_text()
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        if code and "importlib.util.find_spec" in "".join(code[0]["source"]):
            nb["cells"].remove(code[0])
        text = json.dumps(nb)
    return text


def test_repository_url_is_set_once():
    assert CONFIG["repository"]["url"] == REPO_URL
    assert (ROOT / "_config.yml").read_text().count(REPO_URL) == 1
    # Book pages write @REPOSITORY_URL@; book/_ext/offline_assets.py substitutes the
    # configured URL at build time, so changing it in _config.yml is enough.
    # (The chapters' install cells must write it out, for a notebook opened alone;
    # tests/test_install_cells.py keeps them equal to repository.url.)
    pages = list((ROOT / "book").rglob("*.md")) + list((ROOT / "chapters").glob("*.ipynb"))
    offenders = [str(p.relative_to(ROOT)) for p in pages
                 if "github.com/backprop-book" in _without_install_cell(p)]
    assert not offenders, f"hard-coded repository URL in {offenders}; use @REPOSITORY_URL@"


def test_notebooks_are_not_executed_at_build_time():
    assert CONFIG["execute"]["execute_notebooks"] == "off"


def test_launch_buttons_and_thebe_off():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["thebe"] is False, "thebe loads from unpkg.com; the book must work offline"


def test_offline_javascript_is_local():
    sphinx_cfg = CONFIG["sphinx"]["config"]
    assert "://" not in sphinx_cfg["mathjax_path"]
    assert sphinx_cfg["mathjax_path"].startswith("vendor/mathjax/")
    for path in sphinx_cfg["nb_ipywidgets_js"]:
        assert "://" not in path, f"widget JS must be served locally, got {path}"


def test_no_root_static_folder():
    # jupyter-book adds every JS/CSS file in a root _static/ to every page.
    assert not (ROOT / "_static").exists()


def test_npm_pins():
    pkg = json.loads((ROOT / "package.json").read_text())
    deps = pkg["dependencies"]
    assert re.fullmatch(r"3\.\d+\.\d+", deps["mathjax"]), "MathJax must be pinned to 3.x"
    assert re.fullmatch(r"\d+\.\d+\.\d+", deps["requirejs"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", deps["@jupyter-widgets/html-manager"])
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in deps.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line == "-e .":
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.\-+]*", line), (
            f"requirements.txt: {line!r} is not pinned with =="
        )


def test_bibliography_keys_unique():
    text = (ROOT / "book" / "references.bib").read_text()
    keys = re.findall(r"^@\w+\s*\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE)
    assert len(keys) >= 20
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_bibliography_parses_entry_by_entry():
    # a missing closing brace swallows the next entry silently in some readers and
    # stops the book build in others; pybtex (what sphinxcontrib-bibtex uses) is strict
    pybtex = pytest.importorskip("pybtex.database")
    text = (ROOT / "book" / "references.bib").read_text()
    parsed = pybtex.parse_string(text, "bibtex")
    assert len(parsed.entries) == len(re.findall(r"^@\w+\s*\{", text, flags=re.MULTILINE))


# ------------------------------------------------------------------ textbook numbering

def toc_parts_numbering() -> dict[str, bool]:
    """Each toc file -> whether its part is numbered."""
    found = {}
    for part in TOC["parts"]:
        for file in toc_files(part.get("chapters", [])):
            found[file] = bool(part.get("numbered"))
    return found


def test_chapters_are_numbered_and_front_and_back_matter_are_not():
    numbered = toc_parts_numbering()
    chapters = sorted(f for f in numbered if f.startswith("chapters/"))
    assert chapters == sorted(f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.ipynb"))
    assert all(numbered[f] for f in chapters), [f for f in chapters if not numbered[f]]
    matter = [f for f in numbered if not f.startswith("chapters/")]
    assert not [f for f in matter if numbered[f]], (
        "front/back matter and part overviews must sit in unnumbered parts, or they "
        "would take chapter numbers")
    # the chapters come in file order, so chapter N is chapters/NN_*.ipynb
    in_order = [f for f in toc_files(TOC) if f.startswith("chapters/")]
    assert [int(Path(f).name[:2]) for f in in_order] == list(range(1, len(in_order) + 1))
    assert CONFIG["html"]["use_multitoc_numbering"] is True, (
        "without multitoc numbering every numbered part restarts at 1")


def test_equations_and_figures_carry_the_chapter_number():
    sphinx_cfg = CONFIG["sphinx"]["config"]
    assert sphinx_cfg["numfig"] is True and sphinx_cfg["math_numfig"] is True
    assert sphinx_cfg["numfig_secnum_depth"] == 1, "(4.7), not (4.2.7)"
    assert sphinx_cfg["math_eqref_format"] == "({number})"
    assert sphinx_cfg["numfig_format"]["figure"] == "Figure %s"


IMAGE_FILE_NAME = re.compile(r"\.(png|jpe?g|gif|svg)\b", re.IGNORECASE)


def figure_cells():
    """(chapter number, notebook name, cell) for every cell with an image or animation."""
    import nbformat

    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            rich = [o for o in cell.get("outputs", [])
                    if o.get("output_type") in ("display_data", "execute_result")]
            if any(any(k.startswith("image/") for k in o.get("data", {}))
                   or "_anim_img" in o.get("data", {}).get("text/html", "") for o in rich):
                yield int(path.name[:2]), path.name, cell, len(rich)


def test_every_figure_has_a_caption_a_name_and_an_alt_text():
    problems, names = [], []
    for chapter, name, cell, n_rich in figure_cells():
        where = f"{name} cell {cell.get('id')}"
        meta = cell.metadata.get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        fig_name = figure.get("name", "")
        names.append(fig_name)
        if not re.fullmatch(rf"fig-ch{chapter:02d}-[a-z0-9-]+", fig_name):
            problems.append(f"{where}: figure name {fig_name!r} is not fig-ch{chapter:02d}-...")
        if len(figure.get("caption", "").split()) < 5:
            problems.append(f"{where}: no caption (mystnb.figure.caption)")
        alt = image.get("alt", "")
        if len(alt.split()) < 10 or IMAGE_FILE_NAME.search(alt):
            problems.append(f"{where}: alt text {alt[:40]!r} does not say what the "
                            "figure shows (mystnb.image.alt, ten words or more)")
        if n_rich != 1:
            problems.append(f"{where}: {n_rich} rich outputs; the caption would wrap each")
        if not {"hide-input", "hide-cell", "remove-input"} & set(cell.metadata.get("tags", [])):
            problems.append(f"{where}: plotting code is not hidden (tag hide-input)")
    assert len(names) >= 60, f"found only {len(names)} figures"
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"figure names used twice: {duplicates}"
    assert not problems, "\n".join(problems)


def test_figure_references_name_existing_figures():
    import nbformat

    names = {cell.metadata["mystnb"]["figure"]["name"] for _, _, cell, _ in figure_cells()}
    dangling = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for ref in re.findall(r"\{numref\}`(?:[^`<]*<)?(fig-[^`>]+)>?`", cell.source):
                    if ref not in names:
                        dangling.append(f"{path.name}: {ref}")
    assert not dangling, dangling
