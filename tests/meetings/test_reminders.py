"""会议提醒: a day and half an hour before a meeting, those expected there are reminded, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from frontend.notification_text import describe
from meetings import actions
from meetings.models import Meeting, Reminder
from realtime.models import Event
from server.settings import env_minutes

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(schedule):
    """A general meeting of branch A three days ahead, scheduled a week before it."""
    starts = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    m = schedule("general", starts_at=starts)
    Meeting.objects.filter(pk=m.pk).update(created_at=starts - timedelta(days=7))
    m.refresh_from_db()
    return m


def reminded(user) -> list[dict]:
    """The meeting reminders in this person's inbox, oldest first."""
    return [e.data for e in Event.objects.filter(stream_id=f"inbox:{user.pk}", type="meeting.reminder").order_by("seq")]


def at(meeting: Meeting, **before) -> int:
    return actions.send_due_reminders(now=meeting.starts_at - timedelta(**before))


def test_those_expected_are_reminded_a_day_and_half_an_hour_before_once_each(meeting, people, identities):
    leave = actions.request_leave(identity=identities["probationary"], meeting_id=meeting.pk, reason="出差")
    actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)

    assert at(meeting, hours=25) == 0
    assert at(meeting, hours=23, minutes=59) == 1
    for name in ("secretary", "member", "moderator"):
        assert [r["minutes"] for r in reminded(people[name])] == [1440], name
        assert reminded(people[name])[0]["meeting"]["id"] == meeting.pk
    assert reminded(people["probationary"]) == []  # on approved leave
    assert reminded(people["other_secretary"]) == [] and reminded(people["outsider"]) == []
    assert at(meeting, hours=23) == 0 and at(meeting, hours=1) == 0  # once

    assert at(meeting, minutes=29) == 1
    assert [r["minutes"] for r in reminded(people["member"])] == [1440, 30]
    assert at(meeting, minutes=5) == 0
    assert Reminder.objects.filter(meeting=meeting).count() == 2


def test_a_lead_the_meeting_was_scheduled_inside_of_is_skipped(schedule, people):
    starts = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    meeting = schedule("general", starts_at=starts)  # scheduled now, two hours ahead
    assert at(meeting, hours=1, minutes=59) == 0  # its scheduling notice went out just now
    assert at(meeting, minutes=20) == 1
    assert [r["minutes"] for r in reminded(people["member"])] == [30]


def test_after_the_server_was_down_only_the_nearest_is_sent(meeting, people):
    assert at(meeting, minutes=10) == 1
    assert [r["minutes"] for r in reminded(people["member"])] == [30]  # not "tomorrow", ten minutes before
    assert set(Reminder.objects.filter(meeting=meeting).values_list("lead_minutes", flat=True)) == {1440, 30}
    assert at(meeting, minutes=5) == 0


def test_a_meeting_moved_to_another_time_is_reminded_of_again(meeting, people, identities):
    assert at(meeting, hours=23) == 1
    later = meeting.starts_at + timedelta(days=1)
    actions.update_meeting(identity=identities["secretary"], meeting_id=meeting.pk,
                           starts_at=timezone.localtime(later, meeting.branch.zone).isoformat(),
                           ends_at=timezone.localtime(later + timedelta(hours=2), meeting.branch.zone).isoformat())
    meeting.refresh_from_db()
    assert meeting.starts_at == later
    assert at(meeting, hours=23) == 1
    starts = [r["meeting"]["starts_at"] for r in reminded(people["member"])]
    assert len(starts) == 2 and starts[0] != starts[1]


def test_cancelled_and_opened_meetings_are_not_reminded_of(meeting, schedule, identities):
    actions.cancel_meeting(identity=identities["secretary"], meeting_id=meeting.pk, reason="改期")
    assert at(meeting, hours=23) == 0
    other = schedule("general", starts_at=meeting.starts_at + timedelta(hours=3))
    Meeting.objects.filter(pk=other.pk).update(created_at=meeting.created_at)
    actions.open_meeting(identity=identities["secretary"], meeting_id=other.pk)  # everyone was told it is open
    other.refresh_from_db()
    assert at(other, minutes=20) == 0
    assert not Reminder.objects.exists()


def test_reminders_can_be_turned_off(meeting, people, settings):
    settings.MEETING_REMINDER_MINUTES = ()
    assert at(meeting, minutes=20) == 0
    assert reminded(people["member"]) == []


def test_the_reminder_reads_with_the_time_on_the_branchs_clock(meeting, people):
    at(meeting, hours=23)
    event = Event.objects.get(stream_id=f"inbox:{people['member'].pk}", type="meeting.reminder")
    (item,) = describe([event])
    local = timezone.localtime(meeting.starts_at, meeting.branch.zone).strftime("%Y-%m-%d %H:%M")
    assert item["text"] == f"会议提醒：“{meeting.title}”将于 {local} 开始"
    assert item["url"] == f"/meetings/{meeting.pk}/"


def test_the_leads_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("MEETING_REMINDERS", "30, 1440")
    assert env_minutes("MEETING_REMINDERS", "") == (1440, 30)
    monkeypatch.setenv("MEETING_REMINDERS", "0")
    assert env_minutes("MEETING_REMINDERS", "1440") == ()
    for bad in ("一天", "-30", "99999"):
        monkeypatch.setenv("MEETING_REMINDERS", bad)
        with pytest.raises(ImproperlyConfigured, match="MEETING_REMINDERS"):
            env_minutes("MEETING_REMINDERS", "")


@pytest.mark.django_db(transaction=True)
def test_two_processes_at_once_send_it_once(meeting, people):
    """Every server process runs the job; the Reminder row's unique key lets one of two
    sending at the same moment through, and the other gives way."""
    import threading

    from django.db import connection

    start = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        try:
            start.wait()
            counts.append(at(meeting, hours=23))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(counts) == [0, 1]
    assert len(reminded(people["member"])) == 1
