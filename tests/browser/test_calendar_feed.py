"""日历订阅 in Chromium: a member makes their calendar's address on 我的账号, a calendar
(a plain HTTP client, no cookies) reads their meetings from it, and one meeting comes as
a file from its page."""

from __future__ import annotations

import urllib.error
import urllib.request

import icalendar
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def fetch(url: str) -> tuple[int, str]:
    """What a calendar app gets: no session, no cookies."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, ""


def titles(body: str) -> list[str]:
    return [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]


def test_a_member_adds_their_meetings_to_a_calendar(own_server, open_page):
    server = own_server
    ((meeting, title),) = server.query("SELECT id, title FROM meetings_meeting WHERE kind = 'general' "
                                       "AND status = 'scheduled'")
    page = open_page(server, "dangyuan", "/account/")
    section = page.locator("#calendar")
    expect(section.locator("h2")).to_have_text("日历订阅")
    section.get_by_role("button", name="生成我的日历订阅地址").click()
    expect(page.locator(".flash p", has_text="日历订阅地址已生成")).to_be_visible()
    url = page.locator("#calendar-url").input_value()
    assert url.startswith(server.url + "/meetings/feed/") and url.endswith(".ics")
    expect(page.locator("#calendar-webcal")).to_have_attribute("href", "webcal" + url[len("http"):])
    expect(page.locator("#calendar-used")).to_contain_text("尚未被日历获取")
    copy = section.get_by_role("button", name="复制")
    expect(copy).to_be_visible()  # the script shows it where the browser can copy
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy.click()
    expect(page.locator("#calendar-copy-status")).to_have_text("已复制。")
    assert page.evaluate("navigator.clipboard.readText()") == url

    status, body = fetch(url)
    assert status == 200
    # 张党员 has approved leave from the December meeting in the demo data.
    assert f"【已请假】{title}" in titles(body)
    page.reload()
    expect(page.locator("#calendar-used")).to_contain_text("日历最近一次获取于")

    # The bell says an address was made (a security notice).
    page.goto("/notifications/")
    expect(page.locator("main")).to_contain_text("生成了您的会议日历订阅地址")

    # A new address cuts the old one off.
    page.goto("/account/#calendar")
    section.get_by_role("button", name="生成新地址").click()
    expect(page.locator(".flash p", has_text="原来的地址已失效")).to_be_visible()
    new_url = page.locator("#calendar-url").input_value()
    assert new_url != url
    assert fetch(url)[0] == 404 and fetch(new_url)[0] == 200
    section.get_by_role("button", name="停用此地址").click()
    expect(page.locator(".flash p", has_text="日历订阅地址已停用")).to_be_visible()
    expect(page.locator("#calendar-url")).to_have_count(0)
    assert fetch(new_url)[0] == 404

    # One meeting, from its page, as a file for the calendar.
    page.goto(f"/meetings/{meeting}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="添加到我的日历（.ics）").click()
    assert download.value.suggested_filename == f"{title}.ics"
    (event,) = icalendar.Calendar.from_ical(open(download.value.path(), encoding="utf-8").read()).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"【已请假】{title}"
    # The calendar page leads to the address.
    page.goto(page.locator(".eyebrow a").get_attribute("href"))
    page.get_by_role("link", name="在手机或电脑日历中订阅我的会议").click()
    expect(page.locator("#calendar h2")).to_be_in_viewport()
