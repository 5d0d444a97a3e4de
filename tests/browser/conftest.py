"""Debian's Chromium, driven by Playwright, for the browser tests of the book and of JupyterLab.

`playwright install` cannot download browsers here, so the tests launch the system's
Chromium (or the one named by $CHROMIUM) with the flags this machine needs: no sandbox
as root, no GPU, and none of the background connections a closed network refuses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium():
    """A launched Chromium, shared by the tests of one module."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium "
                    "(apt-get install chromium) or set CHROMIUM=/path/to/chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
