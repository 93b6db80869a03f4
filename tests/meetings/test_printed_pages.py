"""Pages made to be printed for a meeting held in a room: the sign-in sheet (签到表) and
the paper ballots of a secret vote (选票). Read as the secretary's browser gets them
(Simplified Chinese, the default)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from meetings import actions

from .conftest import ident

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def planned(schedule, identities, people, crowd, clock):
    """A general meeting a week ahead: one member on leave, one asking, one abroad."""
    on_leave, asking, abroad = crowd(3, prefix="p")
    meeting = schedule("general", place="社区党群服务中心")
    clock.at(-60)
    leave = actions.request_leave(identity=ident(on_leave), meeting_id=meeting.pk, reason="外出务工")
    actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
    actions.request_leave(identity=ident(asking), meeting_id=meeting.pk, reason="值班")
    actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk, user_id=abroad.pk,
                          reason="abroad", note="在国外务工")
    return meeting, on_leave, asking, abroad


def test_the_sign_in_sheet_lists_everyone_expected(planned, people, client):
    meeting, on_leave, asking, abroad = planned
    client.force_login(people["member"])  # the minute-taker
    response = client.get(reverse("meetings:sign-in-sheet", args=[meeting.pk]))
    page = text_of(response)
    assert "支部党员大会签到表" in page and "社区党群服务中心" in page and "2026-11-28 09:00 – 11:00" in page
    rows = re.findall(r'<tr data-user="(\d+)">(.*?)</tr>', response.content.decode(), re.S)
    names = [re.sub(r"<[^>]+>|\s+", " ", body).split()[1] for _uid, body in rows]
    # Full members first, then the probationary one; the member abroad is not expected.
    assert names == ["Member", "Moderator", "P0", "P1", "Secretary", "Probationary"]
    notes = {int(uid): body for uid, body in rows}
    assert "请假" in notes[on_leave.pk] and "待批" in notes[asking.pk] and "正式党员" in notes[people["member"].pk]
    assert "预备党员" in notes[people["probationary"].pk]
    assert "应到 6 人（正式党员 5 人，预备党员 1 人），请假 1 人，实到 ______ 人。" in page
    assert "不计入应到人数： P2（出国出境半年以上）" in page
    assert page.count("列席") == 4  # blank rows for those not expected


def test_the_sign_in_sheet_is_for_those_who_keep_the_roll(planned, people, client):
    meeting = planned[0]
    for name, status in (("secretary", 200), ("member", 200), ("moderator", 403), ("probationary", 403),
                         ("other_secretary", 404)):
        client.force_login(people[name])
        assert client.get(reverse("meetings:sign-in-sheet", args=[meeting.pk])).status_code == status, name
    client.logout()
    assert client.get(reverse("meetings:sign-in-sheet", args=[meeting.pk])).status_code == 302  # to the login


def test_paper_ballots_of_a_secret_motion(planned, identities, people, client):
    meeting = planned[0]
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="同意接收张三为预备党员", secret=True)
    client.force_login(people["secretary"])
    url = reverse("meetings:paper-ballots", args=[vote.pk])
    response = client.get(url)
    page = text_of(response)
    # As many as the voting members expected: 5 full members, less the one abroad (not counted).
    assert response.content.decode().count('class="paper-ballot-card"') == 5
    assert page.count("同意接收张三为预备党员") == 5 + 1  # and the page's title
    assert page.count("○ 赞成") == 5 and "○ 弃权" in page
    assert "不画或画多个的为无效票" in page
    for asked, made in (("2", 2), ("9999", 300), ("0", 1), ("many", 5)):
        body = client.get(url, {"copies": asked}).content.decode()
        assert body.count('class="paper-ballot-card"') == made, asked
    client.force_login(people["moderator"])
    assert client.get(url).status_code == 403
    client.force_login(people["other_secretary"])
    assert client.get(url).status_code == 404


def test_paper_ballots_of_an_election_and_none_for_an_open_vote(planned, identities, people, client):
    meeting = planned[0]
    election = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="election",
                                   title="选举支部委员", secret=True, seats=2,
                                   candidates=[people["member"].pk, people["moderator"].pk, people["secretary"].pk])
    client.force_login(people["secretary"])
    page = text_of(client.get(reverse("meetings:paper-ballots", args=[election.pk]), {"copies": "1"}))
    assert "应选 2 名" in page and "○ Member" in page and "○ Moderator" in page and "○ Secretary" in page
    assert "弃权" in page and "○ 弃权" not in page  # no box for it: a ballot naming nobody abstains
    assert "至多 2 名" in page
    # 另选他人: a line to write a name on for each seat; the other full members are not printed.
    assert "另选他人（本支部其他正式党员）：" in page and page.count("○") == 3 + 2 + 2  # and two in the rule
    shown = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                                title="记名表决", secret=False)
    assert client.get(reverse("meetings:paper-ballots", args=[shown.pk])).status_code == 404
    assert client.get(reverse("meetings:paper-ballots", args=[99999])).status_code == 404


def test_the_meeting_page_links_to_the_sheet_for_those_who_keep_the_roll(planned, people, client):
    meeting = planned[0]
    for name, shown in (("secretary", True), ("member", True), ("probationary", False)):
        client.force_login(people[name])
        page = client.get(reverse("meetings:meeting", args=[meeting.pk])).content.decode()
        assert ('id="sign-in-sheet-link"' in page) is shown, name
