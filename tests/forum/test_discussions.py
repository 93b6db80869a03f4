"""话题讨论: scheduled opening, automatic closing with a summary, idempotent across processes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from forum import actions
from forum.discussions import open_discussion, run_due_discussions
from forum.models import Discussion, Topic
from realtime.errors import Forbidden, Invalid
from realtime.testing import capture_events

pytestmark = pytest.mark.django_db


def test_only_moderators_open_discussions(identities, boards):
    with pytest.raises(Forbidden):
        open_discussion(identity=identities["member"], board=boards["members"], title="t", prompt="p",
                        opens_at=None, closes_at=timezone.now() + timedelta(hours=1))


def test_closing_must_follow_opening(identities, boards):
    now = timezone.now()
    with pytest.raises(Invalid):
        open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                        opens_at=now + timedelta(hours=2), closes_at=now + timedelta(hours=1))


def test_an_immediate_discussion_opens_and_notifies_members(identities, boards, people):
    with capture_events() as captured:
        discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="如何改进停车",
                                     prompt="请谈谈看法", opens_at=None, closes_at=timezone.now() + timedelta(hours=1))
    assert discussion.status == "open"
    assert not Topic.objects.get(pk=discussion.topic_id).closed
    notified = {e.stream for e in captured if e.type == "discussion.opened" and e.stream.startswith("inbox:")}
    assert f"inbox:{people['member'].pk}" in notified and f"inbox:{people['outsider'].pk}" not in notified


def test_a_scheduled_discussion_opens_then_locks_itself_with_a_summary(identities, boards):
    now = timezone.now()
    discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                                 opens_at=now + timedelta(minutes=10), closes_at=now + timedelta(minutes=70))
    assert discussion.status == "scheduled" and Topic.objects.get(pk=discussion.topic_id).closed
    assert run_due_discussions(now=now) == 0
    assert run_due_discussions(now=now + timedelta(minutes=11)) == 1
    topic = Topic.objects.get(pk=discussion.topic_id)
    assert not topic.closed
    first = actions.create_post(identity=identities["secretary"], topic_id=topic.pk, body="我的看法")
    actions.toggle_reaction(identity=identities["moderator"], post_id=first.pk, emoji="👍")
    with capture_events() as captured:
        assert run_due_discussions(now=now + timedelta(minutes=71)) == 1
    discussion.refresh_from_db()
    assert discussion.status == "closed"
    assert discussion.summary == {"participants": 2, "posts": 2, "most_reacted": [{"post": first.pk, "reactions": 1}]}
    assert Topic.objects.get(pk=topic.pk).closed
    assert "discussion.closed" in [e.type for e in captured]
    assert run_due_discussions(now=now + timedelta(minutes=72)) == 0  # already done: nothing twice


def test_a_discussion_whose_whole_window_passed_while_down_opens_and_closes(identities, boards):
    now = timezone.now()
    discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                                 opens_at=now + timedelta(minutes=1), closes_at=now + timedelta(minutes=2))
    assert run_due_discussions(now=now + timedelta(hours=5)) == 1
    assert Discussion.objects.get(pk=discussion.pk).status == "closed"
