"""The chair enters someone else's vote in Chromium (举手表决) at an election for two seats:
as many names as there are seats, ticked as on a ballot; nothing entered until a member
and their names are chosen; and what the chair has chosen stays while another member's
ballot redraws the vote."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_hand_raised_in_the_room_names_two_at_an_election_for_two_seats(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'live'")
    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    member = open_page(server, "banzhu", f"/meetings/{meeting}/")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    chair.locator("#participants li", has_text="张党员").get_by_role("button", name="现场签到 张党员").click()
    expect(chair.locator("#quorum")).to_have_attribute("data-present", "3")

    chair.locator("#vote-create-details summary").click()
    chair.select_option("#vote-kind", "election")
    chair.fill("#vote-title", "选举支部委员")
    chair.locator("#vote-secret").uncheck()  # open: the chair counts hands
    pick = {name: chair.locator("#vote-candidates label", has_text=name) for name in ("王书记", "李版主", "张党员")}
    for name in ("王书记", "李版主", "张党员"):
        pick[name].locator("input").check()
    # The ballot lists them in the order ticked, each showing its place: 李版主 ticked
    # again goes last.
    pick["李版主"].locator("input").uncheck()
    expect(pick["张党员"].locator(".pick-rank")).to_have_text("2")
    expect(pick["李版主"].locator(".pick-rank")).to_have_text("")
    pick["李版主"].locator("input").check()
    expect(pick["王书记"].locator(".pick-rank")).to_have_text("1")
    expect(pick["李版主"].locator(".pick-rank")).to_have_text("3")
    if os.environ.get("BL_SHOTS"):
        chair.locator("#vote-candidates-field").screenshot(path=os.path.join(os.environ["BL_SHOTS"], "candidates.png"))
    chair.fill("#vote-seats", "2")
    chair.click("#vote-form button[type=submit]")
    card = chair.locator("#votes .vote", has_text="选举支部委员")
    card.get_by_role("button", name="开始表决").click()
    expect(card).to_have_attribute("data-status", "open")

    hands = card.locator(".hands-form")
    who = hands.get_by_label("现场党员")
    expect(who.locator("option")).to_have_text(["选择党员…", "张党员"])  # nobody until the chair chooses
    expect(hands.locator("legend")).to_have_text("最多选 2 人")
    expect(card.locator(".ballot .ballot-candidates > label")).to_have_text(["王书记", "张党员", "李版主", "弃权"])
    hands.get_by_role("button", name="计入").click()
    expect(hands.locator(".alert-error")).to_have_text("请先选择要为其录入的党员。")
    who.select_option(label="张党员")
    hands.get_by_role("button", name="计入").click()  # no names ticked: not taken for abstaining
    expect(hands.locator(".alert-error")).to_have_text("请勾选其所选的人，或勾选弃权。")
    expect(card.locator(".vote-progress")).to_contain_text("已投票 0 人")
    hands.get_by_label("王书记").check()
    expect(hands.locator(".alert-error")).to_be_hidden()  # corrected
    hands.get_by_label("李版主").check()

    # 李版主 votes on her page meanwhile: the chair's card is drawn again, the entry stays.
    member_card = member.locator("#votes .vote", has_text="选举支部委员")
    member_card.get_by_label("李版主").check()
    member_card.get_by_role("button", name="投票").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 1 人")
    hands = card.locator(".hands-form")
    expect(hands.get_by_label("现场党员")).to_have_value(str(server.query(
        "SELECT id FROM auth_user WHERE username = 'dangyuan'")[0][0]))
    expect(hands.get_by_label("王书记")).to_be_checked()
    expect(hands.get_by_label("李版主")).to_be_checked()
    expect(hands.get_by_label("张党员")).not_to_be_checked()
    if os.environ.get("BL_SHOTS"):
        hands.screenshot(path=os.path.join(os.environ["BL_SHOTS"], "hands-election.png"))
    hands.get_by_role("button", name="计入").click()
    expect(card.locator(".vote-progress")).to_contain_text("已投票 2 人")
    expect(card.locator(".vote-progress")).to_contain_text("其中现场举手 1 人")
    expect(card.locator(".hands-form")).to_be_hidden()  # 张党员 was the only one in the room

    card.get_by_role("button", name="结束表决").click()
    expect(card).to_have_attribute("data-status", "closed")
    expect(card.locator(".result-counts li")).to_have_text(["王书记 1", "张党员 0", "李版主 2", "弃权 0"])
    expect(card.locator(".verdict")).to_contain_text("李版主")  # 2 of the 3 at the meeting: more than half
    expect(card.locator(".elected-of")).to_have_text("实到会有选举权的党员 3 人，得票超过其半数始得当选。")
