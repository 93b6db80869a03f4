"""每周待办: on Monday morning (on their clock, at their digest hour) a branch's
secretaries and moderators get one e-mail of what waits on them there; once a week
however many processes run the job, none when nothing waits, stopped by its own link
or on 我的账号."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import outbox
from accounts.actions import create_citizen
from accounts.identity import identity_for_citizen
from accounts.models import MailSettings, WeeklySent
from forum.actions import create_topic
from forum.models import Board
from frontend import weekly
from meetings import actions as meeting_actions

pytestmark = pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def monday(hour: int = 8, minute: int = 30, weeks: int = 1) -> datetime:
    """Next week's Monday (in Shanghai) at that time, as the job's `now` (a Monday after
    today, so the meetings of its week can still be scheduled and asked leave from)."""
    today = timezone.now().astimezone(SHANGHAI)
    day = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


@pytest.fixture
def runners(settings, people):
    settings.SENDS_EMAIL = True
    settings.SITE_URL = "https://branchline.example.org"
    for name in ("secretary", "moderator", "member", "other_secretary"):
        people[name].email = f"{name}@example.org"
        people[name].save()
    return people


@pytest.fixture
def waiting(tree, people, identities):
    """Branch A: a meeting in the summary's week a member asked leave for, and a citizen's
    post waiting for review."""
    starts = monday(10, 0) + timedelta(days=2)  # that week's Wednesday
    meeting = meeting_actions.schedule_meeting(
        identity=identities["secretary"], branch_id=tree["a"].pk, kind="general", title="十二月支部党员大会",
        starts_at=starts, ends_at=starts + timedelta(hours=2), chair_id=people["secretary"].pk)
    leave = meeting_actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="出差")
    public = Board.objects.create(branch=tree["a"], name="群众之声", visibility="public", citizens_may_post=True)
    citizen, _token = create_citizen(display_name="王阿姨")
    create_topic(identity=identity_for_citizen(citizen), board=public, title="路灯坏了", body="三号楼前的路灯不亮。")
    return {"meeting": meeting, "leave": leave}


def run(now) -> dict[str, mail.EmailMessage]:
    outbox.wait_idle()  # what was mailed first (the meeting's notices)
    mail.outbox.clear()
    weekly.send_due(now=now)
    outbox.wait_idle()
    return {message.to[0]: message for message in mail.outbox}


def test_on_monday_morning_those_who_run_the_branch_hear_what_waits(runners, waiting, tree):
    assert run(monday(7, 50)) == {}  # before eight on their clock
    sent = run(monday(8, 5))
    assert set(sent) == {"secretary@example.org", "moderator@example.org"}  # not the member; B has nothing
    secretary = sent["secretary@example.org"]
    assert secretary.subject == "Branchline 本周待办：1 条请假待审批、1 条帖子待审核、本周 1 场会议"
    body = secretary.body
    assert "== 第一党支部 ==" in body
    assert f"https://branchline.example.org/branches/{tree['a'].pk}/" in body
    assert "Member · 十二月支部党员大会" in body
    assert f"https://branchline.example.org/meetings/{waiting['meeting'].pk}/#leave-panel" in body
    assert "1 条帖子待审核" in body and f"/branches/{tree['a'].pk}/review/" in body
    starts = timezone.localtime(waiting["meeting"].starts_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert f"- 十二月支部党员大会，{starts}：应到 4 人，请假 0 人、1 条请假待审批" in body
    assert "/mail/unsubscribe/" in secretary.extra_headers["List-Unsubscribe"]
    html = secretary.alternatives[0][0]
    assert "十二月支部党员大会" in html and "本周待办" in html
    moderator = sent["moderator@example.org"]
    assert "1 条帖子待审核" in moderator.body and "请假" not in moderator.body  # a moderator's part only
    assert run(monday(9)) == {} and run(monday(20)) == {}  # once a week
    assert set(run(monday(8, 5, weeks=2))) >= {"moderator@example.org"}  # and again the week after


def test_nothing_waiting_sends_nothing(runners, tree):
    assert run(monday(8, 5)) == {}
    assert WeeklySent.objects.filter(user=runners["secretary"], mailed=False).count() == 1  # claimed, not mailed


def test_a_week_missed_on_monday_goes_out_later_that_week_once(runners, waiting):
    sent = run(monday(8, 5) + timedelta(days=2))  # the server was down on Monday
    assert "secretary@example.org" in sent
    assert run(monday(8, 5) + timedelta(days=3)) == {}


def test_it_is_turned_off_on_my_account_or_by_its_link(runners, waiting, client):
    client.force_login(runners["secretary"])
    page = client.get(reverse("account")).content.decode()
    assert 'name="weekly"' in page and "每周" in page
    client.post(reverse("account"), {"form": "email", "email": "secretary@example.org", "announcements": "on",
                                      "digest_hour": "8"})
    assert MailSettings.objects.get(user=runners["secretary"]).weekly is False
    sent = run(monday(8, 5))
    assert "secretary@example.org" not in sent and "moderator@example.org" in sent

    stop = sent["moderator@example.org"].extra_headers["List-Unsubscribe"].strip("<>").removeprefix(
        "https://branchline.example.org")
    asked = Client().get(stop)
    assert asked.status_code == 200 and "每周待办" in asked.content.decode()
    assert not MailSettings.objects.filter(user=runners["moderator"]).exists()  # opening it stops nothing
    Client().post(stop)
    assert MailSettings.objects.get(user=runners["moderator"]).weekly is False


def test_a_member_who_runs_nothing_is_not_offered_it_and_keeps_the_setting(runners, client):
    member = runners["member"]
    MailSettings.objects.create(user=member, weekly=True)
    client.force_login(member)
    assert 'name="weekly"' not in client.get(reverse("account")).content.decode()
    client.post(reverse("account"), {"form": "email", "email": "member@example.org", "digest_hour": "8"})
    assert MailSettings.objects.get(user=member).weekly is True


def test_in_the_members_language_and_at_the_hour_they_chose(runners, waiting):
    MailSettings.objects.create(user=runners["secretary"], language="en", digest_hour=6)
    sent = run(monday(6, 10))
    assert set(sent) == {"secretary@example.org"}  # the moderator's hour is eight
    message = sent["secretary@example.org"]
    assert message.subject == ("Your week on Branchline: 1 leave request to decide, 1 post to review, "
                               "1 meeting this week")
    assert "Meetings in the coming week" in message.body and "4 expected, 0 on leave" in message.body


def test_on_the_day_of_the_week_they_chose(runners, waiting, client):
    client.force_login(runners["secretary"])
    page = client.get(reverse("account")).content.decode()
    assert 'name="weekly_day"' in page and "星期四" in page
    client.post(reverse("account"), {"form": "email", "email": "secretary@example.org", "weekly": "on",
                                      "weekly_day": "3", "digest_hour": "8"})
    assert MailSettings.objects.get(user=runners["secretary"]).weekly_day == 3  # Thursday
    assert "secretary@example.org" not in run(monday(9))  # the moderator's Monday
    thursday = monday(7, 55) + timedelta(days=3)
    assert run(thursday) == {}  # before their hour
    assert set(run(thursday + timedelta(minutes=10))) == {"secretary@example.org"}
    assert run(thursday + timedelta(days=1)) == {}  # once that week
    bad = client.post(reverse("account"), {"form": "email", "email": "secretary@example.org", "weekly_day": "9",
                                            "digest_hour": "8"})
    assert bad.status_code == 200 and MailSettings.objects.get(user=runners["secretary"]).weekly_day == 3


def test_two_processes_at_once_send_one(runners, waiting):
    outbox.wait_idle()
    mail.outbox.clear()
    now = monday(8, 5)
    barrier = threading.Barrier(2)

    def job():
        barrier.wait()
        try:
            weekly.send_due(now=now)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outbox.wait_idle()
    assert sorted(m.to[0] for m in mail.outbox) == ["moderator@example.org", "secretary@example.org"]


def test_minutes_not_yet_signed_send_it(runners, tree, people, identities):
    now = monday(8, 5)
    held = meeting_actions.schedule_meeting(
        identity=identities["secretary"], branch_id=tree["a"].pk, kind="committee", title="十一月支委会",
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=2),
        chair_id=people["secretary"].pk, minute_taker_id=people["member"].pk)
    for step in (meeting_actions.start_meeting, meeting_actions.end_meeting):
        step(identity=identities["secretary"], meeting_id=held.pk)
    MailSettings.objects.create(user=runners["secretary"], language="en")
    sent = run(now)
    message = sent["secretary@example.org"]
    assert message.subject == "Your week on Branchline: 1 set of minutes to sign"
    assert "十一月支委会" in message.body and "waiting for Secretary、Member" in message.body
    assert "once a week" in message.body
