"""Attendance with controlled time: reconnect merge, late, left early, heartbeat loss, excused vs absent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from meetings.attendance import Interval, attendance, merge

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)  # 09:00 in Asia/Shanghai
END = T0 + timedelta(hours=2)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_reconnect_within_a_minute_continues_the_same_stay():
    stays = merge([Interval(at(0), at(30)), Interval(at(30.5), at(60))])
    assert stays == [Interval(at(0), at(60))]


def test_a_gap_longer_than_a_minute_is_two_stays():
    assert len(merge([Interval(at(0), at(30)), Interval(at(32), at(60))])) == 2


def test_an_open_interval_swallows_later_ones():
    assert merge([Interval(at(0), None), Interval(at(10), at(20))]) == [Interval(at(0), None)]


@pytest.mark.parametrize("intervals, status", [
    ([Interval(at(-5), END)], "present"),
    ([Interval(at(4), END)], "present"),              # within the 5-minute grace
    ([Interval(at(6), END)], "late"),
    ([Interval(at(0), at(90))], "left_early"),
    ([Interval(at(0), at(119.5))], "present"),         # leaving in the last minute is fine
    ([Interval(at(10), at(60))], "late_and_left_early"),
    ([], "absent"),
])
def test_status_after_the_meeting(intervals, status):
    assert attendance(intervals, starts_at=T0, ends_at=END, now=END + timedelta(minutes=5)).status == status


def test_approved_leave_is_excused_not_absent_and_exclusion_wins():
    assert attendance([], starts_at=T0, ends_at=END, now=END, excused=True).status == "excused"
    assert attendance([Interval(at(0), END)], starts_at=T0, ends_at=END, now=END, excluded=True).status == "excluded"


def test_heartbeat_loss_ends_the_stay_at_the_last_heartbeat():
    # The socket died silently at 40 min; the server closed the interval at its last heartbeat.
    result = attendance([Interval(at(0), at(40))], starts_at=T0, ends_at=END, now=END + timedelta(minutes=1))
    assert result.status == "left_early"
    assert result.present_for == timedelta(minutes=40)


def test_present_time_counts_only_the_meeting_and_merged_stays():
    result = attendance([Interval(at(-10), at(30)), Interval(at(30.5), at(50)), Interval(at(70), None)],
                        starts_at=T0, ends_at=END, now=END + timedelta(minutes=3))
    assert result.present_for == timedelta(minutes=50 + 50)
    assert result.first_join == at(-10) and result.last_leave is None


def test_during_the_meeting_nobody_has_left_early_yet():
    result = attendance([Interval(at(0), at(20))], starts_at=T0, ends_at=END, now=at(30))
    assert result.status == "present"
