"""A branch meeting in three browsers: the chair schedules and starts it, two members join,
one raises a hand, the chair opens a vote, both vote, and every page shows the result and
the quorum live; then the minutes list the attendance and the resolution.

Set BRANCHLINE_SCREENSHOT_DIR to also save the chair's page (desktop width) as meeting.png
there (the README's picture is made this way).
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import PHONE

pytestmark = pytest.mark.browser

BRANCH = "第一党支部"


def wait_online(page) -> None:
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")


def quorum(page, present: int, expected: int = 3) -> None:
    box = page.locator("#quorum")
    expect(box).to_have_attribute("data-present", str(present))
    expect(box).to_have_attribute("data-expected", str(expected))
    expect(page.locator("#quorum-line")).to_have_text(f"有表决权党员到会 {present} 人 / 应到 {expected} 人")


def test_meeting_runs_live_on_three_pages(own_server, open_page):
    server = own_server
    branch = server.branch_id(BRANCH)
    title = f"支部党员大会 {uuid.uuid4().hex[:6]}"
    motion = "同意李版主为优秀共产党员推荐人选"

    # The chair (王书记, the secretary) schedules the meeting from the calendar.
    chair = open_page(server, "shuji", f"/branches/{branch}/meetings/")
    wait_online(chair)
    chair.locator("#schedule-details summary").click()
    # An end before the start is refused at its field, and nothing typed is lost.
    chair.fill("#f-title", title)
    chair.fill("#f-end", chair.input_value("#f-start").replace("T09:00", "T08:00"))
    chair.click("#schedule-form button[type=submit]")
    expect(chair.locator("#f-end")).to_have_attribute("aria-invalid", "true")
    expect(chair.locator("#f-end-error")).to_be_visible()
    expect(chair.locator("#f-title")).to_have_value(title)
    chair.fill("#f-end", chair.input_value("#f-start").replace("T09:00", "T11:00"))
    chair.select_option("#f-kind", "general")
    chair.fill("#f-agenda", "学习党章\n表决推荐人选")
    chair.click("#schedule-form button[type=submit]")
    expect(chair.locator("#scheduled-link")).to_have_text(title)
    expect(chair.locator("#meeting-calendar .meeting-title", has_text=title)).to_have_count(1)  # live list
    chair.click("#scheduled-link")
    wait_online(chair)
    expect(chair.locator("#meeting-status")).to_have_attribute("data-status", "scheduled")
    # Entered and shown in the branch's zone, though the browser is in New York.
    expect(chair.locator("#meeting-starts")).to_have_text(re.compile(r" 09:00$"))

    # The chair starts it.
    chair.click("#btn-start")
    expect(chair.locator("#meeting-status")).to_have_attribute("data-status", "live")
    expect(chair.locator("#meeting-status")).to_have_text("进行中")
    expect(chair.locator("#agenda .is-current")).to_contain_text("学习党章")
    quorum(chair, 1)
    meeting_path = chair.url.replace(server.url, "")

    # Two members join: one at desktop width, one on a phone.
    banzhu = open_page(server, "banzhu", meeting_path)
    dangyuan = open_page(server, "dangyuan", meeting_path, viewport=PHONE)
    for page in (banzhu, dangyuan):
        wait_online(page)
        expect(page.locator("#room-actions")).to_be_visible()
        expect(page.locator("#console")).to_have_count(0)  # no chair console for members
    for page in (chair, banzhu, dangyuan):
        quorum(page, 3)
        expect(page.locator("#quorum-motion")).to_have_attribute("data-met", "true")
    expect(chair.locator('#participants [data-user][data-connected="true"]')).to_have_count(3)
    # Usable at phone width: nothing sticks out sideways.
    assert dangyuan.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # 李版主 raises a hand: the chair sees it in the queue and on the participant.
    banzhu.click("#btn-hand")
    expect(banzhu.locator("#btn-hand")).to_have_attribute("aria-pressed", "true")
    expect(chair.locator("#hands")).to_contain_text("李版主")
    expect(chair.locator("#participants .tag-hand")).to_have_count(1)
    chair.locator("#hands li", has_text="李版主").get_by_role("button", name="请其发言").click()
    expect(banzhu.locator("#participants .tag-floor")).to_have_count(1)
    expect(chair.locator("#hands")).not_to_contain_text("李版主")

    # Chat reaches everyone.
    dangyuan.fill("#chat-body", "我同意推荐。")
    dangyuan.click("#chat-form button[type=submit]")
    expect(chair.locator("#chat-list")).to_contain_text("我同意推荐。")
    # Shown in the branch's zone (Asia/Shanghai), not the browser's (New York).
    shown = chair.locator("#chat-list .chat-message", has_text="我同意推荐。").locator("time").inner_text()
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert shown in {(now + timedelta(minutes=d)).strftime("%H:%M") for d in (-1, 0, 1)}, shown

    # The chair prepares a motion and opens it; both members see a ballot.
    chair.click("#btn-next-item")
    expect(chair.locator("#agenda .is-current")).to_contain_text("表决推荐人选")
    chair.locator("#vote-create-details summary").click()
    chair.fill("#vote-title", motion)
    chair.click("#vote-form button[type=submit]")
    vote_card = chair.locator("#votes .vote", has_text=motion)
    expect(vote_card).to_have_attribute("data-status", "draft")
    vote_card.get_by_role("button", name="开始表决").click()
    expect(vote_card).to_have_attribute("data-status", "open")
    for page in (banzhu, dangyuan):
        expect(page.locator("#votes .vote", has_text=motion)).to_have_attribute("data-status", "open")

    banzhu.locator('#votes button[data-choice="yes"]').click()
    expect(banzhu.locator("#votes .voted")).to_have_text("✔ 您已投票。")
    dangyuan.locator('#votes button[data-choice="yes"]').click()
    expect(dangyuan.locator("#votes .voted")).to_be_visible()
    expect(chair.locator("#votes .vote-progress").first).to_contain_text("已投票 2 人")

    vote_card.get_by_role("button", name="结束表决").click()
    for page in (chair, banzhu, dangyuan):
        card = page.locator("#votes .vote", has_text=motion)
        expect(card).to_have_attribute("data-status", "closed")
        expect(card.locator(".verdict")).to_have_text("通过")
        expect(card.locator('.result-counts [data-key="yes"]')).to_contain_text("2")
        expect(card).to_contain_text("到会人数符合规定")

    # 张党员 leaves: the quorum drops live on the other pages, and an election now needs
    # more than are present: the chair gets a clear refusal naming the numbers.
    dangyuan.close()
    for page in (chair, banzhu):
        quorum(page, 2)
        expect(page.locator("#quorum-election")).to_have_attribute("data-met", "false")
    chair.select_option("#vote-kind", "election")
    chair.fill("#vote-title", "补选支部委员")
    chair.locator("#vote-candidates label", has_text="李版主").locator("input").check()
    chair.click("#vote-form button[type=submit]")
    election = chair.locator("#votes .vote", has_text="补选支部委员")
    election.get_by_role("button", name="开始表决").click()
    refusal = election.locator(".vote-error")
    expect(refusal).to_contain_text("到会有表决权的党员 2 人，应到 3 人；选举需要至少 3 人到会")
    expect(election).to_have_attribute("data-status", "draft")

    shots = os.environ.get("BRANCHLINE_SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        chair.screenshot(path=str(Path(shots) / "meeting.png"), full_page=True)
        banzhu.set_viewport_size(PHONE)
        banzhu.screenshot(path=str(Path(shots) / "meeting-phone.png"), full_page=True)

    # The chair ends the meeting; the minutes list the attendance and the resolution.
    chair.click("#btn-end")
    expect(chair.locator("#meeting-status")).to_have_attribute("data-status", "ended")
    expect(banzhu.locator("#room-state")).to_have_text("会议已结束。")
    chair.goto(meeting_path + "minutes/")
    present = chair.locator("#minutes-present")
    for name in ("王书记", "李版主", "张党员"):
        expect(present).to_contain_text(name)
    expect(chair.locator("#minutes-absent")).to_contain_text("赵预备")
    resolution = chair.locator("#minutes-resolutions .resolution", has_text=motion)
    expect(resolution).to_contain_text("赞成 2")
    expect(resolution.locator(".verdict")).to_have_text("通过")
    expect(chair.locator("#markdown-link")).to_have_attribute("href", re.compile(r"/api/meetings/\d+/minutes\.md$"))

    # The attendance report and its CSV download.
    chair.goto(meeting_path + "attendance/")
    expect(chair.locator(".attendance-table tbody tr")).to_have_count(4)
    with chair.expect_download() as download:
        chair.click("#csv-link")
    assert "attendance" in download.value.suggested_filename


def meeting_id(server, title: str) -> int:
    rows = server.query("SELECT id FROM meetings_meeting WHERE title = ?", (title,))
    assert rows, f"no meeting {title!r} in the demo data"
    return rows[0][0]


def upcoming_general_meeting(server) -> tuple[int, str]:
    """The demo's scheduled general meeting (next Saturday 09:00–11:00, named after its
    month): its id and title."""
    rows = server.query("SELECT id, title FROM meetings_meeting WHERE kind = 'general' AND status = 'scheduled'")
    assert len(rows) == 1, rows
    return rows[0][0], rows[0][1]


def test_lobby_chat_moderation_and_leave(own_server, open_page):
    server = own_server
    live = f"/meetings/{meeting_id(server, '党课：学习贯彻党的二十大精神')}/"

    # The chair locks the running lecture: an expected member now waits in the lobby.
    chair = open_page(server, "shuji", live)
    wait_online(chair)
    expect(chair.locator("#btn-lock")).to_be_visible()
    chair.click("#btn-lock")
    expect(chair.locator("#meeting-locked")).to_be_visible()
    expect(chair.locator("#btn-lock")).to_have_text("解除锁定")

    yubei = open_page(server, "yubei", live, viewport=PHONE)
    wait_online(yubei)
    expect(yubei.locator("#room-state")).to_have_text("您在等候室中，请等待主持人准许入会。")
    expect(yubei.locator("#room-actions")).to_be_hidden()
    waiting = chair.locator("#lobby li", has_text="赵预备")
    expect(waiting).to_have_count(1)
    waiting.get_by_role("button", name="准许入会").click()
    expect(yubei.locator("#room-state")).to_be_hidden()
    expect(yubei.locator("#room-actions")).to_be_visible()
    expect(chair.locator("#lobby")).to_contain_text("没有人在等候。")
    expect(chair.locator('#participants [data-user][data-connected="true"]', has_text="赵预备")).to_have_count(1)

    # Chat runs through the branch's watched words: a blocked word is refused at the field.
    yubei.fill("#chat-body", "群里有人发赌博广告")
    yubei.click("#chat-form button[type=submit]")
    expect(yubei.locator("#chat-body")).to_have_attribute("aria-invalid", "true")
    expect(yubei.locator("#chat-body-error")).to_contain_text("赌博")
    expect(yubei.locator("#chat-body")).to_have_value("群里有人发赌博广告")  # nothing typed is lost
    expect(chair.locator("#chat-list")).not_to_contain_text("赌博")
    # A word that needs approval: sent, held for review, and the sender is told so.
    yubei.fill("#chat-body", "有没有人需要代购")
    yubei.click("#chat-form button[type=submit]")
    expect(yubei.locator("#chat-status")).to_have_text("已发送，待审核通过后显示。")
    yubei.fill("#chat-body", "老师讲得很好")
    yubei.click("#chat-form button[type=submit]")
    expect(chair.locator("#chat-list")).to_contain_text("老师讲得很好")
    expect(chair.locator("#chat-list")).not_to_contain_text("代购")

    # Only the chair of the three voting members is here: a motion may not open yet.
    chair.locator("#vote-create-details summary").click()
    chair.fill("#vote-title", "同意本次党课学习安排")
    chair.click("#vote-form button[type=submit]")
    motion = chair.locator("#votes .vote", has_text="同意本次党课学习安排")
    motion.get_by_role("button", name="开始表决").click()
    expect(motion.locator(".vote-error")).to_contain_text("到会有表决权的党员 1 人，应到 3 人；表决需要至少 2 人到会")
    expect(motion).to_have_attribute("data-status", "draft")
    expect(yubei.locator("#votes .vote", has_text="同意本次党课学习安排")).to_have_attribute("data-status", "draft")

    # Leave (请假) for the upcoming meeting: a member asks, the secretary approves live.
    upcoming = f"/meetings/{upcoming_general_meeting(server)[0]}/"
    member = open_page(server, "banzhu", upcoming)
    secretary = open_page(server, "shuji", upcoming)
    wait_online(member)
    wait_online(secretary)
    member.click("#leave-form button[type=submit]")  # empty: refused at the field
    expect(member.locator("#leave-reason-error")).to_be_visible()
    member.fill("#leave-reason", "当天需要值班")
    member.click("#leave-form button[type=submit]")
    expect(member.locator("#my-leave")).to_have_attribute("data-status", "pending")
    request = secretary.locator("#leave-requests .leave-item", has_text="当天需要值班")
    expect(request).to_have_count(1)
    request.locator(".leave-note").fill("同意")
    request.get_by_role("button", name="批准", exact=True).click()
    expect(member.locator("#my-leave")).to_have_attribute("data-status", "approved")
    expect(member.locator("#my-leave")).to_contain_text("同意")

    # The secretary cancels the upcoming meeting; the member's page says so at once.
    secretary.once("dialog", lambda dialog: dialog.accept("改期另行通知"))
    secretary.click("#btn-cancel")
    for page in (secretary, member):
        expect(page.locator("#meeting-status")).to_have_attribute("data-status", "cancelled")
        expect(page.locator("#room-state")).to_have_text("会议已取消。")
    expect(member.locator("#leave-form")).to_have_count(0)
