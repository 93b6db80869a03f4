"""另选他人 in Chromium: at the demo's meeting under way, an election with one candidate.
The chair's ballot folds the other full members away under 另选他人; what the chair ticks
there stays ticked while another member's ballot redraws the list; the result names the
member written in, and only that one."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_ballot_names_another_member_instead_of_the_candidate(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    # Seven more full members join the branch (not expected at the meeting under way, but
    # any full member may be written in): the list gets a field to find a name in.
    members = open_page(server, "shuji", f"/branches/{server.branch_id('第一党支部')}/members/")
    members.locator("#import-members summary").click()
    members.fill("#import-lines", "\n".join(f"wu{i},吴{'一二三四五六七'[i]}" for i in range(7)))
    members.get_by_role("button", name="导入").click()
    expect(members.locator("#imported")).to_be_visible()
    members.close()
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    member = open_page(server, "banzhu", f"/meetings/{meeting}/")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    chair.locator("#participants li", has_text="张党员").get_by_role("button", name="现场签到 张党员").click()
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "3")  # all three: an election may open

    chair.locator("#vote-create-details summary").click()
    chair.select_option("#vote-kind", "election")
    chair.fill("#vote-title", "推选优秀党员")  # secret, as every election is
    chair.locator("#vote-candidates label", has_text="李版主").locator("input").check()
    # 等额 or 差额, said as candidates are picked.
    expect(chair.locator("#vote-margin")).to_contain_text("候选人 1 名，应选 1 名（等额）。选举支部委员会委员应实行差额选举")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="推选优秀党员")
    card.get_by_role("button", name="开始表决").click()
    expect(card).to_have_attribute("data-status", "open")

    ballot = card.locator(".ballot .ballot-candidates")
    expect(ballot.locator("> label")).to_have_text(["李版主", "弃权"])  # the candidate, then abstaining
    others = ballot.locator("details.ballot-write-in")
    expect(others.locator("summary")).to_have_text("另选他人（本支部其他正式党员）")
    expect(others.get_by_label("张党员")).to_be_hidden()  # folded away until asked for
    others.locator("summary").click()
    expect(others.locator("label.checkbox")).to_have_count(9)
    others.get_by_label("查找成员").fill("张")  # 9 of them: a name is found by typing
    expect(others.locator("label.checkbox:visible")).to_have_text(["张党员"])
    if os.environ.get("BL_SHOTS"):
        card.screenshot(path=os.path.join(os.environ["BL_SHOTS"], "write-in.png"))
    others.get_by_label("张党员").check()

    # 李版主 votes meanwhile: the chair's list is drawn again, and the tick stays.
    member_card = member.locator("#votes .vote", has_text="推选优秀党员")
    member_card.get_by_label("李版主").check()
    member_card.get_by_role("button", name="投票").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 1 人")
    ballot = card.locator(".ballot .ballot-candidates")
    expect(ballot.locator("details.ballot-write-in")).to_have_attribute("open", "")
    expect(ballot.get_by_label("查找成员")).to_have_value("张")  # what was typed stays too
    expect(ballot.get_by_label("张党员")).to_be_checked()
    expect(ballot.get_by_label("李版主")).not_to_be_checked()
    card.get_by_role("button", name="投票").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 2 人")

    card.get_by_role("button", name="结束表决").click()
    expect(card).to_have_attribute("data-status", "closed")
    counts = card.locator(".result-counts li")
    expect(counts).to_have_text(["李版主 1", "张党员（另选） 1", "弃权 0"])  # 王书记, named by nobody, is not listed
    expect(card.locator(".verdict")).to_have_text("无人当选。")  # 1 of 3 expected is not more than half

    # The seat is still empty: one click fills in an election for it (另行选举), with those
    # named on the ballots, the most votes first, for the chair to check.
    card.get_by_role("button", name="另行选举 1 名").click()
    expect(chair.locator("#vote-form-status")).to_have_text("已在下方填好新的选举，请核对后点“准备”。")
    expect(chair.locator("#vote-title")).to_have_value("推选优秀党员（另行选举）")
    expect(chair.locator("#vote-kind")).to_have_value("election")
    expect(chair.locator("#vote-seats")).to_have_value("1")
    expect(chair.locator("#vote-candidates input:checked")).to_have_count(2)
    expect(chair.locator("#vote-margin")).to_have_text("候选人 2 名，应选 1 名，差额 1 名（差额选举）。")
    for name in ("李版主", "张党员"):
        expect(chair.locator("#vote-candidates label", has_text=name).locator("input")).to_be_checked()
    chair.locator("#vote-candidates label", has_text="张党员").locator("input").uncheck()  # the chair's to change

    # A secret election where 张党员, in the room, votes on paper and wrote in 王书记: the
    # box's count has a place for those written in, folded away like the ballot's.
    expect(chair.locator("#vote-create-details")).to_have_attribute("open", "")  # still open from the first
    chair.select_option("#vote-kind", "election")
    chair.fill("#vote-title", "无记名推选")
    chair.check("#vote-secret")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="无记名推选")
    card.get_by_role("button", name="开始表决").click()
    panel = card.locator(".paper-ballots")
    panel.get_by_role("button", name="发放纸质选票").click()
    expect(panel.locator(".paper-holders li")).to_have_text(["张党员 收回（未使用）"])
    count = panel.locator(".paper-count")
    count.get_by_label("收回选票").fill("1")
    written = count.locator("details.paper-write-in")
    written.locator("summary").click()
    written.get_by_label("查找成员").fill("王")
    expect(written.locator(".paper-write-in-entry:visible")).to_have_count(1)
    written.get_by_label("王书记").fill("1")
    count.get_by_role("button", name="录入计票结果").click()
    expect(card.locator(".vote-progress")).to_contain_text("纸质选票收回 1 张")
    card.get_by_role("button", name="结束表决").click()
    expect(card).to_have_attribute("data-status", "closed")
    expect(card.locator(".result-counts li")).to_have_text(["李版主 0", "王书记（另选） 1", "弃权 0"])
