"""Put the package version and the build date in every page's footer.

A local Sphinx extension (``_config.yml``, ``sphinx.local_extensions``). The version
is read from ``pyproject.toml`` (``[project] version``), the one place it is written,
so the footer names the engine the book was built with without a second copy to keep
in sync. The date comes from the theme's own "Last updated on" item, which Sphinx fills
from ``html_last_updated_fmt`` (set in ``_config.yml``; Sphinx honours
``SOURCE_DATE_EPOCH`` for reproducible builds).
"""

from __future__ import annotations

import html
import tomllib
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def project_version(pyproject: Path = PYPROJECT) -> str:
    """The ``[project] version`` of ``pyproject.toml``; a clear error if it is missing."""
    try:
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ExtensionError(
            f"book_footer: cannot read [project] version from {pyproject} ({exc!r}); "
            "the footer shows the package version, so pyproject.toml must set it") from exc


def _set_footer(app: Sphinx, config: Config) -> None:
    version = project_version()
    config.version = config.release = version
    options = dict(config.html_theme_options or {})
    existing = options.get("extra_footer", "")
    options["extra_footer"] = (
        f"{existing}<p class=\"book-version\">Built with mini_autograd "
        f"{html.escape(version)}.</p>")
    config.html_theme_options = options


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _set_footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
