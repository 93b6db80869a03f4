"""Moderators' topic tools: each leaves a small-action line, an audit entry and events."""

from __future__ import annotations

import pytest

from forum import actions, topic_management as tm
from forum.models import Post, Topic
from forum.selectors import search_posts
from moderation.models import AuditEntry
from realtime.errors import Forbidden, Invalid, NotFound
from realtime.testing import capture_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="议题", body="开场")
    for body in ("第二楼", "第三楼"):
        actions.create_post(identity=identities["secretary"], topic_id=topic.pk, body=body)
    return topic


def small_actions(topic) -> list[dict]:
    return list(Post.objects.filter(topic=topic, kind="small_action").order_by("number").values_list("action", flat=True))


@pytest.mark.parametrize("who", ["member", "probationary", "other_secretary", "outsider"])
def test_only_moderators_manage_topics(identities, topic, who):
    with pytest.raises((Forbidden, NotFound)) as info:
        tm.set_pinned(identity=identities[who], topic_id=topic.pk, pinned=True)
    assert info.value.code in ("forbidden", "not_found")
    assert not Topic.objects.get(pk=topic.pk).pinned


def test_pin_and_close_write_small_actions_audit_and_events(identities, topic, boards):
    with capture_events() as captured:
        tm.set_pinned(identity=identities["moderator"], topic_id=topic.pk, pinned=True)
    assert [(e.stream, e.type) for e in captured] == [
        (f"topic:{topic.pk}", "post.created"), (f"topic:{topic.pk}", "topic.updated"),
        (f"board:{boards['members'].pk}", "topic.updated")]
    tm.set_closed(identity=identities["secretary"], topic_id=topic.pk, closed=True)
    assert [a["type"] for a in small_actions(topic)] == ["pinned", "closed"]
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["topic.pinned", "topic.closed"]
    topic.refresh_from_db()
    assert topic.pinned and topic.closed


def test_slow_mode_bounds(identities, topic):
    with pytest.raises(Invalid):
        tm.set_slow_mode(identity=identities["moderator"], topic_id=topic.pk, seconds=-1)
    tm.set_slow_mode(identity=identities["moderator"], topic_id=topic.pk, seconds=30)
    assert Topic.objects.get(pk=topic.pk).slow_mode_seconds == 30


def test_moving_to_a_public_board_makes_posts_findable_by_everyone(identities, topic, boards):
    from accounts.identity import ANONYMOUS

    assert search_posts(ANONYMOUS, "开场") == []
    tm.move_topic(identity=identities["moderator"], topic_id=topic.pk, board_id=boards["public"].pk)
    assert Topic.objects.get(pk=topic.pk).board_id == boards["public"].pk
    assert len(search_posts(ANONYMOUS, "开场")) == 1
    with pytest.raises((Forbidden, NotFound)):  # another branch's members board is not even visible
        tm.move_topic(identity=identities["moderator"], topic_id=topic.pk, board_id=boards["other"].pk)


def test_merge_appends_posts_and_retires_the_source(identities, topic, boards):
    other, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="重复", body="同一件事")
    tm.merge_topics(identity=identities["moderator"], source_id=other.pk, target_id=topic.pk)
    numbers = list(Post.objects.filter(topic=topic, kind="regular").order_by("number").values_list("source", flat=True))
    assert numbers == ["开场", "第二楼", "第三楼", "同一件事"]
    other.refresh_from_db()
    assert other.merged_into_id == topic.pk and other.deleted_at is not None
    assert Topic.objects.get(pk=topic.pk).post_count == 4
    with pytest.raises(Invalid):
        tm.merge_topics(identity=identities["moderator"], source_id=topic.pk, target_id=topic.pk)


def test_split_moves_posts_into_a_new_topic(identities, topic):
    ids = list(Post.objects.filter(topic=topic, number__in=[2, 3]).values_list("pk", flat=True))
    new = tm.split_posts(identity=identities["moderator"], topic_id=topic.pk, post_ids=ids, title="另起一题")
    assert list(new.posts.order_by("number").values_list("number", "source")) == [(1, "第二楼"), (2, "第三楼")]
    assert Topic.objects.get(pk=topic.pk).post_count == 1
    assert small_actions(topic)[-1]["type"] == "split"
