"""The reader's live path: a widget chapter in JupyterLab, in a real browser.

Starts JupyterLab from the reader environment (`make lab-env`, binder/) on 127.0.0.1
with a random port, a token and throwaway Jupyter config, data, runtime and settings
directories, serving a temporary copy of one chapter (so no tracked file is touched).
Playwright drives Debian's /usr/bin/chromium, with every request to another host
blocked, and checks what a reader would see:

1. MyST is rendered by jupyterlab-myst: no raw ``:class: dropdown`` fences, directive
   fences or ``{eq}``/``{cite}``/``{doc}`` roles on screen, and the solutions are folded
   (closed ``<details>``);
2. Run > Run All Cells in a fresh kernel finishes with no error output;
3. dragging a slider of the live widget changes the widget's output.

A screenshot goes to _build/screenshots/lab--<chapter>.png. The test finds the widget
through the ipywidgets DOM (``.jupyter-widgets``, ``.widget-slider``), not through the
chapter's Python code, so it does not care which module builds the widget.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
LAB_VENV = Path(os.environ.get("LAB_VENV", ROOT / ".venv-lab"))
CHAPTER = os.environ.get("LAB_CHAPTER", "01_chain_rule.ipynb")
SHOTS = ROOT / "_build" / "screenshots"
# Matplotlib's jshtml animation player (the chapters' scrubbable fallbacks) links Font
# Awesome 4 from this CDN for its button icons. The book build strips the link (see
# book/_ext/offline_assets.py); in JupyterLab the request stays blocked here, so only the
# player's icons are missing in this offline test. Any other external request fails.
KNOWN_EXTERNAL = {"https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css"}
SERVER_START_S = 60
RUN_ALL_MS = 90_000
TIMEOUT_MS = 30_000

# Lab settings for the test session only (a fresh JUPYTERLAB_SETTINGS_DIR):
# - render every cell (no windowing), so every markdown cell is on the page to check;
# - no news or update checks: they would ask jupyter.org, and the test is offline.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}

# MyST source that must never be visible once jupyterlab-myst has rendered a cell.
RAW_MYST = [
    (r":class:\s*dropdown", "a dropdown option (a solution shown as a code block)"),
    (r"```\{[a-z]", "a directive fence"),
    (r"\{(eq|cite|cite:t|cite:p|doc|ref|numref|math)\}`", "a role"),
]


def raw_myst(text: str) -> list[str]:
    """What of RAW_MYST shows in ``text``, each with its context."""
    found = []
    for pattern, what in RAW_MYST:
        m = re.search(pattern, text)
        if m:
            found.append(f"{what}: ...{text[max(0, m.start() - 60): m.end() + 60]!r}...")
    return found


def test_raw_myst_is_recognised():
    # What Lab's own renderer shows for a folded solution and a role, without the
    # extension (seen with jupyterlab-myst disabled), against what jupyterlab-myst shows.
    unrendered = ("Write backprop_tanh.\n:class: dropdown\n"
                  "Every other line of {eq}`ch01-backward` stays")
    assert len(raw_myst(unrendered)) == 2
    assert raw_myst("see {doc}`../book/how_to_run`") != []
    assert raw_myst("```{admonition} Solution") != []
    rendered = "Solution\nEvery other line of (14) stays as it is, see ../book/how_to_run"
    assert raw_myst(rendered) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab from the reader environment; yields (url, token)."""
    jupyter = LAB_VENV / "bin" / "jupyter"
    if not jupyter.exists():
        pytest.fail(f"{jupyter} not found: the reader environment is missing. "
                    "Run `make lab-env` (or `make test-lab`, which creates it).")
    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "chapters"
    notebooks.mkdir()
    shutil.copy2(ROOT / "chapters" / CHAPTER, notebooks / CHAPTER)
    settings = home / "settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))

    token = secrets.token_hex(16)
    port = _free_port()
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           # the reader venv's own python3 kernelspec, never a user-level one
           "JUPYTER_PATH": str(LAB_VENV / "share" / "jupyter"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "IPYTHONDIR": str(home / "ipython"),
           "MPLCONFIGDIR": str(home / "matplotlib"),
           "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)
    log_path = home / "lab.log"
    cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}",
           "--ServerApp.port_retries=0",
           # the extension manager would ask PyPI; the test runs offline
           "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:  # CI containers (.ci/run) run as root
        cmd.append("--allow-root")
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log_path.read_text()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"{url}/api/status?token={token}", timeout=2) as reply:
                if reply.status == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n"
                            f"{log_path.read_text()}")
            time.sleep(0.5)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(lab, chromium):
    """Chromium (tests/browser/conftest.py), once JupyterLab is up."""
    return chromium


# Every markdown cell with the text of what renders it (the element beside the hidden
# editor and the active cell's toolbar: jupyterlab-myst's or Lab's own renderer), the <details> elements, and how
# many are open. Raw MyST would show up in these texts.
MARKDOWN_JS = """
() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell')];
  const texts = cells.map(c => {
    const out = c.querySelector('.jp-InputArea > '
        + ':not(.jp-InputPrompt):not(.jp-InputArea-editor):not(.jp-Toolbar)');
    return c.classList.contains('jp-mod-rendered') && out ? out.innerText.trim() : '';
  });
  const details = [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell details')];
  return {cells: cells.length, texts: texts,
          empty: texts.flatMap((t, i) => t ? [] : [i]),
          details: details.length, open: details.filter(d => d.open).length};
}
"""

CELLS_JS = """
() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt') || {}).innerText || '');
  const errors = [...document.querySelectorAll(
      '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')]
      .map(e => e.innerText.slice(0, 500));
  return {prompts: prompts, errors: errors};
}
"""

# The output area of the first live widget with a slider, and a fingerprint of what it
# shows with the sliders themselves left out (their handle and readout move anyway).
WIDGET_JS = """
() => {
  const slider = document.querySelector('.jp-Notebook .jp-OutputArea-output .widget-slider');
  if (!slider) return null;
  const area = slider.closest('.jp-OutputArea-output');
  area.setAttribute('data-lab-test', 'widget');
  const clone = area.cloneNode(true);
  clone.querySelectorAll('.widget-slider').forEach(e => e.remove());
  return clone.innerHTML;
}
"""


def _menu(page, top: str, item: str):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def test_widget_chapter_runs_live_in_jupyterlab(lab, browser):
    url, token = lab
    started = time.monotonic()
    problems: list[str] = []
    blocked: list[str] = []

    def route(r):
        host = urlparse(r.request.url).hostname
        if host not in ("127.0.0.1", None):
            blocked.append(r.request.url)
            r.abort("blockedbyclient")
        else:
            r.continue_()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    stem = Path(CHAPTER).stem
    try:
        page.goto(f"{url}/lab/tree/{CHAPTER}?token={token}", wait_until="load")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
        page.wait_for_selector(
            ".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']")

        # 1. MyST rendered, solutions folded
        source = json.loads((ROOT / "chapters" / CHAPTER).read_text())
        n_markdown = sum(c["cell_type"] == "markdown" for c in source["cells"])
        n_dropdowns = sum(len(re.findall(r":class:\s*dropdown", "".join(c["source"])))
                          for c in source["cells"] if c["cell_type"] == "markdown")
        with contextlib.suppress(PlaywrightTimeout):  # reported below, with counts
            page.wait_for_function(
                f"() => {{ const m = ({MARKDOWN_JS})(); return m.cells >= {n_markdown}"
                f" && m.empty.length === 0 && m.details >= {n_dropdowns}; }}")
        md = page.evaluate(MARKDOWN_JS)
        assert md["cells"] == n_markdown, (
            f"{md['cells']} markdown cells on the page, {n_markdown} in {CHAPTER}")
        if md["empty"]:
            sources = ["".join(c["source"]) for c in source["cells"]
                       if c["cell_type"] == "markdown"]
            problems.append(f"{len(md['empty'])} markdown cells show nothing, e.g. "
                            f"{sources[md['empty'][0]][:200]!r}")
        text = "\n".join(md["texts"])
        problems.extend(f"raw MyST on screen, {found}" for found in raw_myst(text))
        if n_dropdowns and md["details"] < n_dropdowns:
            problems.append(f"{n_dropdowns} folded solutions in the source, "
                            f"{md['details']} <details> on the page")
        if md["open"]:
            problems.append(f"{md['open']} solutions are unfolded when the page opens")
        if "$$" in text:
            problems.append("raw $$ math on screen")
        assert n_dropdowns > 0, f"{CHAPTER} has no folded solution to check"

        # 2. Run all cells in the fresh kernel, from cleared outputs
        _menu(page, "Edit", "Clear Outputs of All Cells")
        page.wait_for_function(
            "() => !document.querySelector('.jp-Notebook .jp-OutputArea-output')")
        _menu(page, "Run", "Run All Cells")
        page.wait_for_function(
            f"() => {{ const s = ({CELLS_JS})(); return s.prompts.length > 0 && "
            "s.prompts.every(p => /\\[\\d+\\]/.test(p)) && "
            "document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\"); }",
            timeout=RUN_ALL_MS)
        cells = page.evaluate(CELLS_JS)
        counts = [int(re.search(r"\d+", p).group()) for p in cells["prompts"]]
        assert counts == list(range(1, len(counts) + 1)), (
            f"execution counts {counts}: not one top-to-bottom run in a fresh kernel")
        assert not cells["errors"], "error outputs after Run All Cells:\n" + "\n---\n".join(
            cells["errors"])

        # 3. The live widget: drag a slider, the output changes
        try:
            page.wait_for_function(f"() => ({WIDGET_JS})() !== null")
        except PlaywrightTimeout:
            pytest.fail(f"no live widget with a slider (.widget-slider) in the outputs of "
                        f"{CHAPTER} after Run All Cells")
        before = page.evaluate(WIDGET_JS)
        area = page.locator(".jp-OutputArea-output[data-lab-test='widget']")
        handle = area.locator(".widget-slider .noUi-handle").first
        track = area.locator(".widget-slider .noUi-base").first
        handle.scroll_into_view_if_needed()
        value_before = handle.get_attribute("aria-valuenow")
        box, bar = handle.bounding_box(), track.bounding_box()
        x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        # drag to 90% (or 10%) of the track, whichever is farther from the handle
        target = bar["x"] + bar["width"] * (0.9 if x0 < bar["x"] + bar["width"] / 2 else 0.1)
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(target, y0, steps=8)
        page.mouse.up()
        value_after = handle.get_attribute("aria-valuenow")
        assert value_after != value_before, (
            f"dragging the slider handle did not move it (value {value_before})")
        try:
            page.wait_for_function(f"(b) => ({WIDGET_JS})() !== b", arg=before,
                                   timeout=10_000)
        except PlaywrightTimeout:
            problems.append(f"moving a slider from {value_before} to {value_after} did not "
                            "change the widget's output")

        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"lab--{stem}.png"))
    finally:
        context.close()

    elapsed = time.monotonic() - started
    print(f"live path: {CHAPTER} opened, run and scrubbed in {elapsed:.1f} s")
    unexpected = sorted(set(blocked) - KNOWN_EXTERNAL)
    if unexpected:
        problems.append(f"requests to other hosts (blocked): {unexpected[:5]}")
    assert not problems, f"JupyterLab, {CHAPTER}:\n  " + "\n  ".join(problems)
