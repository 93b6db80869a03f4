"""The pages' Content-Security-Policy in Chromium: markup that got into a page runs
nothing and is reported; the pages that bring other people's code (the API docs, the
admin) work under it. Every other browser test fails on any refusal (conftest.py)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

INJECT = """() => {
  document.body.insertAdjacentHTML("beforeend",
    '<img id="probe-img" src="/static/frontend/icon.svg?x" onload="window.__ran = 1">' +
    '<p id="probe-style" style="color: rgb(1, 2, 3)">styled</p>');
  const script = document.createElement("script");
  script.textContent = "window.__ran2 = 1";
  document.head.append(script);
}"""


def test_markup_that_got_into_a_page_runs_nothing_and_is_reported(server, open_page):
    page = open_page(server, "dangyuan", f"/branches/{server.branch_id('第一党支部')}/announcements/")
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")
    page.evaluate(INJECT)
    expect(page.locator("#probe-img")).to_have_js_property("complete", True)  # the image itself loads
    assert page.evaluate("[window.__ran, window.__ran2]") == [None, None]
    assert page.locator("#probe-style").evaluate("e => getComputedStyle(e).color") != "rgb(1, 2, 3)"
    # Chromium told the console, and sent reports to /csp-report, which the server logs.
    refused = open_page.policy_refusals
    assert any("inline event handler" in r for r in refused), refused
    assert any("inline script" in r for r in refused), refused
    assert any("inline style" in r for r in refused), refused
    refused.clear()
    deadline = time.monotonic() + 10
    while "page policy refused 'script-src-elem'" not in server.log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.2)
    # The page and its live connection are none the worse.
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")


def test_the_api_docs_work_from_our_own_files(server, open_page):
    page = open_page(server, None, "/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"/api/branches/\{branch_id\}/announcements"))).not_to_have_count(0)


def test_the_admin_works_under_the_policy(server, open_page):
    branch = server.branch_id("第一党支部")
    page = open_page(server, "admin", f"/admin/accounts/branch/{branch}/change/")
    rows = page.locator("tr.dynamic-membership_set, tr.dynamic-memberships")
    before = rows.count()
    page.locator(".add-row a").click()  # the inlines' script adds the row
    expect(rows).to_have_count(before + 1)
    # The change list's actions and filters (admin's own scripts).
    page.goto("/admin/accounts/membership/")
    page.locator("#action-toggle").check()
    count = page.locator(".action-counter")
    total = count.get_attribute("data-actions-icnt")
    expect(count).to_contain_text(f"{total} 个中的 {total} 个")  # counted by actions.js
