"""The meetings demo: a scheduled meeting with leave requests, a live one to join, a past one with minutes."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from announcements.models import Announcement
from meetings.demo import LIVE, general_meeting_title
from meetings.minutes import build_minutes
from meetings.models import LeaveRequest, Meeting, Vote

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_the_meetings_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    statuses = dict(Meeting.objects.values_list("title", "status"))
    upcoming = Meeting.objects.get(status="scheduled")
    past = Meeting.objects.get(status="ended")
    day, past_day = (timezone.localdate(m.starts_at, m.branch.zone) for m in (upcoming, past))
    assert statuses == {general_meeting_title(day): "scheduled", LIVE: "live", general_meeting_title(past_day): "ended"}
    assert day.weekday() == 5 and general_meeting_title(day) != general_meeting_title(past_day)
    # The secretary's notice names the meeting's own month, day and weekday.
    notice = Announcement.objects.get(title=f"关于召开{upcoming.title}的通知")
    assert f"定于{day.month}月{day.day}日（周六）上午9:00" in notice.body
    assert sorted(LeaveRequest.objects.filter(meeting=upcoming).values_list("status", flat=True)) == [
        "approved", "pending"]
    minutes = build_minutes(past)
    assert minutes["counts"]["present"] == 3 and minutes["counts"]["excused"] == 1 and minutes["counts"]["late"] == 1
    (resolution,) = minutes["resolutions"]
    assert resolution["passed"] is True and resolution["quorum_met"] is True
    assert Vote.objects.get(meeting=past).secret is True
    assert minutes["actual"]["start"].endswith("19:00")


def test_the_forum_demo_names_a_party_day_still_ahead():
    """The demo topic's date is computed from the day it is loaded, like the meeting's."""
    from datetime import timedelta

    from accounts.demo import chinese_day
    from accounts.models import Branch
    from forum.models import Post

    call_command("seed_demo")
    branch = Branch.objects.get(name="第一党支部")
    first = Post.objects.get(topic__title="本月主题党日活动安排", number=1)
    ahead = timezone.localdate(timezone.now(), branch.zone) + timedelta(days=5)
    assert f"**{chinese_day(ahead)}上午**" in first.source


def test_the_demo_has_one_announcement_read_by_one_member():
    from announcements import selectors
    from announcements.models import Reading

    call_command("seed_demo")
    call_command("seed_demo")  # idempotent: read once
    (reading,) = Reading.objects.select_related("announcement", "user")
    assert reading.user.username == "banzhu" and reading.announcement.title == "“三会一课”学习材料已上传"
    counts = selectors.read_counts([reading.announcement])
    assert counts[reading.announcement.pk] == {"read": 1, "of": 3}


def test_seeding_again_keeps_what_the_demo_did_since():
    """`make run` seeds on every start: a member made a full member in the demo (转正) stays one."""
    from django.contrib.auth import get_user_model

    from accounts import members
    from accounts.identity import identity_for_user
    from accounts.models import Branch, Membership

    call_command("seed_demo")
    users = get_user_model().objects
    branch = Branch.objects.get(name="第一党支部")
    yubei = users.get(username="yubei")
    members.set_standing(identity=identity_for_user(users.get(username="shuji")), branch_id=branch.pk,
                         user_id=yubei.pk, standing="full", moderator=False)
    call_command("seed_demo")
    assert sorted(Membership.objects.filter(user=yubei, branch=branch).values_list("role", flat=True)) == ["full"]
