"""Branchline can be put on a phone's home screen or installed as an app: Chromium
reads the manifest, its icons and the page and finds nothing that stops it."""

from __future__ import annotations

import pytest

from .conftest import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def test_chromium_finds_the_site_installable(server, browser, chromium_path, tmp_path):
    # A profile of its own: Chromium installs nothing from an incognito window, which is
    # what the other tests' contexts are.
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=chromium_path, args=CHROMIUM_ARGS)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login/")
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [] and manifest["url"].endswith("/manifest.webmanifest")
        assert '"short_name":"支部在线"' in manifest["data"].replace(" ", "")
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()
