"""Attendance calculus: from the server's join/leave intervals to 实到/迟到/早退/缺席.

Pure functions over aware datetimes. The server's clock decides, never the client's:
intervals are opened and closed by the server when a participant's socket joins or
leaves the meeting stream, or when its heartbeat stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

RECONNECT_GRACE = timedelta(seconds=60)  # a reconnect within this continues the interval
LATE_GRACE = timedelta(minutes=5)
EARLY_TOLERANCE = timedelta(minutes=1)  # leaving in the last minute is not "left early"

Status = Literal["present", "late", "left_early", "late_and_left_early", "absent", "excused", "excluded"]


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime | None  # None: still connected (or last heartbeat not yet timed out)

    def clipped(self, lo: datetime, hi: datetime) -> timedelta:
        end = self.end or hi
        start, end = max(self.start, lo), min(end, hi)
        return max(timedelta(0), end - start)


def merge(intervals: list[Interval], grace: timedelta = RECONNECT_GRACE) -> list[Interval]:
    """Join intervals separated by less than `grace` (a reconnect is one stay)."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged:
            last = merged[-1]
            if last.end is None:
                continue  # already open to the end: anything later is inside it
            if interval.start - last.end <= grace:
                end = None if interval.end is None else max(last.end, interval.end)
                merged[-1] = Interval(last.start, end)
                continue
        merged.append(interval)
    return merged


@dataclass(frozen=True)
class Attendance:
    status: Status
    first_join: datetime | None
    last_leave: datetime | None  # None while still present
    present_for: timedelta


def attendance(intervals: list[Interval], *, starts_at: datetime, ends_at: datetime, now: datetime,
               excused: bool = False, excluded: bool = False, late_grace: timedelta = LATE_GRACE) -> Attendance:
    """One participant's attendance for a meeting from `starts_at` to `ends_at` (or now)."""
    stays = merge(intervals)
    horizon = min(ends_at, now)
    total = sum((i.clipped(starts_at, horizon) for i in stays), timedelta(0))
    if excluded:
        return Attendance("excluded", None, None, total)
    if not stays:
        return Attendance("excused" if excused else "absent", None, None, total)
    first, last = stays[0].start, stays[-1].end
    late = first > starts_at + late_grace
    left_early = last is not None and now >= ends_at - EARLY_TOLERANCE and last < ends_at - EARLY_TOLERANCE
    if late and left_early:
        status: Status = "late_and_left_early"
    elif late:
        status = "late"
    elif left_early:
        status = "left_early"
    else:
        status = "present"
    return Attendance(status, first, last, total)
