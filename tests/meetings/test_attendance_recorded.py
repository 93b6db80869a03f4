"""Attendance as the server records it, with a controlled clock: reconnect merge, late, left early,
heartbeat loss, excused vs absent, a dead process; through the same hook the hub calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meetings import actions, selectors
from meetings.models import AttendanceInterval
from meetings.streams import _on_presence

from .conftest import T0, ident

pytestmark = pytest.mark.django_db


def key(user) -> str:
    return f"u:{user.pk}"


def seen(meeting, joined=None, left=None):
    """What the hub tells the meeting stream type after a presence flush."""
    _on_presence(str(meeting.pk), joined or {}, left or {})


@pytest.fixture
def roomful(schedule, identities, people, crowd, clock):
    """A meeting scheduled 09:00–11:00 (Shanghai), started on time, with seven members."""
    members = crowd(7)
    meeting = schedule("general")
    clock.at(-10)
    actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in members:
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
    return meeting, members


def statuses(meeting, now):
    meeting.refresh_from_db()
    report = selectors.attendance_report(meeting, now=now)
    return {row["user"]["id"]: row for row in report["rows"]}, report["counts"]


def test_the_whole_calculus_with_a_controlled_clock(roomful, identities, people, clock):
    meeting, (a, b, c, d, e, f, g) = roomful
    # e has approved leave and stays away; g has approved leave but comes anyway.
    clock.at(-9)
    for user in (e, g):
        leave = actions.request_leave(identity=ident(user), meeting_id=meeting.pk, reason="出差")
        actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
    seen(meeting, joined={key(a): clock.at(-2)})
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    seen(meeting, joined={key(c): clock.at(0), key(g): clock.at(0)})
    seen(meeting, joined={key(d): clock.at(1)})
    seen(meeting, joined={key(b): clock.at(10)})  # after the 5-minute grace
    seen(meeting, left={key(c): (clock.at(30), False)})
    seen(meeting, joined={key(c): clock.at(30.5)})  # back within 60 s: the same stay
    seen(meeting, left={key(d): (clock.at(40), True)})  # heartbeat lost; last sign of life at 40
    clock.at(50)
    rows, counts = statuses(meeting, clock.now)
    assert rows[c.pk]["status"] == "present" and rows[d.pk]["connected"] is False
    assert rows[d.pk]["status"] == "present"  # nobody has "left early" while the meeting runs
    assert counts["late"] == 1
    seen(meeting, left={key(c): (clock.at(90), False)})
    clock.at(120)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    rows, counts = statuses(meeting, clock.at(125))
    assert {u.username: rows[u.pk]["status"] for u in (a, b, c, d, e, f, g)} == {
        "m0": "present", "m1": "late", "m2": "left_early", "m3": "left_early", "m4": "excused", "m5": "absent",
        "m6": "present",
    }
    assert rows[c.pk]["present_seconds"] == 90 * 60
    assert AttendanceInterval.objects.filter(meeting=meeting, user=c).count() == 1
    assert rows[d.pk]["present_seconds"] == 39 * 60
    assert AttendanceInterval.objects.get(meeting=meeting, user=d).end_reason == "heartbeat"
    assert rows[a.pk]["present_seconds"] == 120 * 60  # counted from the start, not from the lobby
    assert AttendanceInterval.objects.get(meeting=meeting, user=a).end_reason == "ended"
    # 应到: the secretary, member, moderator, probationary and seven more; leave does not reduce it.
    assert counts["expected"] == 11 and counts["excused"] == 1 and counts["present"] == 5
    assert counts["absent"] == 11 - 5 - 1


def test_a_gap_longer_than_a_minute_is_a_new_stay(roomful, identities, clock):
    meeting, (a, *_rest) = roomful
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    seen(meeting, joined={key(a): clock.at(0)})
    seen(meeting, left={key(a): (clock.at(20), False)})
    seen(meeting, joined={key(a): clock.at(22)})
    assert AttendanceInterval.objects.filter(meeting=meeting, user=a).count() == 2


def test_the_grace_for_lateness_is_configurable(schedule, identities, people, crowd, clock):
    (a,) = crowd(1)
    meeting = schedule("general", late_grace_minutes=15)
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    actions.join_meeting(identity=ident(a), meeting_id=meeting.pk)
    seen(meeting, joined={key(a): clock.at(10)})
    rows, counts = statuses(meeting, clock.at(30))
    assert rows[a.pk]["status"] == "present" and counts["late"] == 0


def test_people_who_did_not_join_or_were_not_admitted_get_no_stay(roomful, identities, people, clock):
    meeting, _members = roomful
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    seen(meeting, joined={key(people["other_secretary"]): clock.at(1), key(people["probationary"]): clock.at(1)})
    assert not AttendanceInterval.objects.filter(meeting=meeting).exists()


def test_a_scheduled_meeting_records_nothing_until_it_opens_then_picks_up_who_is_there(
        schedule, identities, people, clock):
    from realtime.models import PresenceEntry

    meeting = schedule("general")
    # The chair subscribed early (hosts may); the hook saw it while nothing was running.
    seen(meeting, joined={key(people["secretary"]): clock.at(-20)})
    assert not AttendanceInterval.objects.filter(meeting=meeting).exists()
    PresenceEntry.objects.create(stream=f"meeting:{meeting.pk}", identity=key(people["secretary"]), name="s",
                                 process="p1", seen_at=clock.at(-5))
    actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    interval = AttendanceInterval.objects.get(meeting=meeting)
    assert interval.user_id == people["secretary"].pk and interval.joined_at == clock.now


@pytest.mark.django_db(transaction=True)
async def test_a_dead_process_ends_its_participants_stays_at_its_last_heartbeat(schedule, identities, people, clock):
    from channels.db import database_sync_to_async

    from realtime import presence
    from realtime.hub import Hub
    from realtime.models import PresenceEntry

    @database_sync_to_async
    def setup():
        meeting = schedule("general")
        clock.at(0)
        actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
        actions.join_meeting(identity=ident(people["member"]), meeting_id=meeting.pk)
        seen(meeting, joined={key(people["member"]): clock.at(1)})
        PresenceEntry.objects.create(stream=f"meeting:{meeting.pk}", identity=key(people["member"]), name="m",
                                     process="crashed", seen_at=clock.at(30))
        clock.at(32.5)  # 150 s after that process's last heartbeat
        return meeting

    meeting = await setup()
    last_seen: dict = {}
    stale = await database_sync_to_async(presence.heartbeat)("alive", seen=last_seen)
    assert stale == {f"meeting:{meeting.pk}": {key(people["member"])}}
    await Hub()._presence_hooks({}, {}, stale, {}, {}, last_seen)
    interval = await database_sync_to_async(AttendanceInterval.objects.get)(meeting=meeting)
    assert interval.left_at == T0 + timedelta(minutes=30) and interval.end_reason == "heartbeat"


def test_a_join_costs_the_same_however_many_people_are_already_on_the_stream(schedule, identities, people, crowd,
                                                                             clock):
    """meetings.join looks only at the joining person's presence (it ran under the meeting's lock)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from realtime.models import PresenceEntry

    members = crowd(32)
    meeting = schedule("general")
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)

    def on_stream(user):
        PresenceEntry.objects.create(stream=f"meeting:{meeting.pk}", identity=key(user), name="m", process="p1",
                                     seen_at=clock.now)

    def join(user) -> int:
        with CaptureQueriesContext(connection) as queries:
            actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        seen(meeting, joined={key(user): clock.now})
        on_stream(user)
        return len(queries)

    first = join(members[0])
    for user in members[1:-1]:
        join(user)
    assert join(members[-1]) == first  # 31 people on the stream, not 2 x 31 more queries
    assert AttendanceInterval.objects.filter(meeting=meeting, left_at__isnull=True).count() == 32

    # The case the sync is for: the chair was on the stream before joining (no presence flush yet).
    chair = people["committee_secretary"]
    on_stream(chair)
    actions.join_meeting(identity=identities["committee_secretary"], meeting_id=meeting.pk)
    assert AttendanceInterval.objects.filter(meeting=meeting, user=chair, left_at__isnull=True).exists()
