"""Serve the book's JavaScript from local files, so the HTML works with no internet.

A tiny local Sphinx extension (registered in ``_config.yml`` under
``sphinx.local_extensions``). It does two things:

1. At the end of an HTML build it copies the few files the pages need from the npm
   packages pinned in ``package.json`` / ``package-lock.json`` (installed by ``npm ci``)
   into ``<outdir>/_static/vendor/``:

   - ``mathjax`` 3 (``es5/``): the ``tex-chtml.js`` bundle plus the pieces it loads
     lazily (TeX extensions, CHTML fonts, menu, accessibility, English speech rules);
   - ``requirejs``: ``require.js``;
   - ``@jupyter-widgets/html-manager``: ``dist/embed-amd.js`` and its font files.

   ``_config.yml`` points ``mathjax_path`` and ``nb_ipywidgets_js`` at these paths.
   Nothing is copied into the repository; ``node_modules/`` is the only source.

2. It removes the Font Awesome 4 CDN stylesheet link that matplotlib's jshtml
   animations carry (the theme's own Font Awesome draws the icons), and replaces
   ``@REPOSITORY_URL@`` in page sources with ``repository.url`` from _config.yml.

3. When thebe is disabled (``launch_buttons.thebe: false``) it removes the scripts
   sphinx-thebe adds to every page anyway. sphinx-thebe 0.3.1 on Sphinx 7.4 adds its
   inline ``const THEBE_JS_URL = ...`` config twice, which is a JavaScript
   SyntaxError on every page. If thebe is ever enabled, the duplicate is dropped
   instead.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

VENDOR_DIR = "vendor"  # under _static/

FONT_AWESOME_CDN = re.compile(
    r"<link[^>]*href=[\"']https?://[^\"']*font-awesome[^\"']*[\"'][^>]*>", re.DOTALL)

# (package directory in node_modules, [paths inside it], destination under vendor/)
# A path ending in "/" is a directory, copied recursively.
ASSETS = [
    (
        "mathjax/es5",
        [
            "tex-chtml.js",
            "input/tex/extensions/",
            "output/chtml/fonts/woff-v2/",
            "ui/",
            "a11y/",
            # Speech rules for the accessibility explorer: the English and Nemeth
            # (braille) rule sets only, as the book is in English; the other ten
            # languages would add 3.1 MB.
            "sre/mathmaps/base.json",
            "sre/mathmaps/en.json",
            "sre/mathmaps/nemeth.json",
            "adaptors/",
        ],
        "mathjax",
    ),
    ("requirejs", ["require.js"], "requirejs"),
    # Fonts: woff2 only. Every browser that runs the widget manager reads woff2, and a
    # browser fetches only the first format it supports from an @font-face list, so the
    # eot/svg/ttf/woff copies (2.6 MB) would never be requested.
    ("@jupyter-widgets/html-manager/dist", ["embed-amd.js", "*.woff2"], "html-manager"),
]

# Files that must exist for the build to be meaningful (checked before writing).
REQUIRED = [
    "mathjax/es5/tex-chtml.js",
    "requirejs/require.js",
    "@jupyter-widgets/html-manager/dist/embed-amd.js",
]


def _node_modules(app: Sphinx) -> Path:
    return (Path(app.confdir) / app.config.offline_assets_node_modules).resolve()


def check_node_modules(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    root = _node_modules(app)
    missing = [p for p in REQUIRED if not (root / p).is_file()]
    if missing:
        raise ExtensionError(
            "offline_assets: missing " + ", ".join(missing) + f" under {root}. "
            "Run `npm ci` in the repository root (or `make install`) first."
        )


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    root = _node_modules(app)
    dest_root = Path(app.outdir) / "_static" / VENDOR_DIR
    n_files = 0
    for pkg_dir, patterns, dest_name in ASSETS:
        src_base = root / pkg_dir
        dest_base = dest_root / dest_name
        for pattern in patterns:
            if pattern.endswith("/"):
                src = src_base / pattern
                if not src.is_dir():
                    raise ExtensionError(f"offline_assets: missing directory {src}")
                shutil.copytree(src, dest_base / pattern, dirs_exist_ok=True)
                n_files += sum(1 for p in src.rglob("*") if p.is_file())
            else:
                matches = sorted(src_base.glob(pattern))
                if not matches:
                    raise ExtensionError(f"offline_assets: nothing matches {src_base / pattern}")
                for src in matches:
                    (dest_base / src.relative_to(src_base)).parent.mkdir(parents=True,
                                                                         exist_ok=True)
                    shutil.copy2(src, dest_base / src.relative_to(src_base))
                    n_files += 1
    logger.info(f"offline_assets: copied {n_files} files into {dest_root}")
    # The theme ships source maps (3.4 MB) that only a browser's developer tools read.
    maps = list((Path(app.outdir) / "_static").rglob("*.map"))
    for path in maps:
        path.unlink()
    logger.info(f"offline_assets: removed {len(maps)} source maps from _static")


def _thebe_enabled(app: Sphinx) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    return bool(launch.get("thebe", False))


def _is_thebe_script(js) -> bool:
    filename = getattr(js, "filename", None) or str(js)
    body = (getattr(js, "attributes", None) or {}).get("body", "")
    return "sphinx-thebe" in (filename or "") or "THEBE_JS_URL" in (body or "")


def fix_thebe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    if not _thebe_enabled(app):
        context["script_files"] = [js for js in scripts if not _is_thebe_script(js)]
        return
    seen = set()
    kept = []
    for js in scripts:
        key = (getattr(js, "filename", None) or str(js),
               (getattr(js, "attributes", None) or {}).get("body", ""))
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    context["script_files"] = kept


def substitute_repository_url(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace @REPOSITORY_URL@ in page sources with ``repository.url`` from _config.yml."""
    url = (app.config.html_theme_options or {}).get("repository_url", "")
    if "@REPOSITORY_URL@" in source[0]:
        if not url:
            logger.warning("offline_assets: @REPOSITORY_URL@ used but repository.url is unset")
        source[0] = source[0].replace("@REPOSITORY_URL@", url)


def strip_thebe_nodes(app: Sphinx, doctree, docname: str) -> None:
    """With thebe off, drop the per-page thebe config sphinx-thebe appends anyway."""
    if _thebe_enabled(app):
        return
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "text/x-thebe-config" in text or text.strip().startswith("<script>kernelName ="):
            node.parent.remove(node)


def strip_cdn_links_from_outputs(app: Sphinx, doctree, docname: str) -> None:
    """Drop the Font Awesome 4 CDN <link> matplotlib puts in every jshtml animation.

    ``FuncAnimation.to_jshtml()`` starts with a stylesheet link to
    maxcdn.bootstrapcdn.com for its button icons. The theme already ships Font Awesome
    (as JavaScript that also renders the old ``fa fa-play`` class names), so the link
    is only an external request that fails offline.
    """
    for node in doctree.findall(nodes.raw):
        if "html" not in node.get("format", "").split():
            continue
        text = node.astext()
        new = FONT_AWESOME_CDN.sub("", text)
        if new != text:
            node.children = []
            node += nodes.Text(new)


def setup(app: Sphinx):
    app.add_config_value("offline_assets_node_modules", "node_modules", "html")
    app.connect("builder-inited", check_node_modules)
    app.connect("source-read", substitute_repository_url)
    app.connect("doctree-resolved", strip_cdn_links_from_outputs)
    app.connect("doctree-resolved", strip_thebe_nodes, priority=900)  # after sphinx-thebe
    app.connect("html-page-context", fix_thebe_scripts, priority=900)
    app.connect("build-finished", copy_assets)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
