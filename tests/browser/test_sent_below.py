"""下发 in Chromium: the 党委's secretary ticks "all of them" under the compose form and
publishes; a member of a branch below sees the copy arrive live, marked as from the
党委, and the secretary's original says where it went and, opened, how far each
branch below has read it; withdrawn there, it is gone below too."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .test_accessibility import violations
from .test_announcements_live import wait_online

pytestmark = pytest.mark.browser


def test_a_committee_notice_reaches_the_branches_below_live(own_server, open_page):
    committee = own_server.branch_id("城东街道党委")
    branch = own_server.branch_id("第一党支部")
    member = open_page(own_server, "dangyuan", f"/branches/{branch}/announcements/", background=True)
    secretary = open_page(own_server, "dangwei", f"/branches/{committee}/announcements/")
    wait_online(member)
    wait_online(secretary)

    below = secretary.locator("#compose .also-field")
    expect(below.locator("legend")).to_have_text("同时下发到下级组织")
    expect(below.locator("#compose-also label")).to_have_text(["第一党支部", "第一党小组", "第二党支部"])
    below.get_by_label("全部下级组织").check()
    expect(below.locator("#compose-also input:checked")).to_have_count(3)
    below.get_by_label("第一党小组").uncheck()
    expect(below.get_by_label("全部下级组织")).not_to_be_checked()
    assert below.get_by_label("全部下级组织").evaluate("box => box.indeterminate")
    assert not violations(secretary)
    if os.environ.get("BL_SHOTS"):
        secretary.locator("#compose").screenshot(path=os.path.join(os.environ["BL_SHOTS"], "sent-below-compose.png"))

    title = f"关于开展冬季送温暖活动的通知 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "各党支部：请于本月底前走访慰问困难党员。")
    secretary.click("#compose button[type=submit]")
    expect(secretary.locator("#compose-status")).to_have_text("已发布。")
    expect(below.locator("#compose-also input:checked")).to_have_count(0)  # the form starts afresh

    original = secretary.locator("#announcement-list .announcement", has_text=title)
    expect(original.locator(".announcement-routing")).to_have_text("已同时下发到：第一党支部、第二党支部")
    copy = member.locator("#announcement-list .announcement", has_text=title)
    expect(copy.locator(".announcement-routing")).to_have_text("来自城东街道党委")
    expect(copy).to_have_class(re.compile(r"\bis-unread\b"))

    # The branch's own secretary may pin the 党委's copy, not change or withdraw it.
    branch_secretary = open_page(own_server, "shuji", f"/branches/{branch}/announcements/", background=True)
    wait_online(branch_secretary)
    actions = branch_secretary.locator("#announcement-list .announcement", has_text=title).locator(".announcement-actions")
    expect(actions.get_by_role("button", name="置顶")).to_have_count(1)
    expect(actions.get_by_role("button", name=re.compile("编辑|撤回"))).to_have_count(0)

    # Opened, the original shows each branch's own reading of its copy.
    secretary.locator(".announcement-title a", has_text=title).click()
    expect(secretary.locator("#below li")).to_have_text([re.compile(r"^第一党支部 已读 0/\d+$"),
                                                        re.compile(r"^第二党支部 已读 0/\d+$")])
    member.goto(secretary.locator("#below li a").first.get_attribute("href"))  # the member opens A's copy
    expect(member.locator(".announcement-routing")).to_have_text("来自城东街道党委")
    secretary.reload()
    expect(secretary.locator("#below li").first).to_have_text(re.compile(r"^第一党支部 已读 1/\d+$"))

    # On the 党委's list the original counts its readers below, each person once, and
    # moves live as they read; its list of readers says whose branch each is.
    secretary.goto(f"/branches/{committee}/announcements/")
    wait_online(secretary)
    toggle = secretary.locator("#announcement-list .announcement", has_text=title).locator(".receipt-toggle")
    expect(toggle).to_have_text(re.compile(r"^已读 1/\d+$"))
    second = open_page(own_server, "shuji2", f"/branches/{own_server.branch_id('第二党支部')}/announcements/")
    wait_online(second)  # the copy on screen for a moment: read
    expect(toggle).to_have_text(re.compile(r"^已读 2/\d+$"))
    toggle.click()
    expect(secretary.locator(".receipt-read")).to_contain_text("陈书记（第二党支部）")
    expect(secretary.locator(".receipt-unread")).to_contain_text("赵预备（第一党支部）")
    second.close()

    # Withdrawn from the 党委's list, it is gone from the branch below as well.
    member.goto(f"/branches/{branch}/announcements/")
    wait_online(member)
    expect(member.locator("#announcement-list .announcement", has_text=title)).to_have_count(1)
    withdraw = secretary.locator("#announcement-list .announcement", has_text=title).get_by_role("button", name="撤回")
    withdraw.click()
    secretary.get_by_role("button", name="撤回此通知及下发到下级组织的各份？").click()
    expect(member.locator("#announcement-list .announcement", has_text=title)).to_have_count(0)


def test_the_branches_ticked_are_kept_in_the_draft_and_changed_while_it_waits(own_server, open_page):
    """The branches below ticked in the compose form are part of its draft (a reload
    keeps them with the text); one scheduled for later is changed in the 待发布 list with
    the same tree, ticked as it stands."""
    committee = own_server.branch_id("城东街道党委")
    secretary = open_page(own_server, "dangwei", f"/branches/{committee}/announcements/")
    wait_online(secretary)
    title = f"关于报送年度党费收缴情况的通知 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "请各支部于月底前报送。")
    below = secretary.locator("#compose .also-field")
    below.get_by_label("第二党支部").check()
    secretary.wait_for_timeout(1500)  # a moment after the last change, the draft is kept
    secretary.reload()
    wait_online(secretary)
    expect(secretary.locator("#compose .draft-note")).to_be_visible()
    expect(secretary.locator("#compose-title")).to_have_value(title)
    expect(below.locator("#compose-also input:checked")).to_have_count(1)
    expect(below.get_by_label("第二党支部")).to_be_checked()
    assert below.get_by_label("全部下级组织").evaluate("box => box.indeterminate")

    secretary.check("#compose-later")
    tomorrow = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).strftime("%Y-%m-%d")
    secretary.fill("#compose-publish-at", f"{tomorrow}T08:00")
    secretary.click("#compose-submit")
    item = secretary.locator("#scheduled-list .scheduled-item", has_text=title)
    expect(item).to_contain_text("已同时下发到：第二党支部")
    expect(below.locator("#compose-also input:checked")).to_have_count(0)
    secretary.reload()  # posted: the draft is gone, ticks and all
    wait_online(secretary)
    expect(secretary.locator("#compose-title")).to_have_value("")
    expect(below.locator("#compose-also input:checked")).to_have_count(0)

    item.get_by_role("button", name="更改").click()
    editing = secretary.locator("#scheduled-list .scheduled-item.is-editing")
    expect(editing.get_by_label("第二党支部")).to_be_checked()
    expect(editing.get_by_label("第一党支部")).not_to_be_checked()
    editing.get_by_label("全部下级组织").check()
    expect(editing.locator("input[name=also]:checked")).to_have_count(3)
    assert not violations(secretary)
    editing.locator("button[type=submit]").click()
    expect(item).to_contain_text("已同时下发到：第一党支部、第一党小组、第二党支部")
    expect(below.locator("#compose-also input:checked")).to_have_count(0)  # the compose form's own are untouched

    cancel = item.locator("button.danger")
    cancel.click()
    cancel.click()
    expect(item).to_have_count(0)
