"""Moderators' tools on topics: pin, close, slow mode, move, merge, split.

Each writes a visible small-action line in the topic (what happened, by whom, as data
the page renders in its own language), an audit entry, and events on the topic's and
board's streams.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import Identity
from moderation.actions import audit
from realtime.errors import Forbidden, Invalid, NotFound
from realtime.events import append_event

from .actions import board_stream, index_post, topic_stream
from .models import Board, Post, Topic
from .selectors import board_for, can_moderate_branch, topic_for

SLOW_MODE_MAX = 24 * 3600


def _moderated_topic(identity: Identity, topic_id: int) -> Topic:
    topic = topic_for(identity, topic_id, for_update=True)
    if not can_moderate_branch(identity, topic.board.branch_id):
        raise Forbidden(_("Only moderators may manage topics."))
    return topic


def _small_action(identity: Identity, topic: Topic, action: dict) -> Post:
    Topic.objects.filter(pk=topic.pk).update(last_number=F("last_number") + 1)
    topic.refresh_from_db(fields=["last_number"])
    post = Post.objects.create(
        topic=topic, number=topic.last_number, kind=Post.Kind.SMALL_ACTION, source="", html="",
        action={**action, "by": identity.name}, author_id=identity.user_id,
    )
    append_event(topic_stream(topic.pk), "post.created", post.to_dict(), actor=identity)
    return post


def _changed(identity: Identity, topic: Topic, action: str, before: dict, after: dict) -> None:
    _small_action(identity, topic, {"type": action, **after})
    audit(actor=identity, action=f"topic.{action}", target_type="forum.topic", target_id=topic.pk,
          branch_id=topic.board.branch_id, before=before, after=after)
    topic.refresh_from_db()
    append_event(topic_stream(topic.pk), "topic.updated", topic.to_dict(), actor=identity)
    append_event(board_stream(topic.board_id), "topic.updated", topic.to_dict(), actor=identity)


@transaction.atomic
def set_pinned(*, identity: Identity, topic_id: int, pinned: bool) -> Topic:
    topic = _moderated_topic(identity, topic_id)
    if topic.pinned != pinned:
        Topic.objects.filter(pk=topic.pk).update(pinned=pinned)
        _changed(identity, topic, "pinned" if pinned else "unpinned", {"pinned": not pinned}, {"pinned": pinned})
    return topic


@transaction.atomic
def set_closed(*, identity: Identity, topic_id: int, closed: bool) -> Topic:
    topic = _moderated_topic(identity, topic_id)
    if topic.closed != closed:
        Topic.objects.filter(pk=topic.pk).update(closed=closed)
        _changed(identity, topic, "closed" if closed else "opened", {"closed": not closed}, {"closed": closed})
    return topic


@transaction.atomic
def set_slow_mode(*, identity: Identity, topic_id: int, seconds: int) -> Topic:
    topic = _moderated_topic(identity, topic_id)
    if not 0 <= seconds <= SLOW_MODE_MAX:
        raise Invalid("seconds", _("Slow mode is between 0 and %(max)d seconds.") % {"max": SLOW_MODE_MAX})
    if topic.slow_mode_seconds != seconds:
        before = topic.slow_mode_seconds
        Topic.objects.filter(pk=topic.pk).update(slow_mode_seconds=seconds)
        _changed(identity, topic, "slow_mode", {"seconds": before}, {"seconds": seconds})
    return topic


def _reindex(topic: Topic) -> None:
    for post in topic.posts.filter(status=Post.Status.VISIBLE, kind=Post.Kind.REGULAR).select_related("topic__board"):
        index_post(post)


@transaction.atomic
def move_topic(*, identity: Identity, topic_id: int, board_id: int) -> Topic:
    topic = _moderated_topic(identity, topic_id)
    target: Board = board_for(identity, board_id)
    if not can_moderate_branch(identity, target.branch_id):
        raise Forbidden(_("You may only move topics to boards you moderate."))
    if target.pk == topic.board_id:
        return topic
    source = topic.board
    Topic.objects.filter(pk=topic.pk).update(board=target)
    topic.refresh_from_db()
    _reindex(topic)  # the board's branch and visibility decide who finds it
    append_event(board_stream(source.pk), "topic.removed", {"id": topic.pk, "moved_to": target.pk}, actor=identity)
    append_event(board_stream(target.pk), "topic.created", topic.to_dict(), actor=identity)
    _changed(identity, topic, "moved", {"board": source.pk}, {"board": target.pk, "board_name": target.name})
    return topic


def _move_posts(posts: list[Post], into: Topic) -> None:
    """Append posts to `into` in their order, with new numbers (numbers are per topic)."""
    for post in posts:
        Topic.objects.filter(pk=into.pk).update(last_number=F("last_number") + 1)
        into.refresh_from_db(fields=["last_number"])
        Post.objects.filter(pk=post.pk).update(topic=into, number=into.last_number, reply_to=None)


def _recount(topic: Topic) -> None:
    visible = topic.posts.filter(status=Post.Status.VISIBLE, kind=Post.Kind.REGULAR)
    last = visible.order_by("-created_at").values_list("created_at", flat=True).first()
    Topic.objects.filter(pk=topic.pk).update(post_count=visible.count(), last_post_at=last or topic.created_at)


@transaction.atomic
def merge_topics(*, identity: Identity, source_id: int, target_id: int) -> Topic:
    if source_id == target_id:
        raise Invalid("target", _("A topic cannot be merged into itself."))
    source = _moderated_topic(identity, source_id)
    target = _moderated_topic(identity, target_id)
    posts = list(source.posts.filter(kind=Post.Kind.REGULAR).order_by("number"))
    _move_posts(posts, target)
    Topic.objects.filter(pk=source.pk).update(merged_into=target, closed=True, deleted_at=timezone.now())
    _recount(target)
    _reindex(target)
    append_event(topic_stream(source.pk), "topic.merged", {"id": source.pk, "into": target.pk}, actor=identity)
    append_event(board_stream(source.board_id), "topic.removed", {"id": source.pk, "merged_into": target.pk},
                 actor=identity)
    _changed(identity, target, "merged", {"topic": source.pk}, {"from_topic": source.pk, "from_title": source.title,
                                                                 "posts": len(posts)})
    return target


@transaction.atomic
def split_posts(*, identity: Identity, topic_id: int, post_ids: list[int], title: str) -> Topic:
    topic = _moderated_topic(identity, topic_id)
    title = title.strip()
    if not title or len(title) > 200:
        raise Invalid("title", _("A title is required."))
    posts = list(topic.posts.filter(pk__in=post_ids, kind=Post.Kind.REGULAR).order_by("number"))
    if not posts or len(posts) != len(set(post_ids)):
        raise NotFound(_("Some of these posts are not in this topic."))
    new = Topic.objects.create(board=topic.board, title=title, author_id=posts[0].author_id,
                               author_citizen_id=posts[0].author_citizen_id, last_post_at=posts[-1].created_at)
    _move_posts(posts, new)
    _recount(new)
    _recount(topic)
    _reindex(new)
    append_event(topic_stream(topic.pk), "posts.moved", {"ids": [p.pk for p in posts], "to": new.pk}, actor=identity)
    new.refresh_from_db()
    append_event(board_stream(new.board_id), "topic.created", new.to_dict(), actor=identity)
    _changed(identity, topic, "split", {"posts": [p.pk for p in posts]}, {"to_topic": new.pk, "to_title": title,
                                                                           "posts": len(posts)})
    return new
