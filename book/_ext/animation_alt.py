"""Give pre-rendered animations the alt text of their cell, like image outputs get.

myst-nb applies a cell's `mystnb: image: alt:` metadata to image outputs only. A
matplotlib jshtml animation is an HTML output whose frames are shown in one
`<img id="_anim_img...">` that has no alt attribute, so a screen reader announces
nothing (or the data URL). This extension copies the cell's alt text onto that <img>,
after myst-nb has chosen which output to render. A cell with an animation and no alt
text fails the build, so a new animation cannot be published without one.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

ANIMATION_IMG = re.compile(r"<img id=\"_anim_img")


def _alt_text(cell_metadata) -> str:
    image = (cell_metadata or {}).get("mystnb", {}).get("image", {}) or {}
    return " ".join(str(image.get("alt", "")).split())


def add_animation_alt(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        for raw in list(cell.findall(nodes.raw)):
            text = raw.astext()
            if not ANIMATION_IMG.search(text):
                continue
            alt = _alt_text(cell.get("cell_metadata"))
            if not alt:
                logger.warning("animation output without alt text: add `mystnb: image: "
                               "alt:` to the cell's metadata", location=cell)
                continue
            text = ANIMATION_IMG.sub(f'<img alt="{html.escape(alt, quote=True)}" '
                                     'id="_anim_img', text)
            raw.replace_self(nodes.raw(text, text, format=raw.get("format", "html")))


def setup(app: Sphinx):
    app.connect("doctree-resolved", add_animation_alt)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
