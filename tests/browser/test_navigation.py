"""The header: the user's branches, the admin link for staff, logging out with a POST."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_staff_sees_admin_link_and_can_log_out(server, open_page):
    page = open_page(server, "admin", "/")
    expect(page.locator("main")).to_contain_text("您尚未加入任何支部")
    expect(page.get_by_role("link", name="管理后台")).to_have_attribute("href", "/admin/")

    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("header").get_by_role("link", name="登录")).to_be_visible()
    expect(page.get_by_role("button", name="退出登录")).to_have_count(0)


def test_navigation_lists_the_branches_a_member_reads(server, open_page):
    member = open_page(server, "dangyuan", "/")
    nav = member.get_by_role("navigation", name="我的支部")
    # Each tab may carry its count of unread announcements ("第一党支部 1 条未读").
    expect(nav.get_by_role("link")).to_have_text([re.compile(r"^第一党支部( \d+ 条未读)?$"),
                                                  re.compile(r"^第一党小组( \d+ 条未读)?$")])
    expect(nav.locator("[aria-current=page]")).to_have_text(re.compile(r"^第一党支部"))  # home leads to the first
    expect(member.get_by_role("link", name="管理后台")).to_have_count(0)

    # A committee secretary reads the branches under the committee, so they are offered.
    committee = open_page(server, "dangwei", "/")
    nav = committee.get_by_role("navigation", name="我的支部")
    # Counts only on the tabs of branches one belongs to (the committee itself here).
    committee_tab = re.compile(r"^城东街道党委( \d+ 条未读)?$")
    expect(nav.get_by_role("link")).to_have_text([committee_tab, "第一党支部", "第二党支部", "第一党小组"])
    nav.get_by_role("link", name="第二党支部").click()
    expect(committee.locator("h1")).to_contain_text("概况")  # the branch's front page
    expect(committee.locator(".overview-announcements a", has_text="第二党支部志愿服务报名")).to_have_count(1)
