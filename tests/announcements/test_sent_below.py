"""下发: a secretary of a branch above (a 党委) posts an announcement to its own branch
and, at the same time, to branches below it. Each gets a copy of its own (its stream,
its readers and unread counts, its mail), saying where it came from; the original
lists where it went. Only branches below may be named; the files are shared, not
copied, and stay while any copy names them; a member of two of those branches is
mailed once; scheduled posts go below too when they are published."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from accounts import outbox
from accounts.identity import identity_for_user
from accounts.models import Membership
from accounts.selectors import branches_below
from announcements import actions, scheduling, selectors
from announcements.models import Announcement, Attachment, Reading, ScheduledAnnouncement
from realtime.errors import Forbidden, Invalid
from realtime.testing import capture_events
from tests.announcements.test_attachments import PDF, client_for, upload
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)


def ident(user):
    return identity_for_user(user)


def post_from_committee(people, tree, also, title="关于开展主题党日活动的通知", **kwargs) -> Announcement:
    return actions.post_announcement(identity=ident(people["committee_secretary"]), branch_id=tree["committee"].pk,
                                     title=title, body="各支部：本月第三周开展主题党日。", also=also, **kwargs)


@pytest.mark.django_db
def test_the_branches_below_are_listed_in_tree_order(tree):
    assert [(b.name, depth) for b, depth in branches_below(tree["committee"].pk)] == [
        ("第一党支部", 1), ("第一党小组", 2), ("第二党支部", 1)]
    assert [b.name for b, _depth in branches_below(tree["a"].pk)] == ["第一党小组"]
    assert branches_below(tree["b"].pk) == []


@pytest.mark.django_db
def test_each_branch_below_gets_a_copy_of_its_own(people, tree):
    a, b, committee = tree["a"], tree["b"], tree["committee"]
    with capture_events() as events:
        original = post_from_committee(people, tree, [b.pk, a.pk])
    posted = {e.stream: e.data for e in events if e.type == "announcement.posted"}
    assert set(posted) == {f"announcements:{committee.pk}", f"announcements:{a.pk}", f"announcements:{b.pk}"}
    assert posted[f"announcements:{committee.pk}"]["sent_to"] == [
        {"id": a.pk, "name": "第一党支部"}, {"id": b.pk, "name": "第二党支部"}]
    for branch in (a, b):
        data = posted[f"announcements:{branch.pk}"]
        assert data["sent_from"] == {"id": committee.pk, "name": "党委"} and "sent_to" not in data
        assert data["branch"] == branch.pk and data["title"] == original.title and data["id"] != original.pk
    copies = Announcement.objects.filter(copy_of=original).order_by("branch_id")
    assert [c.branch_id for c in copies] == [a.pk, b.pk]
    assert all(c.author_id == people["committee_secretary"].pk and c.seq == 1 for c in copies)

    # In branch A it is one of A's announcements: listed, unread, counted among A's readers.
    member = ident(people["member"])
    (listed,) = selectors.listed(member, a.pk, selectors.announcements_for(member, a.pk))
    assert listed["sent_from"]["name"] == "党委" and not listed["read"]
    assert selectors.unread_count(member, a.pk) == 1
    copy_a = copies[0]
    assert selectors.read_counts([copy_a])[copy_a.pk] == {"read": 0, "of": 4}
    actions.read_announcements(identity=member, branch_id=a.pk, announcement_ids=[copy_a.pk])
    assert selectors.read_counts([copy_a])[copy_a.pk] == {"read": 1, "of": 4}
    # Branch B's members do not see A's copy, and A's secretary does not manage B's.
    assert [x.pk for x in selectors.announcements_for(ident(people["other_secretary"]), b.pk)] == [copies[1].pk]
    # On the sender's list the original counts its copies' readers too: A's four (one
    # has read it) and B's secretary; the author, the committee's only member, is not one.
    assert selectors.read_counts([original])[original.pk] == {"read": 1, "of": 5}


@pytest.mark.django_db
@pytest.mark.parametrize("also, why", [
    ("b", "only to branches below"),          # a sibling, not below A
    ("committee", "only to branches below"),  # above
    ("a", "only to branches below"),          # itself
    ("a1,a1", "named twice"),
])
def test_only_branches_below_may_be_named_and_a_refusal_writes_nothing(people, tree, also, why):
    with pytest.raises(Invalid) as refused, translation.override("en"):
        actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a"].pk, title="通知",
                                  body="正文", also=[tree[name].pk for name in also.split(",")])
    assert refused.value.field == "also" and why in refused.value.message
    assert not Announcement.objects.exists()


@pytest.mark.django_db
def test_a_copy_is_changed_by_the_sender_and_pinned_by_the_branch(people, tree):
    original = post_from_committee(people, tree, [tree["a"].pk])
    (copy,) = original.copies.all()
    branch_secretary = ident(people["secretary"])
    with pytest.raises(Forbidden), translation.override("en"):
        actions.edit_announcement(identity=branch_secretary, announcement_id=copy.pk, title="改", body="改")
    with pytest.raises(Forbidden) as refused, translation.override("en"):
        actions.withdraw_announcement(identity=branch_secretary, announcement_id=copy.pk)
    assert "sent from 党委" in refused.value.message
    assert actions.pin_announcement(identity=branch_secretary, announcement_id=copy.pk, pinned=True).pinned_at
    sender = ident(people["committee_secretary"])
    assert actions.edit_announcement(identity=sender, announcement_id=copy.pk, title="更正", body="正文").title == "更正"
    assert actions.withdraw_announcement(identity=sender, announcement_id=copy.pk).withdrawn_at
    assert Announcement.objects.get(pk=original.pk).withdrawn_at is None  # the original stays


@pytest.mark.django_db
def test_read_in_one_branch_is_read_in_the_others_one_belongs_to(people, tree, make_user):
    both = make_user("both", branch=tree["a"], roles=("full",))
    Membership.objects.create(user=both, branch=tree["a1"], role="full")
    original = post_from_committee(people, tree, [tree["a"].pk, tree["a1"].pk, tree["b"].pk])
    copies = {c.branch_id: c for c in original.copies.all()}
    plain = actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a1"].pk, title="小组通知",
                                      body="正文")
    reader = ident(both)
    with capture_events() as events:
        assert actions.read_announcements(identity=reader, branch_id=tree["a"].pk,
                                          announcement_ids=[copies[tree["a"].pk].pk]) == [copies[tree["a"].pk].pk]
    told = [(e.data["branch"], e.data["announcements"], e.data["unread"]) for e in events
            if e.type == "announcements.read"]
    assert told == [(tree["a"].pk, [copies[tree["a"].pk].pk], 0), (tree["a1"].pk, [copies[tree["a1"].pk].pk], 1)]
    assert selectors.unread_count(reader, tree["a1"].pk) == 1  # the group's own notice is still unread
    assert selectors.read_counts([copies[tree["a1"].pk]])[copies[tree["a1"].pk].pk]["read"] == 1
    assert plain.pk not in {r.announcement_id for r in Reading.objects.filter(user=both)}
    # Nothing for branch B, which the reader is not in; and reading it again is nothing new.
    assert not Reading.objects.filter(user=both, announcement=copies[tree["b"].pk]).exists()
    assert actions.read_announcements(identity=reader, branch_id=tree["a1"].pk,
                                      announcement_ids=[copies[tree["a1"].pk].pk]) == []


@pytest.mark.django_db
def test_a_branch_secretary_sends_to_the_groups_below(people, tree):
    original = actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a"].pk,
                                         title="小组学习安排", body="正文", also=[tree["a1"].pk])
    (copy,) = Announcement.objects.filter(copy_of=original)
    assert copy.branch_id == tree["a1"].pk and copy.sent_from_id == tree["a"].pk
    assert original.sent_to == [{"id": tree["a1"].pk, "name": "第一党小组"}]


@pytest.mark.django_db
def test_the_files_are_shared_and_stay_while_any_copy_names_them(people, tree, make_user, settings,
                                                                 django_capture_on_commit_callbacks):
    in_group = make_user("zubei", branch=tree["a1"], roles=("full",))
    secretary = client_for(people["secretary"])
    file_id = upload(secretary, tree["a"]).json()["attachment"]["id"]
    original = actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a"].pk,
                                         title="学习材料", body="见附件", attachments=[file_id], also=[tree["a1"].pk])
    (copy,) = Announcement.objects.filter(copy_of=original)
    (shared,) = copy.attachments.all()
    stored = Path(settings.MEDIA_ROOT) / shared.file.name
    assert shared.pk != file_id and shared.file.name == Attachment.objects.get(pk=file_id).file.name
    assert shared.branch_id == tree["a1"].pk and copy.to_dict()["attachments"][0]["id"] == shared.pk
    # The group's member opens it through the group's copy, not through branch A's.
    group_member = client_for(in_group)
    assert group_member.get(f"/attachments/{shared.pk}/{shared.name}").status_code == 200
    assert group_member.get(f"/attachments/{file_id}/{shared.name}").status_code == 404

    # The group's copy loses the file; branch A's original still names it, so it stays.
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        actions.edit_announcement(identity=ident(people["secretary"]), announcement_id=copy.pk,
                                  title="学习材料", body="附件已撤下", attachments=[])
    assert hooks and stored.read_bytes() == PDF  # the files' deletion ran, and kept this one
    with django_capture_on_commit_callbacks(execute=True):
        actions.edit_announcement(identity=ident(people["secretary"]), announcement_id=original.pk,
                                  title="学习材料", body="附件已撤下", attachments=[])
    assert not stored.exists()


@pytest.mark.django_db
def test_correcting_or_withdrawing_the_original_does_the_same_below(people, tree):
    secretary = ident(people["committee_secretary"])
    original = post_from_committee(people, tree, [tree["a"].pk, tree["b"].pk])
    copy_a, copy_b = original.copies.order_by("branch_id")
    actions.withdraw_announcement(identity=secretary, announcement_id=copy_b.pk)  # B's alone, first
    file_id = upload(client_for(people["committee_secretary"]), tree["committee"]).json()["attachment"]["id"]
    with capture_events() as events:
        actions.edit_announcement(identity=secretary, announcement_id=original.pk, title="更正：主题党日改期",
                                  body="改为下周三。", attachments=[file_id])
    assert sorted((e.stream, e.type) for e in events) == [
        (f"announcements:{tree['committee'].pk}", "announcement.edited"),
        (f"announcements:{tree['a'].pk}", "announcement.edited")]  # not B's, withdrawn
    copy_a.refresh_from_db()
    assert (copy_a.title, copy_a.body, copy_a.edited_at is not None) == ("更正：主题党日改期", "改为下周三。", True)
    (shared,) = copy_a.attachments.all()
    assert shared.branch_id == tree["a"].pk and shared.file.name == Attachment.objects.get(pk=file_id).file.name

    with capture_events() as events:
        actions.withdraw_announcement(identity=secretary, announcement_id=original.pk)
    assert sorted((e.stream, e.data["id"]) for e in events) == [
        (f"announcements:{tree['committee'].pk}", original.pk), (f"announcements:{tree['a'].pk}", copy_a.pk)]
    assert not Announcement.objects.filter(withdrawn_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed
def test_a_member_of_two_of_the_branches_is_mailed_once(people, tree, make_user, settings):
    settings.SENDS_EMAIL = True
    both = make_user("both", branch=tree["a"], roles=("full",), email="both@example.org")
    Membership.objects.create(user=both, branch=tree["a1"], role="full")
    make_user("group_only", branch=tree["a1"], roles=("full",), email="group@example.org")
    people["member"].email = "member@example.org"
    people["member"].save()
    post_from_committee(people, tree, [tree["a"].pk, tree["a1"].pk])
    outbox.wait_idle()
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert sent == [("both@example.org", "[第一党支部] 关于开展主题党日活动的通知"),
                    ("group@example.org", "[第一党小组] 关于开展主题党日活动的通知"),
                    ("member@example.org", "[第一党支部] 关于开展主题党日活动的通知")]


@pytest.mark.django_db
def test_scheduled_ones_go_below_when_published_and_fail_if_a_branch_moved(people, tree):
    committee_secretary = ident(people["committee_secretary"])
    at = (timezone.now() + timedelta(hours=1)).isoformat()
    s = scheduling.schedule_announcement(identity=committee_secretary, branch_id=tree["committee"].pk,
                                         title="明早通知", body="正文", publish_at=at, also=[tree["b"].pk])
    assert scheduling.to_dict(s)["also"] == [{"id": tree["b"].pk, "name": "第二党支部"}]
    with pytest.raises(Invalid):
        scheduling.schedule_announcement(identity=committee_secretary, branch_id=tree["committee"].pk,
                                         title="x", body="y", publish_at=at, also=[tree["committee"].pk])
    moved = scheduling.schedule_announcement(identity=committee_secretary, branch_id=tree["committee"].pk,
                                             title="后天通知", body="正文", publish_at=at, also=[tree["a1"].pk])
    tree["a1"].parent = None  # taken out of the tree before it is due
    tree["a1"].save()
    with translation.override("en"):
        assert scheduling.publish_due(now=timezone.now() + timedelta(hours=2)) == 1
    published = Announcement.objects.get(pk=ScheduledAnnouncement.objects.get(pk=s.pk).announcement_id)
    assert [c.branch_id for c in published.copies.all()] == [tree["b"].pk]
    moved.refresh_from_db()
    assert moved.status == ScheduledAnnouncement.Status.FAILED and "below" in moved.problem
    assert not Announcement.objects.filter(title="后天通知").exists()


@pytest.mark.django_db
def test_over_http(people, tree):
    client = Client()
    client.force_login(people["committee_secretary"])
    answer = client.post(f"/api/branches/{tree['committee'].pk}/announcements",
                         {"title": "通知", "body": "正文", "also": [tree["b"].pk]}, content_type="application/json")
    assert answer.status_code == 201 and answer.json()["announcement"]["sent_to"][0]["id"] == tree["b"].pk
    answer = client.post(f"/api/branches/{tree['committee'].pk}/announcements",
                         {"title": "通知", "body": "正文", "also": [99999]}, content_type="application/json")
    assert answer.status_code == 400 and Announcement.objects.count() == 2


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_readers_below_see_it_live(connect, people, tree):  # noqa: F811
    reader = await connect(people["other_secretary"])
    await reader.call("subscribe", {"stream": f"announcements:{tree['b'].pk}"})
    writer = await connect(people["committee_secretary"])
    reply = await writer.call("announcements.post", {"branch": tree["committee"].pk, "title": "通知", "body": "正文",
                                                     "also": [tree["b"].pk]}, cid="below-0001")
    assert reply["op"] == "ok" and reply["data"]["announcement"]["sent_to"] == [{"id": tree["b"].pk, "name": "第二党支部"}]
    event = (await reader.recv_until(lambda f: f["op"] == "event"))[-1]
    assert event["type"] == "announcement.posted" and event["data"]["sent_from"]["name"] == "党委"
    bad = await writer.call("announcements.post", {"branch": tree["committee"].pk, "title": "通知", "body": "正文",
                                                   "also": "all"}, cid="below-0002")
    assert bad["op"] == "error" and bad["code"] == "bad_request"
    assert await database_sync_to_async(Announcement.objects.count)() == 2


@pytest.mark.django_db
def test_the_originals_count_adds_up_the_branches_below_each_person_once(people, tree, make_user):
    a, a1, b, committee = tree["a"], tree["a1"], tree["b"], tree["committee"]
    both = make_user("both", branch=a, roles=("full",))
    Membership.objects.create(user=both, branch=a1, role="full")
    make_user("colleague", branch=committee, roles=("full",))
    original = post_from_committee(people, tree, [a.pk, a1.pk, b.pk])
    copies = {c.branch_id: c for c in original.copies.all()}
    # The committee's other member, A's four, the member of A and A1 once, B's secretary.
    assert selectors.read_counts([original])[original.pk] == {"read": 0, "of": 7}
    actions.read_announcements(identity=ident(both), branch_id=a1.pk, announcement_ids=[copies[a1.pk].pk])
    actions.mark_read(identity=ident(people["other_secretary"]), branch_id=b.pk, seq=copies[b.pk].seq)
    assert selectors.read_counts([original])[original.pk] == {"read": 2, "of": 7}
    assert selectors.read_counts([copies[a.pk]])[copies[a.pk].pk] == {"read": 1, "of": 5}

    readers = selectors.readers_of(ident(people["committee_secretary"]), original.pk)
    by_name = {person["name"]: person for person in readers["read"] + readers["unread"]}
    assert by_name["Both"]["branches"] == ["第一党支部", "第一党小组"] and by_name["Both"]["read_at"]
    assert by_name["Colleague"]["branches"] == ["党委"] and by_name["Colleague"]["announcement"] == original.pk
    assert by_name["Other_Secretary"]["read_at"] is None  # read with "mark all read": no moment kept
    assert [p["name"] for p in readers["read"]] == ["Both", "Other_Secretary"]
    # A plain announcement's readers carry no branches.
    plain = actions.post_announcement(identity=ident(people["secretary"]), branch_id=a.pk, title="支部通知", body="正文")
    assert all("branches" not in person for person in selectors.readers_of(ident(people["secretary"]), plain.pk)["unread"])


@pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed
def test_reminding_from_the_original_reaches_each_unread_reader_at_their_copy(people, tree, make_user, settings):
    settings.SENDS_EMAIL = True
    a, a1, b = tree["a"], tree["a1"], tree["b"]
    both = make_user("both", branch=a, roles=("full",), email="both@example.org")
    Membership.objects.create(user=both, branch=a1, role="full")
    people["other_secretary"].email = "b@example.org"
    people["other_secretary"].save()
    original = post_from_committee(people, tree, [a.pk, a1.pk, b.pk])
    copies = {c.branch_id: c for c in original.copies.all()}
    for person in ("secretary", "member", "probationary", "moderator"):
        actions.read_announcements(identity=ident(people[person]), branch_id=a.pk, announcement_ids=[copies[a.pk].pk])
    outbox.wait_idle()
    mail.outbox.clear()
    with capture_events() as events:
        reply = actions.remind_unread(identity=ident(people["committee_secretary"]), announcement_id=original.pk)
    assert reply["reminded"] == 2
    reminders = {e.stream: e.data for e in events if e.type == "announcement.reminder"}
    assert reminders == {
        f"inbox:{both.pk}": {"announcement": copies[a.pk].pk, "branch": a.pk, "title": original.title,
                             "by": {"id": people["committee_secretary"].pk, "name": "Committee_Secretary"}},
        f"inbox:{people['other_secretary'].pk}": {
            "announcement": copies[b.pk].pk, "branch": b.pk, "title": original.title,
            "by": {"id": people["committee_secretary"].pk, "name": "Committee_Secretary"}}}
    outbox.wait_idle()
    sent = sorted((m.to[0], m.subject, f"/announcements/{copies[a.pk].pk}/" in m.body,
                   f"/announcements/{copies[b.pk].pk}/" in m.body) for m in mail.outbox)
    assert [(to, a_link, b_link) for to, _subject, a_link, b_link in sent] == [
        ("b@example.org", False, True), ("both@example.org", True, False)]
    # The branches' own secretaries may still remind their own readers of their copy.
    assert actions.remind_unread(identity=ident(people["other_secretary"]), announcement_id=copies[b.pk].pk) is not None


@pytest.mark.django_db
def test_the_originals_page_and_list_of_readers_name_their_branches(people, tree):
    original = post_from_committee(people, tree, [tree["a"].pk, tree["b"].pk])
    client = Client()
    client.force_login(people["committee_secretary"])
    client.cookies["django_language"] = "en"
    page = client.get(f"/announcements/{original.pk}/").content.decode()
    assert "0/5 read" in page and "Other_Secretary (第二党支部)" in page and "Member (第一党支部)" in page
    csv_text = client.get(f"/announcements/{original.pk}/readers.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "Name,Branch,Read,Read at"
    assert "Other_Secretary,第二党支部,no," in csv_text.splitlines()
    # A copy's own list is its branch's, as before.
    (copy_b,) = original.copies.filter(branch=tree["b"])
    client.force_login(people["other_secretary"])
    csv_text = client.get(f"/announcements/{copy_b.pk}/readers.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "Name,Read,Read at"


@pytest.mark.django_db(transaction=True)
async def test_the_senders_list_sees_the_count_move_as_branches_below_read(connect, people, tree):  # noqa: F811
    a, b, committee = tree["a"], tree["b"], tree["committee"]
    original = await database_sync_to_async(post_from_committee)(people, tree, [a.pk, b.pk])
    copies = {c.branch_id: c for c in await database_sync_to_async(list)(original.copies.all())}
    sender = await connect(people["committee_secretary"])
    assert (await sender.call("subscribe", {"stream": f"receipts:{committee.pk}"}))["op"] == "ok"
    member = await connect(people["member"])
    await member.call("announcements.mark_read", {"branch": a.pk, "announcements": [copies[a.pk].pk]})
    frame = (await sender.recv_until(lambda f: f.get("op") == "receipts"))[-1]
    assert frame["counts"] == {str(original.pk): {"read": 1, "of": 5}}
    other = await connect(people["other_secretary"])
    await other.call("announcements.mark_read", {"branch": b.pk, "seq": copies[b.pk].seq})  # "mark all read"
    frame = (await sender.recv_until(lambda f: f.get("op") == "receipts"))[-1]
    assert frame["counts"] == {str(original.pk): {"read": 2, "of": 5}}


@pytest.mark.django_db
def test_a_scheduled_ones_branches_below_can_be_changed_until_it_goes(people, tree):
    committee_secretary = ident(people["committee_secretary"])
    at = (timezone.now() + timedelta(hours=1)).isoformat()
    s = scheduling.schedule_announcement(identity=committee_secretary, branch_id=tree["committee"].pk,
                                         title="明早通知", body="正文", publish_at=at, also=[tree["b"].pk])

    def change(**kwargs):
        return scheduling.change_scheduled(identity=committee_secretary, scheduled_id=s.pk, title="明早通知",
                                           body="改过的正文", publish_at=at, **kwargs)

    assert change().also == [tree["b"].pk]  # not named: kept
    assert change(also=[tree["a1"].pk, tree["a"].pk]).also == [tree["a"].pk, tree["a1"].pk]  # the tree's order
    with pytest.raises(Invalid) as refused, translation.override("en"):
        change(also=[tree["committee"].pk])
    assert refused.value.field == "also"
    s.refresh_from_db()
    assert s.also == [tree["a"].pk, tree["a1"].pk] and s.body == "改过的正文"
    assert change(also=[]).also == []  # to none: its own branch only
    with translation.override("en"):
        assert scheduling.publish_due(now=timezone.now() + timedelta(hours=2)) == 1
    published = Announcement.objects.get(pk=ScheduledAnnouncement.objects.get(pk=s.pk).announcement_id)
    assert published.sent_to is None and not published.copies.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_scheduled_ones_branches_below_change_over_the_socket(connect, people, tree):  # noqa: F811
    writer = await connect(people["committee_secretary"])
    at = (timezone.now() + timedelta(hours=1)).isoformat()
    reply = await writer.call("announcements.schedule", {"branch": tree["committee"].pk, "title": "通知",
                                                         "body": "正文", "publish_at": at}, cid="below-s-01")
    scheduled = reply["data"]["scheduled"]
    assert scheduled["also"] == []
    reply = await writer.call("announcements.change_scheduled", {
        "scheduled": scheduled["id"], "title": "通知", "body": "正文", "publish_at": at, "also": [tree["b"].pk]},
        cid="below-s-02")
    assert reply["data"]["scheduled"]["also"] == [{"id": tree["b"].pk, "name": "第二党支部"}]
    bad = await writer.call("announcements.change_scheduled", {
        "scheduled": scheduled["id"], "title": "通知", "body": "正文", "publish_at": at, "also": "all"},
        cid="below-s-03")
    assert bad["op"] == "error" and bad["code"] == "bad_request"
    kept = await database_sync_to_async(ScheduledAnnouncement.objects.get)(pk=scheduled["id"])
    assert kept.also == [tree["b"].pk]


@pytest.mark.django_db
def test_a_branch_renamed_since_shows_its_new_name(people, tree):
    original = post_from_committee(people, tree, [tree["a"].pk, tree["b"].pk])
    tree["b"].name = "第二党支部（社区）"
    tree["b"].save()
    committee_secretary = ident(people["committee_secretary"])
    items = selectors.announcements_for(committee_secretary, tree["committee"].pk)
    (listed,) = selectors.listed(committee_secretary, tree["committee"].pk, items)
    assert listed["sent_to"] == [{"id": tree["a"].pk, "name": "第一党支部"}, {"id": tree["b"].pk, "name": "第二党支部（社区）"}]
    assert Announcement.objects.get(pk=original.pk).sent_to_names == ["第一党支部", "第二党支部（社区）"]
    tree["b"].delete()  # gone: the name it had when it was sent
    assert Announcement.objects.get(pk=original.pk).sent_to_names == ["第一党支部", "第二党支部"]


@pytest.mark.django_db
def test_search_in_all_my_branches_finds_each_notice_once(people, tree, make_user):
    a, a1, b = tree["a"], tree["a1"], tree["b"]
    both = make_user("both", branch=a, roles=("full",))
    Membership.objects.create(user=both, branch=a1, role="full")
    post_from_committee(people, tree, [a.pk, a1.pk, b.pk], title="关于党费收缴的通知")
    actions.post_announcement(identity=ident(people["secretary"]), branch_id=a1.pk, title="小组党费登记", body="正文")
    actions.post_announcement(identity=ident(people["other_secretary"]), branch_id=b.pk, title="二支部党费", body="正文")
    reader = ident(both)
    here, _words = selectors.search(reader, a.pk, "党费")
    assert [x.title for x in here] == ["关于党费收缴的通知"]
    everywhere, _words = selectors.search(reader, a.pk, "党费", everywhere=True)
    assert [(x.title, x.branch.name) for x in everywhere] == [("小组党费登记", "第一党小组"),
                                                             ("关于党费收缴的通知", "第一党支部")]  # not B's
    client = Client()
    client.force_login(both)
    client.cookies["django_language"] = "en"
    page = client.get(f"/branches/{a.pk}/announcements/search/?q=党费&all=1").content.decode()
    assert page.count('class="hit"') == 2 and 'class="hit-branch">第一党小组<' in page and "In all my branches" in page
    # One branch only: no such choice, and all=1 searches the branch.
    client.force_login(people["other_secretary"])
    page = client.get(f"/branches/{b.pk}/announcements/search/?q=党费&all=1").content.decode()
    assert "In all my branches" not in page and page.count('class="hit"') == 2


@pytest.mark.django_db
def test_a_committee_list_of_originals_is_counted_in_a_few_queries(people, tree, django_assert_max_num_queries):
    for i in range(8):
        post_from_committee(people, tree, [tree["a"].pk, tree["b"].pk] if i % 2 else [tree["a1"].pk], title=f"通知{i}")
    items = selectors.announcements_for(ident(people["committee_secretary"]), tree["committee"].pk)
    with django_assert_max_num_queries(8):  # three for the list, five for all its originals
        counts = selectors.read_counts(items)
    assert sorted(c["of"] for c in counts.values()) == [0] * 4 + [5] * 4  # the group has no members here
