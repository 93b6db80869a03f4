"""定时发布: announcements scheduled for later.

A secretary writes an announcement now to go out at a chosen time on the branch's clock.
Until then only the branch's secretaries see it (and may change it, publish it at once or
cancel it); when it is due the periodic job publishes it as its author, exactly like a
post. If the author may no longer post by then, it fails with the reason: the author is
told, the secretaries see it, nothing is published."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from accounts import outbox
from accounts.identity import identity_for_user
from accounts.models import Membership
from accounts.streams import inbox_stream
from announcements import attachments, scheduling, selectors
from announcements.models import Announcement, Attachment, ScheduledAnnouncement
from frontend.notification_text import describe
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from realtime.models import Event
from realtime.scheduler import periodic_jobs
from tests.announcements.test_attachments import client_for, uploaded
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)

Status = ScheduledAnnouncement.Status


def ident(user):
    return identity_for_user(user)


def later(**delta) -> str:
    return (timezone.now() + timedelta(**(delta or {"hours": 2}))).isoformat()


def schedule(people, tree, title="周一例会通知", *, who="secretary", at=None, files=()):
    return scheduling.schedule_announcement(identity=ident(people[who]), branch_id=tree["a"].pk, title=title,
                                            body="周一上午九点，二楼会议室。", publish_at=at or later(),
                                            attachments=list(files))


def due(s: ScheduledAnnouncement) -> None:
    """Its time has come (without waiting for it)."""
    ScheduledAnnouncement.objects.filter(pk=s.pk).update(publish_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_it_waits_unseen_and_goes_out_as_its_authors_post_when_due(people, tree):
    branch = tree["a"].pk
    s = schedule(people, tree)
    member = ident(people["member"])
    # Nobody reads it before its time: no announcement, no event, nothing unread.
    assert selectors.announcements_for(member, branch) == []
    assert selectors.unread_count(member, branch) == 0
    assert not Event.objects.filter(stream=f"announcements:{branch}").exists()
    listed = scheduling.scheduled_for(ident(people["secretary"]), branch)
    assert [(x["id"], x["status"], x["author"]["name"]) for x in listed] == [(s.pk, "scheduled", "Secretary")]
    assert scheduling.scheduled_for(ident(people["committee_secretary"]), branch)[0]["id"] == s.pk  # from above

    assert scheduling.publish_due() == 0  # not yet
    due(s)
    assert scheduling.publish_due() == 1
    s.refresh_from_db()
    a = Announcement.objects.get()
    assert (s.status, s.announcement_id) == (Status.PUBLISHED, a.pk)
    assert (a.title, a.author_id, a.branch_id) == ("周一例会通知", people["secretary"].pk, branch)
    assert "<p>周一上午九点" in a.body_html
    event = Event.objects.get(stream=f"announcements:{branch}")
    assert (event.type, event.seq, event.data["id"]) == ("announcement.posted", a.seq, a.pk)
    assert selectors.unread_count(member, branch) == 1
    assert scheduling.scheduled_for(ident(people["secretary"]), branch) == []  # no longer waiting
    assert scheduling.publish_due() == 0  # published once, whatever runs it again
    assert Announcement.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_processes_finding_it_due_at_once_publish_it_once(people, tree):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    s = schedule(people, tree)
    due(s)
    barrier = threading.Barrier(2)

    def run() -> int:
        try:
            barrier.wait(timeout=10)
            return scheduling.publish_due()
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        counts = sorted(pool.map(lambda _: run(), range(2)))
    assert counts == [0, 1]
    assert Announcement.objects.count() == 1
    assert Event.objects.filter(type="announcement.posted").count() == 1


def test_the_job_runs_in_every_server_process():
    jobs = {job.name: job for job in periodic_jobs()}
    assert jobs["announcements.scheduled"].run is scheduling.publish_due
    assert jobs["announcements.scheduled"].every_seconds <= 15


@pytest.mark.django_db
def test_a_time_without_an_offset_is_on_the_branchs_clock(people, tree):
    tree["a"].time_zone = "Asia/Urumqi"  # UTC+6
    tree["a"].save()
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(ZoneInfo("Asia/Urumqi")).date()
    s = schedule(people, tree, at=f"{tomorrow.isoformat()}T08:00")
    assert s.publish_at == datetime(tomorrow.year, tomorrow.month, tomorrow.day, 2, 0, tzinfo=ZoneInfo("UTC"))
    with_offset = schedule(people, tree, at=f"{tomorrow.isoformat()}T08:00+08:00")
    assert with_offset.publish_at == datetime(tomorrow.year, tomorrow.month, tomorrow.day, 0, 0,
                                              tzinfo=ZoneInfo("UTC"))


@pytest.mark.django_db
@pytest.mark.parametrize("at, words", [
    ("明天早上", "e.g. 2026-12-07T08:00"),
    ("2020-01-01T08:00", "passed"),
    ("PAST", "passed"),
    ("FAR", "90 days"),
])
def test_a_time_that_is_no_time_passed_or_too_far_is_refused(people, tree, at, words, settings):
    settings.LANGUAGE_CODE = "en"
    at = {"PAST": later(minutes=-1), "FAR": later(days=91)}.get(at, at)
    with pytest.raises(Invalid) as refused:
        schedule(people, tree, at=at)
    assert refused.value.details == {"field": "publish_at"} and words in refused.value.message
    assert not ScheduledAnnouncement.objects.exists()


@pytest.mark.django_db
def test_only_the_branchs_secretaries_schedule_see_and_change(people, tree):
    s = schedule(people, tree)
    branch = tree["a"].pk
    for who in ("member", "moderator"):
        with pytest.raises(Forbidden):
            schedule(people, tree, who=who)
        with pytest.raises(Forbidden):
            scheduling.scheduled_for(ident(people[who]), branch)
        for change in (scheduling.cancel_scheduled, scheduling.publish_now):
            with pytest.raises(NotFound):  # they are not told it exists
                change(identity=ident(people[who]), scheduled_id=s.pk)
    with pytest.raises(NotFound):  # another branch's secretary cannot even read the branch
        scheduling.scheduled_for(ident(people["other_secretary"]), branch)
    with pytest.raises(NotFound):
        scheduling.change_scheduled(identity=ident(people["other_secretary"]), scheduled_id=s.pk, title="x",
                                    body="y", publish_at=later())
    s.refresh_from_db()
    assert s.status == Status.SCHEDULED


@pytest.mark.django_db
def test_an_author_who_may_no_longer_post_is_told_and_another_secretary_publishes_it(people, tree, make_user):
    branch = tree["a"]
    deputy = make_user("deputy", branch=branch, roles=("secretary", "full"))
    s = schedule(people, tree)
    Membership.objects.filter(user=people["secretary"], branch=branch, role="secretary").delete()
    due(s)
    assert scheduling.publish_due() == 0
    s.refresh_from_db()
    assert s.status == Status.FAILED
    assert s.problem == "只有支部书记可以发布通知。"  # the refusal a post would get, in the site's language
    assert not Announcement.objects.exists()
    # The author hears of it on their bell, with the reason and a link to the page.
    told = Event.objects.get(stream=inbox_stream(people["secretary"].pk), type="announcement.schedule_failed")
    assert told.data == {"scheduled": s.pk, "branch": branch.pk, "title": "周一例会通知", "problem": s.problem}
    item = describe([told])[0]
    assert "周一例会通知" in item["text"] and s.problem in item["text"]
    assert item["url"] == f"/branches/{branch.pk}/announcements/"
    # Still listed for the secretaries, who may publish it now: posted by the one who did.
    listed = scheduling.scheduled_for(ident(deputy), branch.pk)
    assert [(x["status"], x["problem"]) for x in listed] == [("failed", s.problem)]
    assert scheduling.publish_due() == 0  # a failed one is not tried again by itself
    a = scheduling.publish_now(identity=ident(deputy), scheduled_id=s.pk)
    assert a.author_id == deputy.pk
    s.refresh_from_db()
    assert (s.status, s.announcement_id) == (Status.PUBLISHED, a.pk)
    with pytest.raises(Conflict):
        scheduling.publish_now(identity=ident(deputy), scheduled_id=s.pk)
    with pytest.raises(Conflict):
        scheduling.cancel_scheduled(identity=ident(deputy), scheduled_id=s.pk)


@pytest.mark.django_db
def test_changing_it_moves_the_time_and_reschedules_one_that_failed(people, tree):
    s = schedule(people, tree)
    secretary = ident(people["secretary"])
    ScheduledAnnouncement.objects.filter(pk=s.pk).update(status=Status.FAILED, problem="旧的原因")
    at = later(days=1)
    changed = scheduling.change_scheduled(identity=secretary, scheduled_id=s.pk, title=" 改期通知 ", body="改到周二",
                                          publish_at=at)
    assert (changed.title, changed.body, changed.status, changed.problem) == ("改期通知", "改到周二", "scheduled", "")
    assert changed.publish_at == datetime.fromisoformat(at)
    with pytest.raises(Invalid):
        scheduling.change_scheduled(identity=secretary, scheduled_id=s.pk, title="", body="b", publish_at=at)
    entries = list(AuditEntry.objects.filter(target_type="announcements.scheduled")
                   .order_by("id").values_list("action", flat=True))
    assert entries == ["announcement.schedule", "announcement.reschedule"]


@pytest.mark.django_db
def test_its_files_wait_with_it_and_go_out_with_it(people, tree, settings, django_capture_on_commit_callbacks):
    kept, dropped = uploaded(people, tree, "议程.pdf"), uploaded(people, tree, "旧稿.pdf")
    s = schedule(people, tree, files=[kept, dropped])
    # Held: not "waiting to be attached", not swept away a day later, not taken by a post.
    day_ago = timezone.now() - timedelta(hours=attachments.UNATTACHED_HOURS, minutes=1)
    Attachment.objects.update(created_at=day_ago)
    assert attachments.remove_unattached() == 0
    with pytest.raises(Invalid):
        attachments.waiting_for(ident(people["secretary"]), tree["a"].pk, [kept])
    with pytest.raises(Conflict):
        attachments.discard_upload(identity=ident(people["secretary"]), attachment_id=kept)
    # Its branch's secretaries may open them before it goes out; members may not.
    assert client_for(people["committee_secretary"]).get(f"/attachments/{kept}/议程.pdf").status_code == 200
    assert client_for(people["member"]).get(f"/attachments/{kept}/议程.pdf").status_code == 404

    added = uploaded(people, tree, "补充.pdf")
    dropped_path = Path(settings.MEDIA_ROOT) / Attachment.objects.get(pk=dropped).file.name
    with django_capture_on_commit_callbacks(execute=True):  # files are deleted once it is committed
        scheduling.change_scheduled(identity=ident(people["secretary"]), scheduled_id=s.pk, title=s.title,
                                    body=s.body, publish_at=later(), attachments=[kept, added])
    assert not Attachment.objects.filter(pk=dropped).exists() and not dropped_path.exists()
    assert [x["name"] for x in scheduling.scheduled_for(ident(people["secretary"]), tree["a"].pk)[0]
            ["attachments"]] == ["议程.pdf", "补充.pdf"]

    due(s)
    assert scheduling.publish_due() == 1
    a = Announcement.objects.get()
    assert sorted(Attachment.objects.filter(announcement=a).values_list("name", flat=True)) == ["补充.pdf", "议程.pdf"]
    assert [f["name"] for f in Event.objects.get(type="announcement.posted").data["attachments"]] == ["议程.pdf",
                                                                                                        "补充.pdf"]
    assert client_for(people["member"]).get(f"/attachments/{kept}/议程.pdf").status_code == 200


@pytest.mark.django_db
def test_cancelling_it_deletes_its_files_and_it_is_never_published(people, tree, settings,
                                                                   django_capture_on_commit_callbacks):
    f = uploaded(people, tree)
    s = schedule(people, tree, files=[f])
    path = Path(settings.MEDIA_ROOT) / Attachment.objects.get(pk=f).file.name
    with django_capture_on_commit_callbacks(execute=True):
        scheduling.cancel_scheduled(identity=ident(people["committee_secretary"]), scheduled_id=s.pk)
    s.refresh_from_db()
    assert s.status == Status.CANCELLED
    assert not Attachment.objects.exists() and not path.exists()
    due(s)
    assert scheduling.publish_due() == 0 and not Announcement.objects.exists()
    with pytest.raises(Conflict):
        scheduling.cancel_scheduled(identity=ident(people["secretary"]), scheduled_id=s.pk)
    assert scheduling.scheduled_for(ident(people["secretary"]), tree["a"].pk) == []
    cancelled = AuditEntry.objects.get(action="announcement.unschedule")
    assert cancelled.actor == ident(people["committee_secretary"]).key


@pytest.mark.django_db
def test_a_branch_has_at_most_so_many_waiting(people, tree, monkeypatch):
    monkeypatch.setattr(scheduling, "WAITING_MAX", 2)
    schedule(people, tree)
    schedule(people, tree)
    with pytest.raises(Conflict):
        schedule(people, tree)
    assert ScheduledAnnouncement.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_when_published_members_who_want_it_get_the_mail(people, tree, settings):
    settings.SENDS_EMAIL = True
    people["member"].email = "member@example.org"
    people["member"].save()
    s = schedule(people, tree, title="定时发布的通知")
    outbox.wait_idle()
    assert mail.outbox == []  # nothing on scheduling
    due(s)
    scheduling.publish_due()
    outbox.wait_idle()
    assert [m.to for m in mail.outbox] == [["member@example.org"]]
    assert "定时发布的通知" in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True)
async def test_over_ws_secretaries_schedule_and_watch_the_list(connect, people, tree):  # noqa: F811
    from channels.db import database_sync_to_async

    branch = tree["a"].pk
    secretary = await connect(people["secretary"])
    watcher = await connect(people["committee_secretary"])
    assert (await watcher.call("subscribe", {"stream": f"scheduled:{branch}"}))["op"] == "ok"
    for who in ("member", "other_secretary"):
        refused = await (await connect(people[who])).call("subscribe", {"stream": f"scheduled:{branch}"})
        assert refused["op"] == "error" and refused["code"] == "forbidden", who

    args = {"branch": branch, "title": "周一例会", "body": "九点", "publish_at": later()}
    reply = await secretary.call("announcements.schedule", args, cid="schedule-1")
    assert reply["op"] == "ok", reply
    assert reply["data"]["scheduled"]["status"] == "scheduled"
    sid = reply["data"]["scheduled"]["id"]
    again = await secretary.call("announcements.schedule", args, cid="schedule-1")  # a retry: the same one
    assert again["data"]["scheduled"]["id"] == sid
    frame = (await watcher.recv_until(lambda f: f.get("op") == "scheduled"))[-1]
    assert frame["stream"] == f"scheduled:{branch}" and [x["id"] for x in frame["scheduled"]] == [sid]

    listed = await secretary.call("announcements.scheduled", {"branch": branch})
    assert [x["title"] for x in listed["data"]["scheduled"]] == ["周一例会"]
    member = await connect(people["member"])
    refused = await member.call("announcements.scheduled", {"branch": branch})
    assert refused["op"] == "error" and refused["code"] == "forbidden"
    bad = await secretary.call("announcements.schedule", {**args, "publish_at": "下周一"}, cid="schedule-2")
    assert bad["op"] == "error" and bad["code"] == "bad_request" and bad["details"]["field"] == "publish_at"

    changed = await secretary.call("announcements.change_scheduled", {
        "scheduled": sid, "title": "周二例会", "body": "九点", "publish_at": later(days=1)}, cid="schedule-3")
    assert changed["data"]["scheduled"]["title"] == "周二例会"
    frame = (await watcher.recv_until(lambda f: f.get("op") == "scheduled"))[-1]
    assert frame["scheduled"][0]["title"] == "周二例会"

    await member.call("subscribe", {"stream": f"announcements:{branch}"})
    published = await secretary.call("announcements.publish_scheduled", {"scheduled": sid}, cid="schedule-4")
    assert published["op"] == "ok" and published["data"]["announcement"]["title"] == "周二例会"
    seen = (await member.recv_until(lambda f: f.get("type") == "announcement.posted"))[-1]
    assert seen["data"]["id"] == published["data"]["announcement"]["id"]
    frame = (await watcher.recv_until(lambda f: f.get("op") == "scheduled"))[-1]
    assert frame["scheduled"] == []
    gone = await secretary.call("announcements.cancel_scheduled", {"scheduled": sid}, cid="schedule-5")
    assert gone["op"] == "error" and gone["code"] == "conflict"
    count = await database_sync_to_async(Announcement.objects.count)()
    assert count == 1


@pytest.mark.django_db
def test_the_http_api_schedules_lists_changes_publishes_and_cancels(people, tree):
    branch = tree["a"].pk
    secretary = client_for(people["secretary"])
    url = f"/api/branches/{branch}/scheduled-announcements"
    made = secretary.post(url, {"title": "t", "body": "b", "publish_at": later()}, content_type="application/json",
                          headers={"Idempotency-Key": "schedule-key-1"})
    assert made.status_code == 201, made.content
    sid = made.json()["scheduled"]["id"]
    assert secretary.post(url, {"title": "t", "body": "b", "publish_at": later()}, content_type="application/json",
                          headers={"Idempotency-Key": "schedule-key-1"}).json()["scheduled"]["id"] == sid
    assert [x["id"] for x in secretary.get(url).json()["scheduled"]] == [sid]
    assert client_for(people["member"]).get(url).status_code == 403
    past = secretary.post(url, {"title": "t", "body": "b", "publish_at": "2020-01-01T00:00"},
                          content_type="application/json")
    assert past.status_code == 400 and past.json()["details"]["field"] == "publish_at"

    changed = secretary.patch(f"/api/scheduled-announcements/{sid}", {"title": "t2", "body": "b2",
                              "publish_at": later(days=2)}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["scheduled"]["title"] == "t2"
    published = secretary.post(f"/api/scheduled-announcements/{sid}/publish")
    assert published.status_code == 200 and published.json()["announcement"]["title"] == "t2"
    other = secretary.post(url, {"title": "t3", "body": "b", "publish_at": later()}, content_type="application/json")
    cancelled = secretary.delete(f"/api/scheduled-announcements/{other.json()['scheduled']['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["scheduled"]["status"] == "cancelled"
    assert Announcement.objects.count() == 1


@pytest.mark.django_db
def test_the_audit_log_names_what_was_done(people, tree):
    s = schedule(people, tree)
    scheduling.cancel_scheduled(identity=ident(people["secretary"]), scheduled_id=s.pk)
    page = client_for(people["secretary"]).get(f"/branches/{tree['a'].pk}/audit/").content.decode()
    assert "定时发布" in page and "取消" in page


@pytest.mark.django_db
def test_the_demo_has_one_waiting_on_the_secretarys_page(capsys):
    from django.core.management import call_command

    from accounts.management.commands.seed_demo import SCHEDULED

    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    s = ScheduledAnnouncement.objects.get()
    assert (s.title, s.status, s.author.username) == (SCHEDULED[0], "scheduled", "shuji")
    local = s.publish_at.astimezone(s.branch.zone)
    assert (local.hour, local.minute) == (8, 0) and s.publish_at > timezone.now()
    assert not Announcement.objects.filter(title=SCHEDULED[0]).exists()
    page = client_for(s.author).get(f"/branches/{s.branch_id}/announcements/").content.decode()
    assert "待发布" in page and SCHEDULED[0] in page
    member = get_user_model().objects.get(username="dangyuan")
    assert SCHEDULED[0] not in client_for(member).get(f"/branches/{s.branch_id}/announcements/").content.decode()
