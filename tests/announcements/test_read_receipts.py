"""A secretary sees how many of the branch's members have read each announcement, and
who has and has not yet: counts with the list (page, snapshot, older pages, /api/),
names on request (`announcements.readers`, GET /api/announcements/{id}/readers)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.identity import identity_for_user
from accounts.models import Membership
from announcements import actions, selectors
from realtime.errors import Forbidden, NotFound
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)


def ident(user):
    return identity_for_user(user)


def post(people, tree, title="通知"):
    return actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a"].pk, title=title, body="正文")


def names(people_list):
    return [person["name"] for person in people_list]


@pytest.mark.django_db
def test_counts_follow_each_members_marker_and_leave_out_the_author(people, tree):
    first = post(people, tree, "第一条")
    second = post(people, tree, "第二条")
    branch = tree["a"].pk
    # Branch A's members: secretary (the author), member, probationary, moderator.
    counts = selectors.read_counts([first, second])
    assert counts == {first.pk: {"read": 0, "of": 3}, second.pk: {"read": 0, "of": 3}}

    actions.mark_read(identity=ident(people["member"]), branch_id=branch, seq=first.seq)
    actions.mark_read(identity=ident(people["moderator"]), branch_id=branch, seq=second.seq)
    actions.mark_read(identity=ident(people["secretary"]), branch_id=branch, seq=second.seq)  # the author's own
    counts = selectors.read_counts([first, second])
    assert counts == {first.pk: {"read": 2, "of": 3}, second.pk: {"read": 1, "of": 3}}

    # A committee secretary may read the branch but is not one of its members: not counted.
    actions.mark_read(identity=ident(people["committee_secretary"]), branch_id=branch, seq=second.seq)
    # A deactivated member is no longer waited for.
    people["probationary"].is_active = False
    people["probationary"].save()
    assert selectors.read_counts([second]) == {second.pk: {"read": 1, "of": 2}}

    readers = selectors.readers_of(ident(people["secretary"]), first.pk)
    assert readers["announcement"] == first.pk
    assert names(readers["read"]) == ["Member", "Moderator"]
    assert names(readers["unread"]) == []


@pytest.mark.django_db
def test_a_member_with_several_roles_counts_once(people, tree):
    Membership.objects.create(user=people["member"], branch=tree["a"], role=Membership.Role.MODERATOR)
    a = post(people, tree)
    assert selectors.read_counts([a]) == {a.pk: {"read": 0, "of": 3}}
    readers = selectors.readers_of(ident(people["secretary"]), a.pk)
    assert sorted(names(readers["unread"])) == ["Member", "Moderator", "Probationary"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, error",
    [("member", Forbidden), ("moderator", Forbidden), ("other_secretary", NotFound), ("outsider", NotFound)],
)
def test_only_secretaries_see_who_has_read(people, tree, who, error):
    a = post(people, tree)
    with pytest.raises(error):
        selectors.readers_of(ident(people[who]), a.pk)


@pytest.mark.django_db
def test_a_secretary_above_sees_readers_and_a_withdrawn_one_has_none(people, tree):
    a = post(people, tree)
    assert len(selectors.readers_of(ident(people["committee_secretary"]), a.pk)["unread"]) == 3
    actions.withdraw_announcement(identity=ident(people["secretary"]), announcement_id=a.pk)
    with pytest.raises(NotFound):
        selectors.readers_of(ident(people["secretary"]), a.pk)


@pytest.mark.django_db
def test_only_a_secretarys_lists_carry_counts(people, tree):
    a = post(people, tree)
    branch = tree["a"].pk
    secretary, member = Client(), Client()
    secretary.force_login(people["secretary"])
    member.force_login(people["member"])

    listed = secretary.get(f"/api/branches/{branch}/announcements").json()["announcements"]
    assert listed[0]["receipt"] == {"read": 0, "of": 3}
    assert "receipt" not in member.get(f"/api/branches/{branch}/announcements").json()["announcements"][0]

    page = secretary.get(f"/branches/{branch}/announcements/").content.decode()
    assert "已读 0/3" in page
    assert "已读 0/3" not in member.get(f"/branches/{branch}/announcements/").content.decode()

    response = secretary.get(f"/api/announcements/{a.pk}/readers")
    assert response.status_code == 200 and len(response.json()["unread"]) == 3
    refused = member.get(f"/api/announcements/{a.pk}/readers")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert member.get("/api/announcements/999999/readers").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_over_ws_the_snapshot_carries_counts_and_readers_answers_names(connect, people, tree):  # noqa: F811
    from channels.db import database_sync_to_async

    a = await database_sync_to_async(post)(people, tree)
    stream = f"announcements:{tree['a'].pk}"
    member = await connect(people["member"])
    snapshot = (await member.call("subscribe", {"stream": stream}))["data"]["snapshot"]
    assert "receipt" not in snapshot["announcements"][0]
    await member.call("announcements.mark_read", {"branch": tree["a"].pk, "seq": a.seq})

    secretary = await connect(people["secretary"])
    snapshot = (await secretary.call("subscribe", {"stream": stream}))["data"]["snapshot"]
    assert snapshot["announcements"][0]["receipt"] == {"read": 1, "of": 3}
    older = await secretary.call("announcements.list", {"branch": tree["a"].pk, "before": a.seq + 1})
    assert older["data"]["announcements"][0]["receipt"] == {"read": 1, "of": 3}

    reply = await secretary.call("announcements.readers", {"announcement": a.pk})
    assert reply["op"] == "ok"
    assert names(reply["data"]["read"]) == ["Member"]
    assert sorted(names(reply["data"]["unread"])) == ["Moderator", "Probationary"]

    refused = await member.call("announcements.readers", {"announcement": a.pk})
    assert refused["op"] == "error" and refused["code"] == "forbidden"
    bad = await secretary.call("announcements.readers", {"announcement": "one"})
    assert bad["op"] == "error" and bad["code"] == "bad_request"
