"""Meetings fixtures: a branch with members, meetings made through the actions, controlled time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from accounts.identity import identity_for_user
from meetings import actions
from meetings.models import Meeting

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)  # 09:00 in Asia/Shanghai


@pytest.fixture
def schedule(identities, people, tree):
    """Schedule a meeting in branch A chaired by the secretary (through the action)."""

    def make(kind: str = "general", *, branch=None, chair=None, starts_at=None, **extra) -> Meeting:
        starts = starts_at or T0
        return actions.schedule_meeting(
            identity=identities["secretary"], branch_id=(branch or tree["a"]).pk, kind=kind, title="支部党员大会",
            starts_at=starts, ends_at=starts + timedelta(hours=2), chair_id=(chair or people["secretary"]).pk,
            minute_taker_id=extra.pop("minute_taker_id", people["member"].pk), agenda=extra.pop("agenda", ["学习", "表决"]),
            **extra,
        )

    return make


@pytest.fixture
def crowd(tree, make_user):
    """Make `n` members of branch A with a role; returns the users."""

    def make(n: int, role: str = "full", prefix: str = "m"):
        return [make_user(f"{prefix}{i}", branch=tree["a"], roles=(role,)) for i in range(n)]

    return make


def ident(user):
    return identity_for_user(user)


def arrive(meeting: Meeting, user, at: datetime | None = None):
    """Join (lobby rules apply) and be seen on the stream at `at` (the presence hook's call)."""
    actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
    return actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=at or datetime.now(timezone.utc))


def depart(meeting: Meeting, user, at: datetime | None = None, *, lost: bool = False):
    return actions.record_leave(meeting_id=meeting.pk, user_id=user.pk, at=at or datetime.now(timezone.utc), lost=lost)


class Clock:
    """The server's clock, set by the test (django.utils.timezone.now is what the server reads)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> datetime:
        self.now = T0 + timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone as dj_timezone

    c = Clock(T0 - timedelta(minutes=30))
    monkeypatch.setattr(dj_timezone, "now", c)
    return c


@pytest.fixture
def english():
    """Refusals matched by their words, in English (the server's default is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield
