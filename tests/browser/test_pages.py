"""Open every page of the built book in headless Chromium, offline.

Serves _build/html on 127.0.0.1 (random free port, in a thread), visits each HTML
page with Playwright (Debian's /usr/bin/chromium; `playwright install` cannot download
browsers here) and fails on anything a reader would notice:

- any request to a host other than 127.0.0.1 (aborted, and reported): the book must
  work with no internet;
- a failed request or an HTTP 4xx/5xx response; a JavaScript exception
  (`pageerror`); a console error;
- math that MathJax did not typeset, or TeX left visible in the prose;
- an <img> that did not load, or whose alt text is missing, a file name or its src
  (figures, animation frames, the theme's launch-button logos, which carry "Binder
  logo"/"Colab logo", and the pictures drawn by live widgets);
- on a chapter page (chapters/NN_*.html): a heading, browser tab or first equation
  without the chapter's number (`N.`, `(N.1)`), an equation or figure reference that
  rendered as `??` or as a number of another chapter's format, or a MyST role left as
  raw text (`{eq}`...);
- a widget that the widget manager did not render, or a pre-rendered (jshtml)
  animation without a working scrub slider.

A full-page screenshot of every page is saved to _build/screenshots/ (pages with
figures also get a dark-theme screenshot, where figures must sit on white).
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import http.server
import os
import re
import threading
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
SHOTS = ROOT / "_build" / "screenshots"
MISSING = "<no built book>"
TIMEOUT_MS = 30_000


def _pages() -> list[str]:
    if not (SITE / "index.html").is_file():
        return [MISSING]
    skip = ("_static/", "_sources/", "_images/", "_sphinx_design_static/")
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if not p.relative_to(SITE).as_posix().startswith(skip))


PAGES = _pages()


def _require_site():
    if PAGES == [MISSING]:
        pytest.fail(f"{SITE} has no index.html: the book was not built. "
                    "Run `make book` first (or `make test`, which builds it).")


# ------------------------------------------------------------------ numbering and alt text

CHAPTER_PAGE = re.compile(r"chapters/(\d+)_[^/]+\.html")
IMAGE_FILE = re.compile(r"\.(png|jpe?g|gif|svg|webp)\b", re.IGNORECASE)
RAW_ROLES = ("{eq}`", "{numref}`", "{ref}`", "{doc}`", "{cite}`", "{cite:t}`")


def alt_text_problem(alt: str | None, src: str) -> str | None:
    """Why `alt` does not describe the image at `src`, or None if it may.

    A screen reader reads the alt text instead of the image, so it must say what the
    image shows: not be missing or blank, and not be a file name or the image's
    address, which is what Sphinx and myst-nb fall back to.
    """
    text = " ".join((alt or "").split())
    if not text:
        return "no alt text"
    name = src.split("?")[0].rsplit("/", 1)[-1]
    if IMAGE_FILE.search(text) or text == src or (name and not src.startswith("data:")
                                                  and name in text):
        return f"alt text is a file name: {text[:60]!r}"
    if text.startswith("data:"):
        return "alt text is a data URL"
    return None


def test_alt_text_problem_catches_what_readers_would_hear():
    src = "../_images/4e579fb5.png"
    assert alt_text_problem(None, src) == "no alt text"
    assert alt_text_problem("  ", src) == "no alt text"
    assert alt_text_problem("_images/4e579fb5.png", src).startswith("alt text is a file")
    assert alt_text_problem("figure 4e579fb5.png", src).startswith("alt text is a file")
    assert alt_text_problem(src, src).startswith("alt text is a file")
    assert alt_text_problem("logo.SVG", "x.svg").startswith("alt text is a file")
    assert alt_text_problem("data:image/png;base64,iVBOR", "data:image/png;base64,iVBOR")
    assert alt_text_problem("Two panels: the loss falls from 0.7 to 0.1.", src) is None
    assert alt_text_problem("Binder logo", "../_static/images/logo_binder.svg") is None


# What the reader sees of a chapter's numbering, read from the rendered page.
NUMBERING_JS = r"""
() => {
  const article = document.querySelector('article.bd-article');
  const h1 = article && article.querySelector('h1');
  const number = h1 && h1.querySelector('.section-number');
  const eqno = article && article.querySelector('.math .eqno, span.eqno');
  const clone = article ? article.cloneNode(true) : document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, '
                         + 'textarea, .cell_input').forEach(e => e.remove());
  return {
    title: document.title,
    heading: number ? number.textContent.trim() : null,
    first_equation: eqno ? eqno.firstChild.textContent.trim() : null,
    eq_refs: [...document.querySelectorAll('article a.reference.internal')]
      .filter(a => (a.getAttribute('href') || '').includes('#equation-'))
      .map(a => a.textContent.trim()),
    numrefs: [...document.querySelectorAll('article .std-numref')]
      .map(e => e.textContent.trim()),
    text: clone.textContent,
  };
}
"""


def chapter_numbering_problems(chapter: int, seen: dict) -> list[str]:
    """Problems with a chapter page's numbering, from what NUMBERING_JS returned."""
    problems = []
    if seen["heading"] != f"{chapter}.":
        problems.append(f"heading number is {seen['heading']!r}, expected '{chapter}.'")
    if not seen["title"].startswith(f"{chapter}. "):
        problems.append(f"browser tab title {seen['title']!r} lacks '{chapter}. '")
    if seen["first_equation"] != f"({chapter}.1)":
        problems.append(f"first numbered equation is {seen['first_equation']!r}, "
                        f"expected '({chapter}.1)'")
    # (N.k) for a chapter's equation; (k) for the notation page's own equations.
    bad_eq = [r for r in seen["eq_refs"] if not re.fullmatch(r"\(\d+(\.\d+)?\)", r)]
    if bad_eq:
        problems.append(f"equation references rendered as {bad_eq[:5]}")
    bad_numref = [r for r in seen["numrefs"]
                  if not re.fullmatch(r"(Figure|[Ss]ection|Table|Listing) \d+(\.\d+)*", r)]
    if bad_numref:
        problems.append(f"figure/section references rendered as {bad_numref[:5]}")
    text = seen["text"]
    for raw in ("??", *RAW_ROLES):
        i = text.find(raw)
        if i >= 0:
            problems.append(f"{raw!r} in the text: {text[max(0, i - 40):i + 40]!r}")
    return problems


def test_chapter_numbering_problems_flags_unnumbered_pages():
    good = {"title": "4. Convolution - Book", "heading": "4.", "first_equation": "(4.1)",
            "eq_refs": ["(4.7)", "(1.3)", "(4)"], "numrefs": ["Figure 4.2", "section 4.3"],
            "text": "as (4.7) shows"}
    assert chapter_numbering_problems(4, good) == []
    bad = {"title": "Convolution - Book", "heading": None, "first_equation": "(57)",
           "eq_refs": ["??", "ch04-corr"], "numrefs": ["Figure ??"],
           "text": "see {eq}`ch04-corr` and ??"}
    problems = "\n".join(chapter_numbering_problems(4, bad))
    for expected in ("heading number", "browser tab", "first numbered equation",
                     "equation references", "figure/section references", "'??'",
                     "'{eq}`'"):
        assert expected in problems, (expected, problems)


# ------------------------------------------------------------------ static checks

class _ResourceCollector(html.parser.HTMLParser):
    """Collect URLs a page *loads* (not links it merely points to)."""

    LOADING: ClassVar = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
               ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data")}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for t, attr in self.LOADING:
            if tag == t and attrs.get(attr):
                self.urls.append(attrs[attr])
        if tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower().split()
            if set(rel) & {"stylesheet", "preload", "modulepreload", "icon", "prefetch",
                           "preconnect", "dns-prefetch", "manifest"}:
                self.urls.append(attrs["href"])


def test_resource_collector_flags_external_loads():
    parser = _ResourceCollector()
    parser.feed('<link rel="stylesheet" href="https://cdn.example/x.css">'
                '<script src="//cdn.example/y.js"></script><img src="_images/a.png">'
                '<a href="https://example.org/">a link is not a load</a>'
                '<link rel="canonical" href="https://example.org/">')
    assert parser.urls == ["https://cdn.example/x.css", "//cdn.example/y.js",
                           "_images/a.png"]


def test_site_was_built():
    _require_site()


@pytest.mark.parametrize("page", PAGES)
def test_page_references_only_local_resources(page):
    _require_site()
    parser = _ResourceCollector()
    parser.feed((SITE / page).read_text(encoding="utf-8"))
    external = [u for u in parser.urls if urlparse(u).scheme in ("http", "https")
                or u.startswith("//")]
    assert not external, f"{page} loads external resources: {external}"


def test_every_toc_entry_was_built():
    _require_site()
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc)
    missing = [f for f in files
               if not (SITE / f"{Path(f).with_suffix('')}.html").is_file()]
    assert not missing, f"toc entries without a built page: {missing}"


# ------------------------------------------------------------------ server + browser

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    _require_site()
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(chromium):
    """Chromium (tests/browser/conftest.py), once the built book is known to exist."""
    _require_site()
    return chromium


class PageVisit:
    """Load one page with every network and JavaScript problem recorded."""

    def __init__(self, browser, base_url, page_path, color_scheme="light"):
        self.base_url = base_url
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           color_scheme=color_scheme,
                                           service_workers="block")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("console", self._console)
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.url = f"{base_url}/{page_path}"

    def _route(self, route):
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname != "127.0.0.1":
            self.problems.append(f"external request blocked: {url}")
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def _console(self, msg):
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text} ({msg.location.get('url')})")

    def _failed(self, request):
        if urlparse(request.url).hostname == "127.0.0.1":
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def open(self):
        self.page.goto(self.url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        # MathJax (deferred script) typesets the page once its startup promise resolves.
        self.page.evaluate("async () => { if (window.MathJax && MathJax.startup"
                           " && MathJax.startup.promise) await MathJax.startup.promise; }")
        return self.page

    def close(self):
        self.context.close()


# What "raw TeX left in the prose" looks like once code and typeset math are removed.
LEFTOVER_TEX_JS = r"""
() => {
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, '
                         + 'textarea, .cell_input').forEach(e => e.remove());
  const text = clone.textContent;
  const found = [];
  for (const pat of ['$$', '\\(', '\\[', '\\begin{', '\\frac', '\\mathbf']) {
    const i = text.indexOf(pat);
    if (i >= 0) found.push(text.slice(Math.max(0, i - 40), i + 40));
  }
  return found;
}
"""

WIDGET_STATUS_JS = """
() => {
  const views = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]');
  const rendered = [...document.querySelectorAll('.widget-subarea > .jupyter-widgets')]
      .filter(e => !e.classList.contains('jupyter-widgets-error-widget')
                   && !e.classList.contains('widget-error')
                   && e.offsetWidth > 0 && e.offsetHeight > 0);
  return {views: views.length, rendered: rendered.length,
          errors: document.querySelectorAll('.widget-error, .jupyter-widgets-error-widget')
                    .length};
}
"""


@pytest.mark.parametrize("page_path", PAGES)
def test_page_renders_offline(browser, base_url, page_path):
    source = (SITE / page_path).read_text(encoding="utf-8")
    visit = PageVisit(browser, base_url, page_path)
    problems = visit.problems
    try:
        page = visit.open()

        # --- math
        n_math = page.locator(".math").count()
        if n_math:
            untypeset = page.evaluate(
                "() => [...document.querySelectorAll('.math')]"
                ".filter(e => !e.querySelector('mjx-container'))"
                ".map(e => e.textContent.slice(0, 60))")
            if untypeset:
                problems.append(f"{len(untypeset)}/{n_math} math elements not typeset, "
                                f"e.g. {untypeset[:3]}")
            n_err = page.locator("mjx-merror").count()
            if n_err:
                problems.append(f"{n_err} MathJax errors: "
                                f"{page.locator('mjx-merror').first.text_content()!r}")
        elif 'class="math' in source:
            problems.append("source has math but no .math element after load")
        leftovers = page.evaluate(LEFTOVER_TEX_JS)
        if leftovers:
            problems.append(f"raw TeX visible in the page: {leftovers}")

        # --- images
        broken = page.evaluate(
            "() => [...document.images].filter(i => i.getAttribute('src') && "
            "!(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))")
        if broken:
            problems.append(f"images that did not load: {broken}")
        images = page.evaluate("() => [...document.images]"
                               ".map(i => [i.getAttribute('alt'), i.getAttribute('src') || ''])")
        for alt, src in images:
            why = alt_text_problem(alt, src)
            if why:
                problems.append(f"image {src[:60]}: {why}")

        # --- textbook numbering (chapter pages)
        chapter = CHAPTER_PAGE.fullmatch(page_path)
        if chapter:
            problems.extend(chapter_numbering_problems(int(chapter.group(1)),
                                                       page.evaluate(NUMBERING_JS)))

        # --- widgets (rendered by @jupyter-widgets/html-manager from stored state)
        if "application/vnd.jupyter.widget-view+json" in source:
            with contextlib.suppress(PlaywrightTimeout):  # reported below, with counts
                page.wait_for_function(
                    f"() => ({WIDGET_STATUS_JS})().rendered >= ({WIDGET_STATUS_JS})().views")
            status = page.evaluate(WIDGET_STATUS_JS)
            if status["rendered"] < status["views"] or status["errors"]:
                problems.append(f"widgets not rendered: {status}")

        # --- pre-rendered animations (matplotlib jshtml): visible, frame shown, scrubbable
        animations = page.locator(".animation")
        for i in range(animations.count()):
            anim = animations.nth(i)
            if not anim.is_visible():
                problems.append(f"animation {i} is not visible")
                continue
            img = anim.locator("img").first
            slider = anim.locator("input[type=range]").first
            if not slider.is_visible():
                problems.append(f"animation {i} has no visible scrub slider")
                continue
            if not img.evaluate("i => i.complete && i.naturalWidth > 0"):
                problems.append(f"animation {i} shows no frame")
            first = img.get_attribute("src")
            last = slider.get_attribute("max")
            slider.evaluate("(s, v) => { s.value = v; s.dispatchEvent(new Event('input')); }",
                            last)
            if last not in (None, "0") and img.get_attribute("src") == first:
                problems.append(f"animation {i}: moving the slider did not change the frame")
            slider.evaluate("s => { s.value = 0; s.dispatchEvent(new Event('input')); }")

        # --- screenshots (light; and dark for pages with output figures)
        SHOTS.mkdir(parents=True, exist_ok=True)
        stem = page_path.removesuffix(".html").replace("/", "__")
        page.screenshot(path=str(SHOTS / f"{stem}.png"), full_page=True)
        has_figures = page.locator(".cell_output img").count() > 0
    finally:
        visit.close()

    if has_figures:
        dark = PageVisit(browser, base_url, page_path, color_scheme="dark")
        try:
            page = dark.open()
            page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
            backgrounds = page.evaluate(
                "() => [...document.querySelectorAll('.cell_output img')]"
                ".map(i => getComputedStyle(i).backgroundColor)")
            not_white = [b for b in backgrounds if b not in ("rgb(255, 255, 255)",)]
            if not_white:
                problems.append(f"dark theme: output images without a white background: "
                                f"{not_white[:3]}")
            page.screenshot(path=str(SHOTS / f"{stem}--dark.png"), full_page=True)
            problems.extend(f"[dark] {p}" for p in dark.problems)
        finally:
            dark.close()

    assert not problems, f"{page_path}:\n  " + "\n  ".join(problems)
