"""Paging past the first page: a topic's posts past 200, a board's topics past 100, the
review queue past 100 items. Keyset cursors: a page continues after the last row the
reader has, so rows written meanwhile neither repeat nor go missing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from forum import actions, selectors
from forum.models import Post, Topic
from moderation import selectors as moderation_selectors
from moderation.models import ReviewItem
from realtime.errors import Forbidden, Invalid
from realtime.streams import parse_stream_key

from tests.realtime.conftest import connect  # noqa: F401  the real ASGI stack fixture

pytestmark = pytest.mark.django_db


def snapshot(identity, stream: str) -> dict:
    stream_type, object_id = parse_stream_key(stream)
    return stream_type.snapshot(identity, object_id)


def topic_with(identity, board, replies: int) -> Topic:
    topic, _ = actions.create_topic(identity=identity, board=board, title="长帖", body="第 1 楼")
    for n in range(replies):
        actions.create_post(identity=identity, topic_id=topic.pk, body=f"第 {n + 2} 楼")
    return topic


# -- a topic's posts ---------------------------------------------------------------------


@pytest.mark.parametrize("total, first_page_more", [(200, False), (201, True)])
def test_the_topic_snapshot_says_whether_posts_follow_the_first_200(identities, boards, total, first_page_more):
    topic = topic_with(identities["moderator"], boards["members"], total - 1)
    data = snapshot(identities["member"], f"topic:{topic.pk}")
    assert [p["number"] for p in data["posts"]] == list(range(1, 201))
    assert data["has_more"] is first_page_more


def test_the_next_page_continues_after_the_last_number_and_ends(identities, boards):
    moderator, member = identities["moderator"], identities["member"]
    topic = topic_with(moderator, boards["members"], 204)  # 205 posts
    page, more = selectors.posts_page(member, topic, after=200)
    assert [p.number for p in page] == [201, 202, 203, 204, 205] and more is False
    page, more = selectors.posts_page(member, topic, after=198, limit=2)
    assert [p.number for p in page] == [199, 200] and more is True
    # Hidden posts are skipped, not counted against the page, for readers; moderators see them.
    Post.objects.filter(topic=topic, number=202).update(status=Post.Status.HIDDEN)
    assert [p.number for p in selectors.posts_page(member, topic, after=200)[0]] == [201, 203, 204, 205]
    assert [p.number for p in selectors.posts_page(moderator, topic, after=200)[0]] == [201, 202, 203, 204, 205]


@pytest.mark.django_db(transaction=True)
async def test_the_posts_op_pages_with_reactions_and_permissions(connect, people, identities, boards):  # noqa: F811
    from channels.db import database_sync_to_async

    topic = await database_sync_to_async(topic_with)(identities["moderator"], boards["members"], 201)
    last = await database_sync_to_async(lambda: Post.objects.get(topic=topic, number=202))()
    await database_sync_to_async(actions.toggle_reaction)(identity=identities["member"], post_id=last.pk, emoji="👍")
    member = await connect(people["member"])
    reply = await member.call("forum.posts", {"topic": topic.pk, "after": 200})
    data = reply["data"]
    assert [p["number"] for p in data["posts"]] == [201, 202] and data["has_more"] is False
    assert data["reactions"] == {str(last.pk): {"👍": 1}}
    assert data["my_reactions"] == {str(last.pk): ["👍"]}
    outsider = await connect(people["outsider"])
    assert (await outsider.call("forum.posts", {"topic": topic.pk, "after": 200}))["code"] == "not_found"
    assert (await member.call("forum.posts", {"topic": topic.pk, "after": "200"}))["code"] == "bad_request"


# -- a board's topics --------------------------------------------------------------------


def board_with(identity, board, count: int) -> list[Topic]:
    """`count` topics whose last posts are a minute apart (the newest last)."""
    start = timezone.now() - timedelta(days=1)
    topics = []
    for n in range(count):
        topic, _ = actions.create_topic(identity=identity, board=board, title=f"主题 {n}", body="b")
        Topic.objects.filter(pk=topic.pk).update(last_post_at=start + timedelta(minutes=n))
        topics.append(topic)
    return topics


@pytest.mark.parametrize("count, has_next", [(100, False), (101, True)])
def test_the_board_snapshot_gives_a_cursor_only_when_topics_follow(identities, boards, count, has_next):
    board_with(identities["moderator"], boards["members"], count)
    data = snapshot(identities["member"], f"board:{boards['members'].pk}")
    assert len(data["topics"]) == 100
    assert (data["next"] is not None) is has_next


def test_board_pages_follow_the_boards_order_without_repeats_or_gaps(identities, boards):
    topics = board_with(identities["moderator"], boards["members"], 105)
    # Two pinned topics (the oldest two), and two with the same last-post time.
    Topic.objects.filter(pk__in=[topics[0].pk, topics[1].pk]).update(pinned=True)
    same = Topic.objects.get(pk=topics[50].pk).last_post_at
    Topic.objects.filter(pk=topics[51].pk).update(last_post_at=same)
    expected = list(
        Topic.objects.filter(board=boards["members"]).order_by("-pinned", "-last_post_at", "-id")
        .values_list("pk", flat=True)
    )
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = selectors.topics_page(identities["member"], boards["members"], before=cursor, limit=7)
        seen += [t.pk for t in page]
        pages += 1
        if cursor is None:
            break
    assert seen == expected and pages == 15
    assert seen[:2] == [topics[1].pk, topics[0].pk]  # pinned first


def test_a_topic_bumped_meanwhile_is_neither_repeated_nor_lost(identities, boards):
    topics = board_with(identities["moderator"], boards["members"], 101)
    first, cursor = selectors.topics_page(identities["member"], boards["members"])
    assert topics[0].pk not in {t.pk for t in first}  # the oldest is on page two
    # A new post bumps a topic of page one to the top: page two is still the rest.
    actions.create_post(identity=identities["moderator"], topic_id=topics[50].pk, body="顶")
    second, cursor = selectors.topics_page(identities["member"], boards["members"], before=cursor)
    assert [t.pk for t in second] == [topics[0].pk] and cursor is None


@pytest.mark.parametrize("cursor", ["x", "1|2026-01-01|3", "2|2026-01-01T00:00:00+00:00|3", "1|2026-01-01T00:00:00|3"])
def test_a_bad_board_cursor_is_a_clear_error(identities, boards, cursor):
    with pytest.raises(Invalid) as error:
        selectors.topics_page(identities["member"], boards["members"], before=cursor)
    assert error.value.field == "before"


@pytest.mark.django_db(transaction=True)
async def test_the_topics_op_pages_for_those_who_may_read(connect, people, identities, boards):  # noqa: F811
    from channels.db import database_sync_to_async

    topics = await database_sync_to_async(board_with)(identities["moderator"], boards["members"], 101)
    member = await connect(people["member"])
    sub = await member.call("subscribe", {"stream": f"board:{boards['members'].pk}"})
    cursor = sub["data"]["snapshot"]["next"]
    reply = await member.call("forum.topics", {"board": boards["members"].pk, "before": cursor})
    assert [t["id"] for t in reply["data"]["topics"]] == [topics[0].pk] and reply["data"]["next"] is None
    outsider = await connect(people["outsider"])
    refused = await outsider.call("forum.topics", {"board": boards["members"].pk, "before": cursor})
    assert refused["code"] == "not_found"


# -- the review queue ------------------------------------------------------------------------


def pending_posts(identities, boards, count: int) -> list[Post]:
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    # A citizen-free way to fill the queue: a new member's posts all wait for review.
    return [actions.create_post(identity=identities["probationary"], topic_id=topic.pk, body=f"待审 {n}")
            for n in range(count)]


@pytest.mark.parametrize("count, has_next", [(100, False), (101, True)])
def test_the_queue_lists_the_oldest_100_and_says_whether_more_follow(identities, boards, count, has_next):
    posts = pending_posts(identities, boards, count)
    items, cursor = moderation_selectors.queue_page(identities["moderator"], boards["members"].branch_id)
    assert [i["target_id"] for i in items] == [p.pk for p in posts[:100]]
    assert (cursor is not None) is has_next
    if has_next:
        rest, end = moderation_selectors.queue_page(identities["moderator"], boards["members"].branch_id,
                                                    after=cursor)
        assert [i["target_id"] for i in rest] == [posts[100].pk] and end is None
        assert rest[0]["target"]["source"] == "待审 100"


def test_queue_pages_keep_their_filter_and_order_when_items_are_decided_meanwhile(identities, boards):
    from moderation.actions import review_item

    posts = pending_posts(identities, boards, 6)
    branch = boards["members"].branch_id
    moderator = identities["moderator"]
    page, cursor = moderation_selectors.queue_page(moderator, branch, limit=3)
    assert [i["target_id"] for i in page] == [p.pk for p in posts[:3]]
    # Deciding one on page one does not shift page two.
    item = ReviewItem.objects.get(target_id=posts[0].pk)
    review_item(identity=moderator, item_id=item.pk, version=item.version, decision="approve")
    rest, end = moderation_selectors.queue_page(moderator, branch, after=cursor, limit=3)
    assert [i["target_id"] for i in rest] == [p.pk for p in posts[3:]] and end is None
    approved, _ = moderation_selectors.queue_page(moderator, branch, status="approved")
    assert [i["target_id"] for i in approved] == [posts[0].pk]


def test_the_queue_pages_only_for_moderators_and_refuses_a_bad_cursor(identities, boards):
    pending_posts(identities, boards, 2)
    branch = boards["members"].branch_id
    with pytest.raises(Forbidden):
        moderation_selectors.queue_page(identities["member"], branch, after="2026-01-01T00:00:00+00:00|1")
    with pytest.raises(Invalid):
        moderation_selectors.queue_page(identities["moderator"], branch, after="yesterday|1")


@pytest.mark.django_db(transaction=True)
async def test_the_queue_op_returns_the_next_cursor(connect, people, identities, boards):  # noqa: F811
    from channels.db import database_sync_to_async

    posts = await database_sync_to_async(pending_posts)(identities, boards, 101)
    moderator = await connect(people["moderator"])
    # A hundred items with their posts: generous time on a busy machine (no timing asserted).
    first = await moderator.call("moderation.queue", {"branch": boards["members"].branch_id}, timeout=15)
    assert len(first["data"]["items"]) == 100 and first["data"]["next"]
    rest = await moderator.call("moderation.queue", {"branch": boards["members"].branch_id,
                                                      "after": first["data"]["next"]}, timeout=15)
    assert [i["target_id"] for i in rest["data"]["items"]] == [posts[100].pk] and rest["data"]["next"] is None
