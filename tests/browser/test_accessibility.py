"""Accessibility: axe-core (bundled by axe-playwright-python, nothing downloaded) finds no
serious or critical violation on the main pages, in Chinese and in English, and on a
device set to dark (the dark palette's contrast), for a visitor, a member, a
probationary member and a secretary, once each page is live."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BRANCH = "第一党支部"
BLOCKING = ("serious", "critical")


def one_id(server, sql: str) -> int:
    rows = server.query(sql)
    assert rows, sql
    return rows[0][0]


def pages_for(server) -> dict[str, list[str]]:
    branch = server.branch_id(BRANCH)
    live = one_id(server, "SELECT id FROM meetings_meeting WHERE status = 'live'")
    ended = one_id(server, "SELECT id FROM meetings_meeting WHERE status = 'ended'")
    public = one_id(server, "SELECT id FROM forum_board WHERE visibility = 'public'")
    topic = one_id(server, "SELECT id FROM forum_topic ORDER BY id")
    return {
        "": ["/", "/login/", f"/forum/boards/{public}/", "/citizen/", "/no-such-page/", "/password/forgot/",
             "/password/set/MQ/not-a-token/", "/offline/"],
        "dangyuan": [f"/branches/{branch}/", f"/branches/{branch}/meetings/mine/", f"/branches/{branch}/announcements/",
                     f"/branches/{branch}/forum/", f"/forum/topics/{topic}/",
                     f"/branches/{branch}/meetings/", f"/meetings/{live}/", f"/meetings/{ended}/minutes/", "/account/",
                     f"/branches/{branch}/members/", "/notifications/", "/account/security/",
                     f"/branches/{branch}/announcements/search/?q=支部"],
        "yubei": [f"/meetings/{live}/", f"/forum/topics/{topic}/"],
        "shuji": [f"/branches/{branch}/", f"/branches/{branch}/announcements/", f"/branches/{branch}/review/",
                  f"/branches/{branch}/watched-words/", f"/branches/{branch}/audit/", f"/meetings/{live}/",
                  f"/meetings/{ended}/attendance/", "/forum/search/?q=停车",
                  f"/branches/{branch}/members/"],
    }


def violations(page) -> list[str]:
    # Scripted pages first draw from the server's snapshot; check what people then see.
    if page.locator("#conn-status").count():
        expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")
    page.wait_for_timeout(300)
    found = Axe().run(page).response["violations"]
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[' '.join(map(str, n['target'])) for n in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("locale, scheme", [("zh-CN", "light"), ("en", "light"), ("zh-CN", "dark")])
def test_main_pages_have_no_serious_accessibility_violations(server, open_page, locale, scheme):
    problems = {}
    for username, paths in pages_for(server).items():
        page = open_page(server, username or None, "/", color_scheme=scheme)
        if locale == "en":
            page.get_by_role("button", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
        for path in paths:
            page.goto(path)
            found = violations(page)
            if found:
                problems[f"{username or 'visitor'} {path}"] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
