"""Meeting chat in the shared review queue: held messages appear when a moderator approves them."""

from __future__ import annotations

import pytest

from meetings import actions
from meetings.models import ChatMessage
from moderation.actions import review_item
from moderation.models import ReviewItem, WatchedWord
from realtime.testing import capture_events

from .conftest import T0, ident

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(schedule, identities, people, tree):
    WatchedWord.objects.create(branch=tree["a"], pattern="代购", action="require_approval")
    WatchedWord.objects.create(branch=tree["a"], pattern="链接", action="flag")
    meeting = schedule("general")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    actions.join_meeting(identity=ident(people["member"]), meeting_id=meeting.pk)
    actions.record_join(meeting_id=meeting.pk, user_id=people["member"].pk, at=T0)
    return meeting


def test_a_held_message_is_published_when_approved(live, identities):
    with capture_events() as events:
        held = actions.send_chat(identity=identities["member"], meeting_id=live.pk, body="谁需要代购")
    assert held.status == "pending"
    assert [e.type for e in events] == ["review.updated"]  # only the review queue hears of it
    item = ReviewItem.objects.get(target_type="meetings.chat", target_id=held.pk)
    with capture_events() as events:
        review_item(identity=identities["moderator"], item_id=item.pk, version=item.version, decision="approve")
    assert ("meeting:%d" % live.pk, "chat.message") in [(e.stream, e.type) for e in events]
    assert ChatMessage.objects.get(pk=held.pk).status == "visible"


def test_a_flagged_message_is_shown_and_queued_and_can_be_hidden_from_the_queue(live, identities):
    with capture_events() as events:
        shown = actions.send_chat(identity=identities["member"], meeting_id=live.pk, body="看这个链接")
    assert shown.status == "visible" and "chat.message" in [e.type for e in events]
    item = ReviewItem.objects.get(target_type="meetings.chat", target_id=shown.pk)
    with capture_events() as events:
        review_item(identity=identities["secretary"], item_id=item.pk, version=item.version, decision="hide",
                    reason="广告")
    assert [e.type for e in events if e.stream.startswith("meeting:")] == ["chat.hidden"]


def test_a_silenced_member_cannot_chat(live, identities, people):
    from datetime import timedelta

    from django.utils import timezone
    from moderation.models import Silence

    from realtime.errors import Forbidden

    Silence.objects.create(branch=live.branch, user=people["member"], until=timezone.now() + timedelta(days=1))
    with pytest.raises(Forbidden):
        actions.send_chat(identity=identities["member"], meeting_id=live.pk, body="你好")
