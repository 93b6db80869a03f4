"""A secretary corrects (edits) or withdraws (撤回) an announcement: who may, what each
publishes, what readers see afterwards (lists, unread counts), the audit log, and the
same actions over /ws/ and /api/."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.identity import identity_for_user
from announcements import actions, selectors
from announcements.models import Announcement
from moderation.models import AuditEntry
from realtime.errors import Forbidden, Invalid, NotFound
from realtime.models import Event
from realtime.testing import capture_events
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)

STREAM = "announcements:{}"


def ident(user):
    return identity_for_user(user)


def post(people, tree, title="通知", body="正文") -> Announcement:
    return actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a"].pk, title=title, body=body)


@pytest.mark.django_db
def test_an_edit_updates_the_row_publishes_it_and_is_audited(people, tree):
    a = post(people, tree, title="周六活动", body="上午九点")
    with capture_events() as events:
        edited = actions.edit_announcement(identity=ident(people["secretary"]), announcement_id=a.pk,
                                           title="周六活动（改期）", body="  上午十点  ")
    assert [(e.stream, e.type) for e in events] == [(STREAM.format(tree["a"].pk), "announcement.edited")]
    data = events[0].data
    assert data["id"] == a.pk and data["title"] == "周六活动（改期）" and data["body"] == "上午十点"
    assert data["seq"] == a.seq and data["edited_at"]  # its place in the list does not move
    row = Announcement.objects.get(pk=a.pk)
    assert (row.title, row.body, row.edited_at) == ("周六活动（改期）", "上午十点", edited.edited_at)
    entry = AuditEntry.objects.get(action="announcement.edit")
    assert entry.branch_id == tree["a"].pk and entry.target_id == a.pk
    assert entry.before == {"title": "周六活动", "body": "上午九点"}
    assert entry.after == {"title": "周六活动（改期）", "body": "上午十点"}


@pytest.mark.django_db
def test_an_edit_that_changes_nothing_publishes_nothing(people, tree):
    a = post(people, tree, title="通知", body="正文")
    with capture_events() as events:
        actions.edit_announcement(identity=ident(people["secretary"]), announcement_id=a.pk, title="通知 ", body="正文")
    assert events == [] and not AuditEntry.objects.exists()
    assert Announcement.objects.get(pk=a.pk).edited_at is None


@pytest.mark.django_db
def test_a_withdrawn_announcement_leaves_lists_and_unread_counts(people, tree):
    kept = post(people, tree, title="保留")
    gone = post(people, tree, title="撤回的")
    member = ident(people["member"])
    assert selectors.unread_count(member, tree["a"].pk) == 2
    with capture_events() as events:
        actions.withdraw_announcement(identity=ident(people["secretary"]), announcement_id=gone.pk)
    assert [e.type for e in events] == ["announcement.withdrawn"]
    assert events[0].data == {"id": gone.pk, "seq": gone.seq, "author": {"id": people["secretary"].pk},
                              "by": {"id": people["secretary"].pk, "name": "Secretary"}}
    assert [a.pk for a in selectors.announcements_for(member, tree["a"].pk)] == [kept.pk]
    assert selectors.unread_count(member, tree["a"].pk) == 1
    assert Announcement.objects.get(pk=gone.pk).withdrawn_at is not None  # kept, for the record
    entry = AuditEntry.objects.get(action="announcement.withdraw")
    assert entry.before == {"title": "撤回的"} and entry.target_id == gone.pk
    # Withdrawn is gone for everyone, its secretary included.
    for change in (
        lambda: actions.withdraw_announcement(identity=ident(people["secretary"]), announcement_id=gone.pk),
        lambda: actions.edit_announcement(identity=ident(people["secretary"]), announcement_id=gone.pk,
                                          title="t", body="b"),
    ):
        with pytest.raises(NotFound):
            change()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, error",
    [("member", Forbidden), ("probationary", Forbidden), ("moderator", Forbidden),
     ("other_secretary", NotFound), ("outsider", NotFound)],
)
def test_only_secretaries_of_the_branch_may_correct(people, tree, who, error):
    a = post(people, tree, title="原标题")
    with capture_events() as events:
        with pytest.raises(error):
            actions.edit_announcement(identity=ident(people[who]), announcement_id=a.pk, title="改", body="改")
        with pytest.raises(error):
            actions.withdraw_announcement(identity=ident(people[who]), announcement_id=a.pk)
    assert events == [] and not AuditEntry.objects.exists()
    row = Announcement.objects.get(pk=a.pk)
    assert row.title == "原标题" and row.withdrawn_at is None and row.edited_at is None


@pytest.mark.django_db
def test_a_secretary_above_the_branch_may_correct(people, tree):
    a = post(people, tree)
    actions.edit_announcement(identity=ident(people["committee_secretary"]), announcement_id=a.pk,
                              title="党委更正", body="正文")
    assert Announcement.objects.get(pk=a.pk).title == "党委更正"


@pytest.mark.django_db
@pytest.mark.parametrize("title, body, field", [("", "正文", "title"), ("标题", "  ", "body"),
                                                ("长" * 201, "正文", "title")])
def test_an_invalid_edit_names_its_field_and_changes_nothing(people, tree, title, body, field):
    a = post(people, tree, title="原标题", body="原文")
    with pytest.raises(Invalid) as refused:
        actions.edit_announcement(identity=ident(people["secretary"]), announcement_id=a.pk, title=title, body=body)
    assert refused.value.field == field
    row = Announcement.objects.get(pk=a.pk)
    assert (row.title, row.body) == ("原标题", "原文")


# -- over /ws/ ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_readers_see_corrections_live_and_a_retry_is_answered_once(connect, people, tree):  # noqa: F811
    stream = STREAM.format(tree["a"].pk)
    a = await database_sync_to_async(post)(people, tree, title="原标题")
    reader = await connect(people["member"])
    snapshot = (await reader.call("subscribe", {"stream": stream}))["data"]["snapshot"]
    assert snapshot["unread"] == 1
    secretary = await connect(people["secretary"])

    reply = await secretary.call("announcements.edit", {"announcement": a.pk, "title": "新标题", "body": "新正文"},
                                 cid="edit-0001")
    assert reply["op"] == "ok" and reply["data"]["announcement"]["title"] == "新标题"
    event = (await reader.recv_until(lambda f: f["op"] == "event"))[-1]
    assert event["type"] == "announcement.edited" and event["data"]["title"] == "新标题"
    assert event["data"]["seq"] == a.seq and event["seq"] == a.seq + 1

    again = await secretary.call("announcements.edit", {"announcement": a.pk, "title": "新标题", "body": "新正文"},
                                 cid="edit-0001")
    assert again["data"]["replayed"] is True
    assert await reader.nothing()

    reply = await secretary.call("announcements.withdraw", {"announcement": a.pk}, cid="withdraw-0001")
    assert reply["op"] == "ok" and reply["data"]["announcement"] == {"id": a.pk, "withdrawn": True}
    event = (await reader.recv_until(lambda f: f["op"] == "event"))[-1]
    assert event["type"] == "announcement.withdrawn" and event["data"]["id"] == a.pk
    # A retry after the withdrawal gets the first answer, not "not found".
    again = await secretary.call("announcements.withdraw", {"announcement": a.pk}, cid="withdraw-0001")
    assert again["op"] == "ok" and again["data"]["replayed"] is True

    refused = await reader.call("announcements.withdraw", {"announcement": a.pk}, cid="withdraw-0002")
    assert refused["op"] == "error" and refused["code"] == "not_found"
    bad = await secretary.call("announcements.edit", {"announcement": "x", "title": "t", "body": "b"}, cid="edit-0003")
    assert bad["op"] == "error" and bad["code"] == "bad_request"
    resumed = await connect(people["member"])
    snapshot = (await resumed.call("subscribe", {"stream": stream}))["data"]["snapshot"]
    assert snapshot["announcements"] == [] and snapshot["unread"] == 0


# -- over /api/ --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_http_api_edits_and_withdraws_through_the_same_actions(people, tree):
    a = post(people, tree, title="原标题")
    secretary, member = Client(), Client()
    secretary.force_login(people["secretary"])
    member.force_login(people["member"])
    url = f"/api/announcements/{a.pk}"
    body = json.dumps({"title": "接口更正", "body": "正文"})

    refused = member.patch(url, data=body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    response = secretary.patch(url, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-0001")
    assert response.status_code == 200 and response.json()["announcement"]["title"] == "接口更正"
    assert Event.objects.filter(stream_id=STREAM.format(tree["a"].pk), type="announcement.edited").count() == 1

    response = secretary.delete(url)
    assert response.status_code == 200 and response.json() == {"announcement": {"id": a.pk, "withdrawn": True}}
    assert secretary.delete(url).status_code == 404
    listed = member.get(f"/api/branches/{tree['a'].pk}/announcements").json()
    assert listed["announcements"] == [] and listed["unread"] == 0


@pytest.mark.django_db
def test_the_audit_log_says_who_corrected_and_withdrew_what(client, people, tree):
    a = post(people, tree, title="原标题", body="长" * 500)
    actions.edit_announcement(identity=ident(people["secretary"]), announcement_id=a.pk, title="新标题", body="短")
    actions.withdraw_announcement(identity=ident(people["secretary"]), announcement_id=a.pk)
    client.force_login(people["secretary"])
    html = client.get(f"/branches/{tree['a'].pk}/audit/").content.decode()
    assert "修改通知公告" in html and "撤回通知公告" in html
    assert f'href="/branches/{tree["a"].pk}/announcements/"' in html
    assert "标题: 原标题" in html and "标题: 新标题" in html
    assert "长" * 200 + "…" in html and "长" * 201 not in html  # a long text is cut in the table
