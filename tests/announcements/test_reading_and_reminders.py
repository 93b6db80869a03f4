"""已读 one by one and 提醒未读.

A member reads an announcement by seeing it on the list page or opening it on its own
(`announcements.mark_read` with `announcements`, the announcement's page): it stops
counting as unread, the secretary's receipt counts it, and older ones not yet seen stay
unread. A secretary reminds those who have not read one yet (`announcements.remind`,
POST /api/announcements/{id}/remind): a notification each, a mail to those who take
announcements by e-mail, at most once every half hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from accounts import notifications, outbox
from accounts.identity import identity_for_user
from accounts.streams import inbox_stream
from announcements import actions, selectors
from announcements.models import Announcement, Reading
from frontend.notification_text import describe
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from realtime.models import Event
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)


def ident(user):
    return identity_for_user(user)


def post(people, tree, title="通知"):
    return actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a"].pk, title=title,
                                     body="正文")


def read(people, who, tree, *items):
    return actions.read_announcements(identity=ident(people[who]), branch_id=tree["a"].pk,
                                      announcement_ids=[a.pk for a in items])


def inbox_events(user, type_):
    return list(Event.objects.filter(stream=inbox_stream(user.pk), type=type_).order_by("seq"))


def names(people_list):
    return [person["name"] for person in people_list]


@pytest.mark.django_db
def test_reading_one_leaves_the_older_ones_unread(people, tree):
    first, second = post(people, tree, "第一条"), post(people, tree, "第二条")
    member, branch = ident(people["member"]), tree["a"].pk
    assert selectors.unread_count(member, branch) == 2

    assert read(people, "member", tree, second) == [second.pk]
    assert selectors.unread_count(member, branch) == 1  # the first is still waiting
    assert selectors.read_marker(member, branch) == 0  # the marker did not move past it
    assert selectors.read_ids(member, branch, [first, second]) == {second.pk}
    assert selectors.read_counts([first, second]) == {first.pk: {"read": 0, "of": 3},
                                                              second.pk: {"read": 1, "of": 3}}
    readers = selectors.readers_of(ident(people["secretary"]), second.pk)
    assert names(readers["read"]) == ["Member"]
    assert sorted(names(readers["unread"])) == ["Moderator", "Probationary"]

    # Other tabs learn of it on the reader's inbox: which ones, and the new count.
    told = inbox_events(people["member"], "announcements.read")
    assert [e.data for e in told] == [{"branch": branch, "read_seq": 0, "unread": 1, "announcements": [second.pk]}]
    # Read again (another tab saw it too): nothing new, nothing told.
    assert read(people, "member", tree, second) == []
    assert len(inbox_events(people["member"], "announcements.read")) == 1
    assert Reading.objects.filter(user=people["member"]).count() == 1

    # "Mark all read" still reads everything up to the marker.
    actions.mark_read(identity=member, branch_id=branch, seq=second.seq)
    assert selectors.unread_count(member, branch) == 0
    assert selectors.read_counts([first])[first.pk] == {"read": 1, "of": 3}


@pytest.mark.django_db
def test_what_reading_passes_over_and_refuses(people, tree, django_assert_max_num_queries):
    mine = post(people, tree, "书记自己的")
    older, gone = post(people, tree, "旧的"), post(people, tree, "撤回的")
    actions.mark_read(identity=ident(people["member"]), branch_id=tree["a"].pk, seq=older.seq)
    actions.withdraw_announcement(identity=ident(people["secretary"]), announcement_id=gone.pk)
    # Passed over: one's own, one already behind the marker, one withdrawn meanwhile.
    assert read(people, "secretary", tree, mine) == []
    assert read(people, "member", tree, older, gone) == []
    assert not Reading.objects.exists()

    member = ident(people["member"])
    other_branch = actions.post_announcement(identity=ident(people["other_secretary"]), branch_id=tree["b"].pk,
                                             title="别的支部", body="正文")
    refusals = [
        (dict(identity=member, branch_id=tree["a"].pk, announcement_ids=[]), Invalid),
        (dict(identity=member, branch_id=tree["a"].pk, announcement_ids=list(range(1, 102))), Invalid),
        (dict(identity=member, branch_id=tree["a"].pk, announcement_ids=[other_branch.pk]), NotFound),
        (dict(identity=member, branch_id=tree["a"].pk, announcement_ids=[999_999]), NotFound),
        (dict(identity=ident(people["outsider"]), branch_id=tree["a"].pk, announcement_ids=[older.pk]), Forbidden),
    ]
    for kwargs, error in refusals:
        with pytest.raises(error):
            actions.read_announcements(**kwargs)
    assert not Reading.objects.exists()


@pytest.mark.django_db
def test_opening_an_announcement_reads_it(people, tree):
    first, second = post(people, tree, "第一条"), post(people, tree, "第二条")
    member = Client()
    member.force_login(people["member"])
    listed = member.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert listed.count("is-unread") == 2

    assert member.get(f"/announcements/{first.pk}/").status_code == 200
    assert list(Reading.objects.values_list("user_id", "announcement_id")) == [(people["member"].pk, first.pk)]
    listed = member.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert listed.count("is-unread") == 1
    api = member.get(f"/api/branches/{tree['a'].pk}/announcements").json()
    assert api["unread"] == 1
    assert {a["id"]: a["read"] for a in api["announcements"]} == {first.pk: True, second.pk: False}

    # The author opening their own writes nothing.
    secretary = Client()
    secretary.force_login(people["secretary"])
    assert secretary.get(f"/announcements/{second.pk}/").status_code == 200
    assert Reading.objects.count() == 1


@pytest.mark.django_db(transaction=True)
async def test_over_ws_seen_ones_are_read_and_the_snapshot_says_which(connect, people, tree):  # noqa: F811
    from channels.db import database_sync_to_async

    first = await database_sync_to_async(post)(people, tree, "第一条")
    second = await database_sync_to_async(post)(people, tree, "第二条")
    branch = tree["a"].pk
    member = await connect(people["member"])
    other_tab = await connect(people["member"])
    await other_tab.call("subscribe", {"stream": inbox_stream(people["member"].pk)})

    reply = await member.call("announcements.mark_read", {"branch": branch, "announcements": [second.pk]})
    assert reply["op"] == "ok"
    assert reply["data"] == {"read_seq": 0, "announcements": [second.pk], "unread": 1}
    told = (await other_tab.recv_until(lambda f: f.get("type") == "announcements.read"))[-1]
    assert told["data"]["announcements"] == [second.pk] and told["data"]["unread"] == 1

    snapshot = (await member.call("subscribe", {"stream": f"announcements:{branch}"}))["data"]["snapshot"]
    assert {a["id"]: a["read"] for a in snapshot["announcements"]} == {first.pk: False, second.pk: True}
    assert snapshot["unread"] == 1

    for args in ({"branch": branch}, {"branch": branch, "seq": 1, "announcements": [first.pk]},
                 {"branch": branch, "announcements": "all"}):
        bad = await member.call("announcements.mark_read", args)
        assert bad["op"] == "error" and bad["code"] == "bad_request", args
    missing = await member.call("announcements.mark_read", {"branch": branch, "announcements": [999_999]})
    assert missing["op"] == "error" and missing["code"] == "not_found"
    outsider = await connect(people["outsider"])
    refused = await outsider.call("announcements.mark_read", {"branch": branch, "announcements": [first.pk]})
    assert refused["op"] == "error" and refused["code"] == "forbidden"
    assert await database_sync_to_async(Reading.objects.count)() == 1


@pytest.mark.django_db
def test_a_reminder_reaches_those_who_have_not_read_it(people, tree, settings):
    settings.SENDS_EMAIL = False
    a = post(people, tree, "关于缴纳党费的通知")
    read(people, "member", tree, a)
    secretary = ident(people["secretary"])

    result = actions.remind_unread(identity=secretary, announcement_id=a.pk)
    assert result["reminded"] == 2 and result["announcement"] == a.pk
    for who, expected in (("moderator", 1), ("probationary", 1), ("member", 0), ("secretary", 0)):
        assert len(inbox_events(people[who], "announcement.reminder")) == expected, who
    reminder = inbox_events(people["moderator"], "announcement.reminder")[0]
    assert reminder.data == {"announcement": a.pk, "branch": tree["a"].pk, "title": "关于缴纳党费的通知",
                             "by": {"id": people["secretary"].pk, "name": secretary.name}}
    # A notification: counted by the bell, in words on the notifications page.
    assert notifications.bell(ident(people["moderator"]))["count"] == 1
    [item] = describe([reminder])
    assert item["url"] == f"/announcements/{a.pk}/"
    assert "关于缴纳党费的通知" in item["text"] and secretary.name in item["text"]
    assert selectors.readers_of(secretary, a.pk)["reminded_at"] is not None
    entry = AuditEntry.objects.get(action="announcement.remind")
    assert entry.after == {"title": "关于缴纳党费的通知", "reminded": 2}

    # Again within half an hour: refused with when it may be done again; nobody told twice.
    with pytest.raises(RateLimited) as refused:
        actions.remind_unread(identity=secretary, announcement_id=a.pk)
    assert 0 < refused.value.details["retry_after"] <= 30 * 60
    assert len(inbox_events(people["moderator"], "announcement.reminder")) == 1

    # Half an hour later, once everyone has read it, there is nobody to remind.
    Announcement.objects.filter(pk=a.pk).update(reminded_at=result_time(result) - timedelta(hours=1))
    read(people, "moderator", tree, a)
    read(people, "probationary", tree, a)
    with pytest.raises(Conflict):
        actions.remind_unread(identity=secretary, announcement_id=a.pk)


def result_time(result):
    from datetime import datetime

    return datetime.fromisoformat(result["reminded_at"].replace("Z", "+00:00"))


@pytest.mark.django_db
@pytest.mark.parametrize("who, error", [("member", Forbidden), ("moderator", Forbidden),
                                        ("other_secretary", NotFound), ("outsider", NotFound)])
def test_only_the_branch_secretaries_remind(people, tree, who, error):
    a = post(people, tree)
    with pytest.raises(error):
        actions.remind_unread(identity=ident(people[who]), announcement_id=a.pk)
    assert not Event.objects.filter(type="announcement.reminder").exists()
    assert Announcement.objects.get(pk=a.pk).reminded_at is None


@pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed
def test_a_reminder_is_mailed_to_those_who_take_announcements_by_mail(people, tree, settings):
    settings.SENDS_EMAIL = False  # the post's own mail is not what this test is about
    a = post(people, tree, "周六志愿服务")
    settings.SENDS_EMAIL = True
    settings.SITE_URL = "https://branchline.example.org"
    for name in ("secretary", "member", "moderator"):
        people[name].email = f"{name}@example.org"
        people[name].save()
    read(people, "member", tree, a)
    actions.remind_unread(identity=ident(people["secretary"]), announcement_id=a.pk)
    outbox.wait_idle()
    assert [m.to for m in mail.outbox] == [["moderator@example.org"]]  # not the reader, nor the author
    assert mail.outbox[0].subject == "提醒：[第一党支部] 周六志愿服务"
    assert f"https://branchline.example.org/announcements/{a.pk}/" in mail.outbox[0].body


@pytest.mark.django_db
def test_the_http_api_reminds_once_per_half_hour(people, tree, settings):
    settings.SENDS_EMAIL = False
    a = post(people, tree)
    secretary, member = Client(), Client()
    secretary.force_login(people["secretary"])
    member.force_login(people["member"])
    assert member.post(f"/api/announcements/{a.pk}/remind").status_code == 403
    done = secretary.post(f"/api/announcements/{a.pk}/remind")
    assert done.status_code == 200 and done.json()["reminded"] == 3
    again = secretary.post(f"/api/announcements/{a.pk}/remind")
    assert again.status_code == 429 and again.json()["code"] == "rate_limited"
    assert Event.objects.filter(type="announcement.reminder").count() == 3
    # The branch's audit log says it in words.
    assert "提醒未读的同志阅读通知公告" in secretary.get(f"/branches/{tree['a'].pk}/audit/").content.decode()


@pytest.mark.django_db(transaction=True)
async def test_over_ws_remind_is_a_write_and_refusals_are_error_frames(connect, people, tree, settings):  # noqa: F811
    from channels.db import database_sync_to_async

    settings.SENDS_EMAIL = False
    a = await database_sync_to_async(post)(people, tree)
    secretary = await connect(people["secretary"])
    reply = await secretary.call("announcements.remind", {"announcement": a.pk}, cid="remind-1")
    assert reply["op"] == "ok" and reply["data"]["reminded"] == 3
    retried = await secretary.call("announcements.remind", {"announcement": a.pk}, cid="remind-1")
    assert retried["op"] == "ok" and retried["data"]["reminded"] == 3  # the original answer, not a refusal
    again = await secretary.call("announcements.remind", {"announcement": a.pk}, cid="remind-2")
    assert again["op"] == "error" and again["code"] == "rate_limited"
    member = await connect(people["member"])
    refused = await member.call("announcements.remind", {"announcement": a.pk}, cid="remind-3")
    assert refused["op"] == "error" and refused["code"] == "forbidden"
    count = await database_sync_to_async(Event.objects.filter(type="announcement.reminder").count)()
    assert count == 3


@pytest.mark.django_db(transaction=True)
async def test_secretaries_following_receipts_see_counts_move_as_members_read(connect, people, tree):  # noqa: F811
    from channels.db import database_sync_to_async

    first = await database_sync_to_async(post)(people, tree, "第一条")
    second = await database_sync_to_async(post)(people, tree, "第二条")
    branch = tree["a"].pk
    secretary = await connect(people["secretary"])
    assert (await secretary.call("subscribe", {"stream": f"receipts:{branch}"}))["op"] == "ok"
    above = await connect(people["committee_secretary"])
    assert (await above.call("subscribe", {"stream": f"receipts:{branch}"}))["op"] == "ok"
    for who in ("member", "moderator", "other_secretary"):  # only the branch's secretaries may
        refused = await (await connect(people[who])).call("subscribe", {"stream": f"receipts:{branch}"})
        assert refused["op"] == "error" and refused["code"] == "forbidden", who

    member = await connect(people["member"])
    await member.call("announcements.mark_read", {"branch": branch, "announcements": [second.pk]})
    for watcher in (secretary, above):
        frame = (await watcher.recv_until(lambda f: f.get("op") == "receipts"))[-1]
        assert frame == {"op": "receipts", "stream": f"receipts:{branch}",
                         "counts": {str(second.pk): {"read": 1, "of": 3}}}

    # Mark all read: every announcement it reached.
    moderator = await connect(people["moderator"])
    await moderator.call("announcements.mark_read", {"branch": branch, "seq": second.seq})
    frame = (await secretary.recv_until(lambda f: f.get("op") == "receipts"))[-1]
    assert frame["counts"] == {str(first.pk): {"read": 1, "of": 3}, str(second.pk): {"read": 2, "of": 3}}
    # Nothing for what changes no count.
    await member.call("announcements.mark_read", {"branch": branch, "announcements": [second.pk]})
    assert await secretary.nothing()


@pytest.mark.django_db
def test_the_announcements_own_page_shows_its_secretary_who_has_read_it_and_reminds(people, tree, settings):
    settings.SENDS_EMAIL = False
    a = post(people, tree, "关于缴纳党费的通知")
    read(people, "member", tree, a)
    secretary, member = Client(), Client()
    secretary.force_login(people["secretary"])
    member.force_login(people["moderator"])
    page = secretary.get(f"/announcements/{a.pk}/").content.decode()
    assert "已读 1/3" in page and "提醒未读的同志" in page
    assert "已读 1/3" not in member.get(f"/announcements/{a.pk}/").content.decode()  # members do not see it

    refused = member.post(f"/announcements/{a.pk}/remind/", follow=True).content.decode()
    assert "只有支部书记可以提醒党员阅读通知" in refused
    done = secretary.post(f"/announcements/{a.pk}/remind/", follow=True).content.decode()
    assert "已提醒 1 人" in done  # the moderator read it by opening it above; the probationary one remains
    assert "上次提醒" in done
    again = secretary.post(f"/announcements/{a.pk}/remind/", follow=True).content.decode()
    assert "起可以再次提醒" in again
    assert Event.objects.filter(type="announcement.reminder").count() == 1


@pytest.mark.django_db
def test_the_secretary_downloads_who_has_read_it_and_when(people, tree):
    import csv
    import io

    a = post(people, tree, "学习材料")
    read(people, "member", tree, a)
    actions.mark_read(identity=ident(people["moderator"]), branch_id=tree["a"].pk, seq=a.seq)
    reading = Reading.objects.get(user=people["member"])
    readers = selectors.readers_of(ident(people["secretary"]), a.pk)
    assert {p["name"]: p["read_at"] for p in readers["read"]} == {
        "Member": reading.read_at.isoformat().replace("+00:00", "Z"), "Moderator": None}

    secretary = Client()
    secretary.force_login(people["secretary"])
    response = secretary.get(f"/announcements/{a.pk}/readers.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    shanghai = reading.read_at.astimezone(tree["a"].zone).strftime("%Y-%m-%d %H:%M")
    assert rows == [["姓名", "已读", "阅读时间"], ["Member", "是", shanghai],
                    ["Moderator", "是", "通过“全部标为已读”"], ["Probationary", "否", ""]]
    assert "readers.csv" in secretary.get(f"/announcements/{a.pk}/").content.decode()

    member, outsider = Client(), Client()
    member.force_login(people["member"])
    outsider.force_login(people["outsider"])
    assert member.get(f"/announcements/{a.pk}/readers.csv").status_code == 403
    assert outsider.get(f"/announcements/{a.pk}/readers.csv").status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_secretaries_see_how_many_should_read_change_as_members_come_and_go(connect, people, tree):  # noqa: F811
    from channels.db import database_sync_to_async

    from accounts import members

    a = await database_sync_to_async(post)(people, tree)
    branch = tree["a"].pk
    secretary = await connect(people["secretary"])
    await secretary.call("subscribe", {"stream": f"receipts:{branch}"})
    await database_sync_to_async(members.add_member)(
        identity=ident(people["secretary"]), branch_id=branch, username="newcomer", name="新党员",
        standing="probationary", moderator=False)
    frame = (await secretary.recv_until(lambda f: f.get("op") == "receipts"))[-1]
    assert frame["counts"] == {str(a.pk): {"read": 0, "of": 4}}
    await database_sync_to_async(members.remove_member)(
        identity=ident(people["secretary"]), branch_id=branch, user_id=people["member"].pk)
    frame = (await secretary.recv_until(lambda f: f.get("op") == "receipts"))[-1]
    assert frame["counts"] == {str(a.pk): {"read": 0, "of": 3}}
