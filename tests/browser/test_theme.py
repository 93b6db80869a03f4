"""外观 in Chromium: the pages follow the device's light or dark setting, and a member's
choice on 我的账号 wins over the device's, on each browser they log in to; larger text
grows everything and still fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PHONE

pytestmark = pytest.mark.browser

LIGHT_BG = "rgb(245, 246, 247)"
DARK_BG = "rgb(20, 23, 25)"


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.documentElement).backgroundColor")


def choose(page, *labels: str) -> None:
    page.goto("/account/#appearance")
    form = page.locator("#appearance-form")
    for label in labels:
        form.get_by_label(label, exact=True).check()
    form.get_by_role("button").click()
    expect(page.locator(".flash")).to_contain_text("外观已保存")


def test_the_pages_follow_the_device_until_a_member_chooses(server, open_page):
    visitor = open_page(server, None, "/login/", color_scheme="dark")
    assert background(visitor) == DARK_BG
    assert visitor.evaluate("getComputedStyle(document.querySelector('.card')).color") == "rgb(227, 230, 233)"
    assert background(open_page(server, None, "/login/")) == LIGHT_BG

    member = open_page(server, "shuji2", "/account/", color_scheme="dark")
    try:
        assert background(member) == DARK_BG
        choose(member, "浅色")
        assert background(member) == LIGHT_BG  # on a dark device
        choose(member, "深色")
        assert background(member) == DARK_BG

        elsewhere = open_page(server, "shuji2", "/notifications/")  # a light device
        expect(elsewhere.locator("html")).to_have_attribute("data-theme", "dark")
        assert background(elsewhere) == DARK_BG
        # A filled button keeps white text on its red in both.
        assert elsewhere.evaluate(
            "getComputedStyle(document.querySelector('.button-primary, .badge, .count')).color") == "rgb(255, 255, 255)"
    finally:
        choose(member, "跟随设备")
    assert background(member) == DARK_BG
    member.emulate_media(color_scheme="light")
    assert background(member) == LIGHT_BG


def test_larger_text_grows_everything_and_still_fits_a_phone(server, open_page):
    branch = server.branch_id("第一党支部")
    topic = server.query("SELECT id FROM forum_topic ORDER BY id")[0][0]
    live = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")[0][0]
    page = open_page(server, "dangyuan", "/account/", viewport=PHONE)

    def size(selector: str) -> float:
        return page.evaluate(f"parseFloat(getComputedStyle(document.querySelector('{selector}')).fontSize)")

    standard = size("html"), size(".button"), size("h1")
    try:
        choose(page, "特大")
        assert (size("html"), size(".button"), size("h1")) == tuple(x * 22 / 16 for x in standard)
        for path in (f"/branches/{branch}/", f"/branches/{branch}/announcements/", f"/branches/{branch}/forum/",
                     f"/forum/topics/{topic}/",
                     f"/branches/{branch}/meetings/", f"/meetings/{live}/", f"/branches/{branch}/members/",
                     "/notifications/", "/account/"):
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("data-text-size", "larger")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        choose(page, "大")
        assert size("html") == 19
    finally:
        choose(page, "标准")
    assert (size("html"), size(".button"), size("h1")) == standard


def test_a_visitor_presses_large_text_in_the_header(server, open_page):
    page = open_page(server, None, "/citizen/", viewport=PHONE)
    button = page.locator(".text-switch button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(page.locator("html")).to_have_attribute("data-text-size", "large")
    assert page.url.endswith("/citizen/")  # back where it was pressed
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "19px"
    page.goto("/login/")  # this browser keeps it
    expect(page.locator(".text-switch button")).to_have_attribute("aria-pressed", "true")
    page.locator(".text-switch button").click()
    expect(page.locator("html")).not_to_have_attribute("data-text-size", "large")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "16px"


def test_paper_is_light_whatever_the_screens_theme(server, open_page):
    page = open_page(server, "shuji2", "/account/", color_scheme="dark")
    try:
        choose(page, "深色")
        assert background(page) == DARK_BG
        page.emulate_media(media="print")
        assert page.evaluate("getComputedStyle(document.querySelector('.muted')).color") == "rgb(92, 102, 112)"
    finally:
        page.emulate_media(media="screen")
        choose(page, "跟随设备")
