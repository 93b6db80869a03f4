"""支部概况 in Chromium: the front page a member lands on, kept current without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def wait_online(page) -> None:
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")


def test_the_overview_follows_leave_and_announcements_without_a_reload(own_server, open_page):
    server = own_server
    branch = server.branch_id("第一党支部")
    ((meeting, title),) = server.query("SELECT id, title FROM meetings_meeting WHERE kind = 'general' "
                                       "AND status = 'scheduled'")
    # Logging in lands on the first branch's overview.
    secretary = open_page(server, "shuji")
    expect(secretary).to_have_url(re.compile(rf"/branches/{branch}/$"))
    expect(secretary.locator("h1")).to_have_text("概况")
    expect(secretary.get_by_role("navigation", name="本支部栏目").locator("[aria-current=page]")).to_have_text("概况")
    expect(secretary.locator("#overview-upcoming")).to_contain_text(title)
    # The demo has leave waiting already; the list grows by one below.
    waiting = secretary.locator("#todo-leave li")
    waiting_before = waiting.count()
    member = open_page(server, "dangyuan", f"/branches/{branch}/", background=True)  # what arrives stays unread
    badge = member.locator("#overview-unread")
    unread_before = int(re.match(r"\d+", badge.inner_text()).group()) if badge.count() else 0
    for page in (secretary, member):
        wait_online(page)

    # A member asks for leave on the meeting's page: the secretary's overview lists it.
    asker = open_page(server, "banzhu", f"/meetings/{meeting}/")
    wait_online(asker)
    asker.fill("#leave-reason", "当天需要值班")
    asker.click("#leave-form button[type=submit]")
    expect(asker.locator("#my-leave")).to_have_attribute("data-status", "pending")
    expect(waiting).to_have_count(waiting_before + 1)
    expect(secretary.locator("#todo-leave strong")).to_have_text(f"{waiting_before + 1} 条请假待审批")
    secretary.locator("#todo-leave a", has_text=f"李版主 · {title}").click()
    expect(secretary).to_have_url(re.compile(rf"/meetings/{meeting}/#leave-panel$"))
    expect(secretary.locator("#leave-requests .leave-item", has_text="当天需要值班")).to_have_count(1)
    member.reload()  # a member's overview never shows another's leave
    expect(member.locator("#todo-leave")).to_have_count(0)
    wait_online(member)

    # An announcement posted elsewhere appears on the member's overview, unread.
    server.post_announcement(username="shuji", branch_id=branch, title="概况页实时公告", body="请查收。")
    expect(member.locator(".overview-announcements li").first).to_contain_text("概况页实时公告")
    expect(member.locator(".overview-announcements li.is-unread", has_text="概况页实时公告")).to_have_count(1)
    expect(member.locator("#overview-unread")).to_have_text(f"{unread_before + 1} 条未读")
