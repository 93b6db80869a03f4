"""表决权、选举权和被选举权 suspended (accounts/rights.py): a full member on probation
within the party (留党察看) or detained has, while it lasts, no vote: not counted among
the voting members of a meeting not yet started, not a candidate, not written in, and
not voting. The secretary records it on the members page, within the rules' bounds,
audited; 留党察看 ends on its day, detention when the secretary restores the rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from accounts import clock, members, personal_data, rights
from accounts.models import Membership
from meetings import actions, selectors
from moderation.models import AuditEntry
from realtime.errors import Invalid

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def suspend(identities, tree, user, reason, until=None):
    members.set_standing(identity=identities["secretary"], branch_id=tree["a"].pk, user_id=user.pk,
                         standing="full", moderator=user.username == "moderator", rights_suspended=reason,
                         suspended_until=until)


def test_a_member_whose_rights_are_suspended_has_no_vote(schedule, identities, people, tree):
    a = tree["a"].pk
    today = clock.today_in(a)
    meeting = schedule("general")
    assert selectors.roll_for(meeting).voting_expected == 3  # secretary, member, moderator
    suspend(identities, tree, people["moderator"], "discipline", (today + timedelta(days=365)).isoformat())
    assert selectors.party_members(a)[people["moderator"].pk] is False
    assert selectors.roll_for(meeting).voting_expected == 2
    entry = AuditEntry.objects.get(action="member.rights_suspended")
    assert entry.before["reason"] == "" and entry.after == {
        "user": "moderator", "reason": "discipline", "until": (today + timedelta(days=365)).isoformat()}
    with pytest.raises(Invalid, match="nor one whose rights are suspended"):
        actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="election", title="选举",
                            secret=True, candidates=[people["moderator"].pk])
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="election",
                               title="选举", secret=True, candidates=[people["member"].pk])
    assert not vote.options.filter(candidate=people["moderator"]).exists()  # not written in either

    # 留党察看 ends on its day; detention lasts until the rights are restored.
    assert people["moderator"].pk not in rights.suspended(a, today + timedelta(days=365))
    suspend(identities, tree, people["moderator"], "detained")
    assert rights.suspended(a, today + timedelta(days=3000))[people["moderator"].pk] == {
        "reason": "detained", "until": None}
    suspend(identities, tree, people["moderator"], "")
    assert selectors.party_members(a)[people["moderator"].pk] is True
    assert AuditEntry.objects.filter(action="member.rights_suspended").count() == 3
    # Kept when not given (the standing form of a page without the field).
    suspend(identities, tree, people["moderator"], "detained")
    members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["moderator"].pk,
                         standing="full", moderator=True)
    assert people["moderator"].pk in rights.suspended(a)


def test_what_the_secretary_may_record(identities, people, tree):
    a = tree["a"].pk
    today = clock.today_in(a)
    wrong = [
        (people["member"], "banned", None, "rights_suspended"),
        (people["probationary"], "detained", None, "rights_suspended"),  # has no vote to suspend
        (people["member"], "discipline", None, "suspended_until"),  # 留党察看 has its end
        (people["member"], "discipline", today.isoformat(), "suspended_until"),
        (people["member"], "discipline", (today + timedelta(days=2 * 366 + 1)).isoformat(), "suspended_until"),
        (people["member"], "discipline", "soon", "suspended_until"),
        (people["member"], "detained", (today + timedelta(days=30)).isoformat(), "suspended_until"),
    ]
    for user, reason, until, field in wrong:
        with pytest.raises(Invalid) as refused:
            members.set_standing(identity=identities["secretary"], branch_id=a, user_id=user.pk,
                                 standing="probationary" if user == people["probationary"] else "full",
                                 moderator=False, rights_suspended=reason, suspended_until=until)
        assert refused.value.field == field, (reason, until)
    assert not Membership.objects.exclude(rights_suspended="").exists()  # a refusal changes nothing
    assert not AuditEntry.objects.filter(action="member.rights_suspended").exists()
    # Made probationary again: the suspension goes with the full row.
    suspend(identities, tree, people["member"], "detained")
    members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["member"].pk,
                         standing="probationary", moderator=False)
    assert not rights.suspended(a)


def test_the_members_page_the_roster_and_the_api(identities, people, tree):
    a = tree["a"].pk
    until = clock.today_in(a) + timedelta(days=400)
    client = Client()
    client.force_login(people["secretary"])
    page = client.post(reverse("member-standing", args=[a, people["member"].pk]),
                       {"standing": "full", "rights_suspended": "discipline", "suspended_until": until.isoformat()},
                       follow=True).content.decode()
    assert f"表决权、选举权和被选举权中止：留党察看至 {until.isoformat()}" in page  # pages: Chinese by default
    assert '<option value="discipline" selected>' in page
    csv = client.get(reverse("members-csv", args=[a])).content.decode("utf-8-sig")
    assert f"中止：留党察看至 {until.isoformat()}" in csv
    listed = client.get(f"/api/branches/{a}/members").json()["members"]
    (record,) = [m for m in listed if m["id"] == people["member"].pk]
    assert record["rights_suspended"] == {"reason": "discipline", "until": until.isoformat()}
    (mine,) = [m for m in personal_data.collect(people["member"])["memberships"]
               if m["branch"]["id"] == a and m["role"] == "full"]
    assert mine["rights_suspended"] == "discipline" and mine["rights_suspended_until"] == until.isoformat()  # 我的数据
    # A member does not see it on the members page, nor in the API.
    client.force_login(people["moderator"])
    assert "留党察看" not in client.get(reverse("members", args=[a])).content.decode()
    assert all("rights_suspended" not in m for m in client.get(f"/api/branches/{a}/members").json()["members"])
