"""The meetings demo: a scheduled meeting with leave requests, a live one to join, a past one with minutes."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from meetings.minutes import build_minutes
from meetings.models import LeaveRequest, Meeting, Vote

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_the_meetings_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    statuses = dict(Meeting.objects.values_list("title", "status"))
    assert statuses == {"十一月支部党员大会": "scheduled", "党课：学习贯彻党的二十大精神": "live", "十月支部党员大会": "ended"}
    upcoming = Meeting.objects.get(status="scheduled")
    assert sorted(LeaveRequest.objects.filter(meeting=upcoming).values_list("status", flat=True)) == [
        "approved", "pending"]
    past = Meeting.objects.get(status="ended")
    minutes = build_minutes(past)
    assert minutes["counts"]["present"] == 3 and minutes["counts"]["excused"] == 1 and minutes["counts"]["late"] == 1
    (resolution,) = minutes["resolutions"]
    assert resolution["passed"] is True and resolution["quorum_met"] is True
    assert Vote.objects.get(meeting=past).secret is True
    assert minutes["actual"]["start"].endswith("19:00")
