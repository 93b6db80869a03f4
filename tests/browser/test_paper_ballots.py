"""纸质选票 in Chromium: at the demo's meeting under way, a secret ballot where 张党员 sits
in the room without voting on the page. The chair hands him a paper ballot, his own page
says he holds one, the chair (who voted on the page) is passed over, the vote does not
close before the box is counted, a count that does not add up is refused, what the chair
types survives a redraw, and the
box's count, with who watched it, goes into the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_secret_ballot_on_paper_in_the_room(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    ((member,),) = server.query("SELECT id FROM auth_user WHERE username = 'dangyuan'")
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    row = chair.locator(f"#participants li[data-user='{member}']")
    row.get_by_role("button", name="现场签到 张党员").click()
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "2")  # of 3: a motion may open

    chair.locator("#vote-create-details summary").click()
    chair.fill("#vote-title", "推荐入党积极分子")
    chair.check("#vote-secret")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="推荐入党积极分子")
    # The ballots to print (选票), as many as voting members are expected (3 at the demo's meeting).
    ballots = open_page(server, "shuji", card.get_by_role("link", name="打印纸质选票").get_attribute("href"))
    expect(ballots.locator(".paper-ballot-card")).to_have_count(3)
    expect(ballots.locator(".paper-ballot-card").first).to_contain_text("推荐入党积极分子")
    card.get_by_role("button", name="开始表决").click()
    expect(card).to_have_attribute("data-status", "open")

    # The chair sits in the room too, and votes on the page before the ballots go round.
    chair.locator("#participants li", has_text="王书记").get_by_role("button", name="现场签到 王书记").click()
    card.locator(".ballot").get_by_role("button", name="赞成").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 1 人")

    panel = card.locator(".paper-ballots")
    expect(panel).to_contain_text("现场纸质选票")
    whom = panel.locator(".paper-whom")
    expect(whom.get_by_label("张党员")).to_be_checked()
    expect(whom.get_by_label("王书记")).to_be_checked()  # the whole room is ticked
    panel.get_by_role("button", name="发放纸质选票").click()
    expect(panel.locator(".paper-holders li")).to_have_text(["张党员 收回（未使用）"])
    expect(panel.locator(".paper-skipped")).to_have_text("已跳过（已投票或已领取选票）：王书记。")
    expect(card.locator(".vote-progress")).to_contain_text("已投票 2 人")
    expect(card.locator(".vote-progress")).to_contain_text("其中现场纸质选票 1 张")
    expect(panel.locator(".paper-alone")).to_contain_text("只发出一张纸质选票")  # its secrecy, said

    # His own page, opened in the room, says he holds a paper ballot.
    his = open_page(server, "dangyuan", f"/meetings/{meeting}/")
    expect(his.locator("#votes .vote .paper-mine")).to_contain_text("您已领取本次表决的纸质选票")

    # Not closed before the box is counted.
    card.get_by_role("button", name="结束表决").click()
    expect(chair.locator("#console-error")).to_contain_text("票箱尚未清点")
    expect(card).to_have_attribute("data-status", "open")

    count = panel.locator(".paper-count")
    count.get_by_label("收回选票").fill("1")
    # Someone else is checked in meanwhile: the redraw keeps what was typed.
    chair.locator("#participants li", has_text="赵预备").get_by_role("button", name="现场签到 赵预备").click()
    expect(chair.locator("#participants li", has_text="赵预备").locator(".tag-room")).to_be_visible()
    count = card.locator(".paper-count")
    expect(count.get_by_label("收回选票")).to_have_value("1")
    chair.reload()  # and so does a reload, in this tab
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    card = chair.locator("#votes .vote", has_text="推荐入党积极分子")
    expect(chair.locator(f"#participants li[data-user='{member}']")).to_be_visible()  # the snapshot is in
    panel = card.locator(".paper-ballots")
    count = card.locator(".paper-count")
    expect(count.get_by_label("收回选票")).to_have_value("1")
    count.get_by_role("button", name="录入计票结果").click()  # nothing on the valid ballot: 0 ≠ 1
    expect(panel.get_by_role("alert")).to_contain_text("合计 0 票")
    count.get_by_label("赞成").fill("1")
    count.locator(".paper-scrutineers").get_by_label("李版主").check()  # 监票人
    count.get_by_role("button", name="录入计票结果").click()
    expect(panel.locator(".paper-counted")).to_contain_text("收回 1 张，其中无效 0 张")
    expect(panel).to_contain_text("监票人：李版主。")
    recount = panel.locator(".paper-recount")  # folded away once entered
    expect(recount.get_by_role("button", name="录入复核结果")).to_be_hidden()
    recount.locator("summary").click()
    expect(recount.get_by_role("button", name="录入复核结果")).to_be_visible()

    card.get_by_role("button", name="结束表决").click()
    expect(card).to_have_attribute("data-status", "closed")
    expect(card.locator(".result-counts li[data-key='yes'] strong")).to_have_text("2")
    expect(card.locator(".paper-result")).to_have_text("现场纸质选票：发出 1 张，收回 1 张，其中无效 0 张。")
    expect(his.locator("#votes .vote .paper-result")).to_be_visible()
    chair.goto(f"/meetings/{meeting}/minutes/")  # the draft minutes, for the hosts while it runs
    resolution = chair.locator(".resolution", has_text="推荐入党积极分子")
    expect(resolution.locator(".scrutineers")).to_have_text("监票人：李版主。")
