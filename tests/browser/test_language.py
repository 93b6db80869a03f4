"""Simplified Chinese by default; English after the language switch (and back)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_chinese_by_default_and_english_after_switching(server, open_page):
    path = f"/branches/{server.branch_id('第一党支部')}/announcements/"
    page = open_page(server, "dangyuan", path, locale="zh-CN")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("通知公告")
    expect(page.locator("#conn-status")).to_have_text("在线")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.locator("#mark-all-read")).to_have_text("全部标为已读")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith(path), "the switch returns to the same page"
    expect(page.locator("h1")).to_contain_text("Announcements")
    expect(page.locator("#conn-status")).to_have_text("Online")  # strings passed to the JS too
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("#mark-all-read")).to_have_text("Mark all read")
    expect(page.locator("body")).not_to_contain_text("通知公告")

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("通知公告")


def test_server_validation_errors_follow_the_page_language(server, open_page):
    path = f"/branches/{server.branch_id('第一党支部')}/announcements/"
    page = open_page(server, "shuji", path, locale="zh-CN")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#announcement-list")).to_have_attribute("data-synced", "true")
    page.fill("#compose-title", "  ")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#compose-title-error")).to_have_text("A title is required.")
    expect(page.locator("#compose-error")).to_have_text("Please correct the highlighted field.")


@pytest.mark.parametrize("browser_locale", ["en-US", "fr-FR"])
def test_visitors_get_chinese_whatever_their_browser_language(server, open_page, browser_locale):
    # Only the switch (the language cookie) chooses English: members' phones are
    # often set to English (server/middleware.py).
    page = open_page(server, None, "/", locale=browser_locale)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("Branchline")
    expect(page.locator("main")).to_contain_text("通知公告")
    expect(page.locator("main").get_by_role("link", name="登录")).to_be_visible()
    expect(page.locator("#conn-status")).to_have_count(0)  # no socket for visitors


def test_login_errors_are_clear(server, open_page):
    page = open_page(server, None, "/login/")
    expect(page.locator(".demo-hint")).to_contain_text("branchline-demo")
    page.fill("#id_username", "dangyuan")
    page.fill("#id_password", "wrong password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_contain_text("请输入一个正确的")
    expect(page.locator("#id_username")).to_have_value("dangyuan")
