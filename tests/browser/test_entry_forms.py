"""The chair's forms at a meeting under way, in Chromium. Entering the vote of a member
who raised a hand in the room (举手表决): nothing is entered until a member and their vote
are chosen, and what the chair has chosen stays while another member's ballot redraws the
vote. Preparing an election: it is always secret, only full members are candidates, and
the ballot lists them in the order ticked; its result says the majority it took."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from .test_accessibility import violations

pytestmark = pytest.mark.browser


def test_the_chairs_entry_and_an_election_prepared_in_order(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    ((zhang,),) = server.query("SELECT id FROM auth_user WHERE username = 'dangyuan'")
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    member = open_page(server, "banzhu", f"/meetings/{meeting}/")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    chair.locator("#participants li", has_text="张党员").get_by_role("button", name="现场签到 张党员").click()
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "3")

    chair.locator("#vote-create-details summary").click()
    chair.fill("#vote-title", "同意本季度党课安排")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="同意本季度党课安排")
    # The chair's buttons on a vote read as buttons (white on red, not the forum's grey
    # line style of the same class name).
    expect(card.get_by_role("button", name="开始表决")).to_have_css("color", "rgb(255, 255, 255)")
    assert violations(chair) == []
    card.get_by_role("button", name="开始表决").click()
    expect(card).to_have_attribute("data-status", "open")
    hands = card.locator(".hands-form")
    who = hands.get_by_label("现场党员")
    expect(who.locator("option")).to_have_text(["选择党员…", "张党员"])  # nobody until the chair chooses
    hands.get_by_role("button", name="计入").click()
    expect(hands.locator(".alert-error")).to_have_text("请先选择要为其录入的党员。")
    who.select_option(label="张党员")
    expect(hands.locator(".alert-error")).to_be_hidden()  # corrected
    hands.get_by_role("button", name="计入").click()  # no vote chosen: not taken for one
    expect(hands.locator(".alert-error")).to_have_text("请选择其表决意见：赞成、反对或弃权。")
    expect(card.locator(".vote-progress")).to_contain_text("已投票 0 人")
    hands.get_by_label("表决意见").select_option("yes")
    # 李版主 votes on her page meanwhile: the chair's card is drawn again, the entry stays.
    member.locator("#votes .vote", has_text="同意本季度党课安排").get_by_role("button", name="赞成").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 1 人")
    hands = card.locator(".hands-form")
    expect(hands.get_by_label("现场党员")).to_have_value(str(zhang))
    expect(hands.get_by_label("表决意见")).to_have_value("yes")
    hands.get_by_role("button", name="计入").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 2 人")
    expect(card.locator(".vote-progress")).to_contain_text("其中现场举手 1 人")
    expect(card.locator(".hands-form")).to_be_hidden()  # 张党员 was the only one in the room
    card.get_by_role("button", name="结束表决").click()
    expect(card).to_have_attribute("data-status", "closed")

    # An election: secret, whatever the box said; full members only; in the order ticked.
    chair.locator("#vote-secret").uncheck()
    chair.select_option("#vote-kind", "election")
    expect(chair.locator("#vote-secret")).to_be_checked()
    expect(chair.locator("#vote-secret")).to_be_disabled()
    expect(chair.locator("#vote-secret-help")).to_have_text("选举一律采用无记名投票。")
    chair.fill("#vote-title", "选举支部委员")
    expect(chair.locator("#vote-candidates label")).to_have_count(3)  # not 赵预备, a probationary member
    pick = {name: chair.locator("#vote-candidates label", has_text=name) for name in ("王书记", "李版主", "张党员")}
    for name in ("王书记", "李版主", "张党员"):
        pick[name].locator("input").check()
    pick["李版主"].locator("input").uncheck()  # ticked again, she goes last
    expect(pick["张党员"].locator(".pick-rank")).to_have_text("2")
    expect(pick["李版主"].locator(".pick-rank")).to_have_text("")
    pick["李版主"].locator("input").check()
    expect(pick["王书记"].locator(".pick-rank")).to_have_text("1")
    expect(pick["李版主"].locator(".pick-rank")).to_have_text("3")
    if os.environ.get("BL_SHOTS"):
        chair.locator("#vote-candidates-field").screenshot(path=os.path.join(os.environ["BL_SHOTS"], "candidates.png"))
    chair.fill("#vote-seats", "1")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="选举支部委员")
    expect(card.locator(".vote-meta")).to_contain_text("无记名投票")
    expect(card.locator(".written-form")).to_have_count(0)  # nobody absent votes in an election
    card.get_by_role("button", name="开始表决").click()
    expect(card).to_have_attribute("data-status", "open")
    expect(card.locator(".ballot .ballot-candidates > label")).to_have_text(["王书记", "张党员", "李版主", "弃权"])
    member_card = member.locator("#votes .vote", has_text="选举支部委员")
    member_card.get_by_label("李版主").check()
    member_card.get_by_role("button", name="投票").click()
    card.locator(".ballot").get_by_label("李版主").check()
    card.get_by_role("button", name="投票").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 2 人")
    card.get_by_role("button", name="结束表决").click()
    expect(card).to_have_attribute("data-status", "closed")
    expect(card.locator(".result-counts li")).to_have_text(["王书记 0", "张党员 0", "李版主 2", "弃权 0"])
    expect(card.locator(".verdict")).to_contain_text("李版主")  # 2 of the 3 at the meeting: more than half
    expect(card.locator(".elected-of")).to_have_text("实到会有选举权的党员 3 人，得票超过其半数始得当选。")


def test_a_tie_at_the_last_seat_fills_in_a_vote_again_between_those_tied(own_server, open_page):
    """Two seats, three candidates, three voting members each naming two: all three have
    two votes, more than half of the three at the meeting, and tie for the two seats. None
    of them is elected, and one click fills in the vote again between the three (再次投票)."""
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    pages = {name: open_page(server, name, f"/meetings/{meeting}/") for name in ("shuji", "banzhu", "dangyuan")}
    for page in pages.values():
        expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")
    chair = pages["shuji"]
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "3")
    chair.locator("#vote-create-details summary").click()
    chair.select_option("#vote-kind", "election")
    chair.fill("#vote-title", "选举支部委员")
    for name in ("王书记", "张党员", "李版主"):
        chair.locator("#vote-candidates label", has_text=name).locator("input").check()
    chair.fill("#vote-seats", "2")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="选举支部委员")
    card.get_by_role("button", name="开始表决").click()
    expect(card).to_have_attribute("data-status", "open")
    ballots = {"shuji": ("王书记", "张党员"), "banzhu": ("王书记", "李版主"), "dangyuan": ("张党员", "李版主")}
    for name, picks in ballots.items():
        ballot = pages[name].locator("#votes .vote", has_text="选举支部委员").locator(".ballot")
        for pick in picks:
            ballot.get_by_label(pick).check()
        ballot.get_by_role("button", name="投票").click()
        expect(ballot.locator(".voted")).to_be_visible()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 3 人")
    card.get_by_role("button", name="结束表决").click()
    expect(card).to_have_attribute("data-status", "closed")
    expect(card.locator(".result-counts li")).to_have_text(["王书记 2", "张党员 2", "李版主 2", "弃权 0"])
    expect(card.locator(".verdict")).to_have_text("无人当选。")

    card.get_by_role("button", name="就票数相等者再次投票").click()
    expect(chair.locator("#vote-title")).to_have_value("选举支部委员（再次投票）")
    expect(chair.locator("#vote-seats")).to_have_value("2")
    expect(chair.locator("#vote-candidates input:checked")).to_have_count(3)
    expect(chair.locator("#vote-secret")).to_be_checked()
