"""What a topic's stream snapshot gives each reader: their own reactions, pressed."""

from __future__ import annotations

import pytest

from forum import actions
from forum.models import Post
from realtime.streams import parse_stream_key
from realtime.testing import capture_events

pytestmark = pytest.mark.django_db


def snapshot(identity, topic_id: int) -> dict:
    stream_type, object_id = parse_stream_key(f"topic:{topic_id}")
    return stream_type.snapshot(identity, object_id)


@pytest.fixture
def topic_with_posts(identities, boards):
    topic, first = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    second = actions.create_post(identity=identities["moderator"], topic_id=topic.pk, body="second")
    return topic, first, second


def test_the_snapshot_carries_the_readers_own_reactions_per_post(identities, topic_with_posts):
    topic, first, second = topic_with_posts
    member, secretary = identities["member"], identities["secretary"]
    actions.toggle_reaction(identity=member, post_id=first.pk, emoji="👍")
    actions.toggle_reaction(identity=member, post_id=first.pk, emoji="🎉")
    actions.toggle_reaction(identity=secretary, post_id=first.pk, emoji="👍")
    actions.toggle_reaction(identity=secretary, post_id=second.pk, emoji="❤️")

    mine = snapshot(member, topic.pk)
    assert mine["reactions"] == {first.pk: {"👍": 2, "🎉": 1}, second.pk: {"❤️": 1}}
    assert mine["my_reactions"] == {first.pk: ["👍", "🎉"]}
    assert snapshot(secretary, topic.pk)["my_reactions"] == {first.pk: ["👍"], second.pk: ["❤️"]}
    assert snapshot(identities["probationary"], topic.pk)["my_reactions"] == {}

    # Taking one back leaves it out of the next snapshot.
    actions.toggle_reaction(identity=member, post_id=first.pk, emoji="👍")
    assert snapshot(member, topic.pk)["my_reactions"] == {first.pk: ["🎉"]}


def test_anonymous_readers_of_a_public_topic_have_no_reactions_of_their_own(identities, boards):
    from accounts.identity import ANONYMOUS

    topic, first = actions.create_topic(identity=identities["moderator"], board=boards["public"], title="t", body="b")
    actions.toggle_reaction(identity=identities["member"], post_id=first.pk, emoji="👏")
    data = snapshot(ANONYMOUS, topic.pk)
    assert data["reactions"] == {first.pk: {"👏": 1}}
    assert data["my_reactions"] == {}


def test_a_reaction_event_says_who_toggled_what_so_their_other_tabs_follow(identities, topic_with_posts):
    topic, first, _second = topic_with_posts
    member = identities["member"]
    with capture_events() as captured:
        added = actions.toggle_reaction(identity=member, post_id=first.pk, emoji="🤔")
        removed = actions.toggle_reaction(identity=member, post_id=first.pk, emoji="🤔")
    assert added["added"] is True and removed["added"] is False
    assert [(e.stream, e.type, e.data) for e in captured] == [
        (f"topic:{topic.pk}", "post.reactions",
         {"id": first.pk, "reactions": {"🤔": 1}, "user": member.user_id, "emoji": "🤔", "added": True}),
        (f"topic:{topic.pk}", "post.reactions",
         {"id": first.pk, "reactions": {}, "user": member.user_id, "emoji": "🤔", "added": False}),
    ]
    assert Post.objects.get(pk=first.pk).reactions.count() == 0
