"""The offline page: a page that cannot be loaded because the server (or the device)
is offline shows Branchline's own page, in the member's language, instead of the
browser's error, and the page asked for opens by itself once the server answers. Pages
are never answered from the worker's cache while the server is up."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def controlled(page) -> None:
    """Wait until the site's service worker runs this page."""
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)


def test_a_page_that_cannot_load_shows_the_offline_page_and_opens_when_the_server_is_back(own_server, open_page):
    server = own_server
    branch = server.branch_id("第一党支部")
    page = open_page(server, "dangyuan", "/notifications/")
    controlled(page)
    page.goto(f"/branches/{branch}/announcements/")
    expect(page.get_by_role("heading", name="通知公告", exact=True)).to_be_visible()  # online: the server's page

    server.stop()
    page.goto(f"/branches/{branch}/forum/")
    expect(page.get_by_role("heading", name="暂时连不上 Branchline")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert page.url.endswith(f"/branches/{branch}/forum/")  # the address asked for, kept
    page.get_by_role("button", name="重试").click()  # still down: stays
    expect(page.get_by_role("heading", name="暂时连不上 Branchline")).to_be_visible()

    server.start()
    # The page tries again every 5 s, and opens the forum by itself.
    expect(page.get_by_role("heading", name="微论坛")).to_be_visible(timeout=20_000)
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")


def test_in_english_for_a_member_who_chose_it(own_server, open_page):
    server = own_server
    page = open_page(server, "dangyuan", "/notifications/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    controlled(page)
    server.stop()
    try:
        page.goto("/account/")
        expect(page.get_by_role("heading", name="Branchline cannot be reached")).to_be_visible()
        expect(page.get_by_role("button", name="Try again")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        server.start()
