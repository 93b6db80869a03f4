"""现场签到 in Chromium: at the demo's meeting under way, the chair checks in a member who
sits in the room without the page open; they show as present in the room, the quorum
counts them on every open page, and a check-in made by mistake is taken back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def present(page) -> int:
    return int(page.locator("#quorum").get_attribute("data-present"))


def test_the_chair_checks_in_a_member_in_the_room(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    ((member,),) = server.query("SELECT id FROM auth_user WHERE username = 'dangyuan'")
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    watcher = open_page(server, "yubei", f"/meetings/{meeting}/")  # a probationary member, online
    expect(watcher.locator("#conn-status")).to_have_attribute("data-status", "online")
    row = chair.locator(f"#participants li[data-user='{member}']")
    expect(row).to_have_attribute("data-status", "absent")
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "1")  # the chair: 赵预备 has no vote
    before = present(chair)

    row.get_by_role("button", name="现场签到 张党员").click()
    expect(row.locator(".tag-room")).to_have_text("现场")
    # Present, or late when the demo meeting began more than 5 minutes before now.
    expect(row).to_have_attribute("data-status", re.compile(r"^(present|late)$"))
    expect(row).to_have_attribute("data-connected", "false")  # in the room, not online
    expect(chair.locator("#quorum")).to_have_attribute("data-present", str(before + 1))
    expect(watcher.locator("#quorum")).to_have_attribute("data-present", str(before + 1))

    row.get_by_role("button", name="撤销签到 张党员").click()
    expect(row.locator(".tag-room")).to_have_count(0)
    expect(row).to_have_attribute("data-status", "absent")
    expect(watcher.locator("#quorum")).to_have_attribute("data-present", str(before))
    # A member keeps no roll (the minute-taker, 李版主, does).
    expect(watcher.locator(".room-tools")).to_have_count(0)


def test_a_member_checks_in_by_scanning_the_rooms_code(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    ((member,),) = server.query("SELECT id FROM auth_user WHERE username = 'yubei'")
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    card = chair.locator("#check-in")
    expect(card).to_be_visible()
    card.get_by_text("显示签到二维码").click()
    code = chair.locator("#check-in-img")
    expect(code).to_be_visible()
    for _ in range(50):  # the image loaded (CSP forbids wait_for_function's eval)
        if code.evaluate("img => img.complete && img.naturalWidth") > 100:
            break
        chair.wait_for_timeout(100)
    assert code.evaluate("img => img.naturalWidth") > 100
    # What the phone's camera reads from the code.
    url = chair.request.get(card.get_attribute("data-qr")).headers["x-check-in-url"]
    assert url.startswith(f"{server.url}/meetings/{meeting}/here/")

    phone = open_page(server, "yubei", url.removeprefix(server.url))
    phone.get_by_role("button", name="我在会场，现场签到").click()
    expect(phone).to_have_url(f"{server.url}/meetings/{meeting}/")
    expect(phone.locator(".flash")).to_contain_text("签到成功")
    row = chair.locator(f"#participants li[data-user='{member}']")
    expect(row.locator(".tag-room")).to_have_text("现场")


def test_a_time_off_the_paper_list_goes_with_the_check_in(own_server, open_page):
    """The time typed above the list is sent with the tick: one that cannot be (two
    minutes from now, read as yesterday's) is refused with the bounds named, and the
    member stays absent; emptied, the tick checks them in now."""
    server = own_server
    ((meeting, zone),) = server.query(
        "SELECT m.id, b.time_zone FROM meetings_meeting m JOIN accounts_branch b ON b.id = m.branch_id "
        "WHERE m.status = 'live'")
    ((member,),) = server.query("SELECT id FROM auth_user WHERE username = 'dangyuan'")
    # The times are offered for a meeting held in a room (a place given), not for one online only.
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    expect(chair.locator("#participants li").first).to_be_visible()
    expect(chair.locator("#room-times")).to_be_hidden()
    server.query(f"UPDATE meetings_meeting SET place = '社区党群服务中心' WHERE id = {meeting}")
    chair.reload()
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    times = chair.locator("#room-times")
    expect(times).to_be_visible()
    expect(chair.locator("#room-times-after")).to_be_hidden()
    soon = (datetime.now(ZoneInfo(zone)) + timedelta(minutes=2)).strftime("%H:%M")
    chair.get_by_label("到场或离场时刻（留空为现在）").fill(soon)
    row = chair.locator(f"#participants li[data-user='{member}']")
    row.get_by_role("button", name="现场签到 张党员").click()
    expect(chair.locator("#console-error")).to_contain_text("之间的时间")
    expect(row).to_have_attribute("data-status", "absent")
    chair.get_by_label("到场或离场时刻（留空为现在）").fill("")
    row.get_by_role("button", name="现场签到 张党员").click()
    expect(row.locator(".tag-room")).to_have_text("现场")


def test_after_the_end_the_chair_mends_the_record(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    ((member,),) = server.query("SELECT id FROM auth_user WHERE username = 'yubei'")
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    chair.once("dialog", lambda dialog: dialog.accept())
    chair.locator("#btn-end").click()
    expect(chair.locator("#meeting-status")).to_have_attribute("data-status", "ended")
    row = chair.locator(f"#participants li[data-user='{member}']")
    expect(row).to_have_attribute("data-status", "absent")
    row.get_by_role("button", name="补登到会 赵预备").click()  # the paper list says she was there
    expect(row).to_have_attribute("data-status", "present")
    expect(row.get_by_role("button", name="撤销签到 赵预备")).to_be_visible()
    expect(chair.locator("#check-in")).to_be_hidden()  # no code to scan once it has ended
    chair.goto(f"/meetings/{meeting}/attendance/")
    expect(chair.locator("tr", has_text="赵预备").locator(".tag-room")).to_have_text("现场")


def test_the_chair_counts_a_hand_raised_in_the_room(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    ((member,),) = server.query("SELECT id FROM auth_user WHERE username = 'dangyuan'")
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    row = chair.locator(f"#participants li[data-user='{member}']")
    row.get_by_role("button", name="现场签到 张党员").click()  # in the room, without a phone
    expect(row.locator(".tag-room")).to_be_visible()
    # The chair online and 张党员 in the room: 2 of the 3 voting members, enough for a motion.
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "2")

    chair.locator("#vote-create-details summary").click()
    chair.fill("#vote-title", "同意本季度党课安排")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="同意本季度党课安排")
    expect(card).to_have_attribute("data-status", "draft")
    expect(card.locator(".vote-progress")).to_contain_text("已投票 0 人")  # drawn from the server's vote
    # Before it opens, the secretary may enter a written opinion of an absent member, not
    # of one in the room (who votes in person).
    written = card.locator(".written-form")
    who = written.locator("select").first
    expect(who.locator("option", has_text="李版主")).to_have_count(1)
    expect(who.locator("option", has_text="张党员")).to_have_count(0)
    who.select_option(label="李版主")
    written.locator("select").nth(1).select_option("abstain")
    written.get_by_role("button").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 1 人")
    card.get_by_role("button", name="开始表决").click()
    expect(card).to_have_attribute("data-status", "open")
    hands = card.locator(".hands-form")
    expect(hands).to_be_visible()
    hands.get_by_label("现场党员").select_option(label="张党员")
    hands.get_by_label("表决意见").select_option("yes")
    hands.get_by_role("button", name="计入").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 2 人")
    expect(card.locator(".vote-progress")).to_contain_text("其中现场举手 1 人")
