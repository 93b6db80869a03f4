"""话题讨论: moderator-opened, time-boxed discussions that open and close by themselves."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.models import Membership
from accounts.streams import inbox_stream
from realtime.errors import Forbidden, Invalid
from realtime.events import append_event
from realtime.scheduler import register_periodic

from .actions import board_stream, create_topic, topic_stream
from .models import Board, Discussion, Post, Reaction, Topic
from .selectors import can_moderate_branch

MAX_LENGTH = timedelta(days=60)


@transaction.atomic
def open_discussion(*, identity: Identity, board: Board, title: str, prompt: str,
                    opens_at: datetime | None, closes_at: datetime) -> Discussion:
    """Schedule (or open now, when opens_at is None or past) a discussion on a prompt."""
    if not can_moderate_branch(identity, board.branch_id):
        raise Forbidden(_("Only moderators may open topic discussions."))
    now = timezone.now()
    opens_at = opens_at or now
    if closes_at <= opens_at:
        raise Invalid("closes_at", _("The discussion must close after it opens."))
    if closes_at - opens_at > MAX_LENGTH:
        raise Invalid("closes_at", _("A discussion lasts at most 60 days."))
    if closes_at <= now:
        raise Invalid("closes_at", _("The closing time has already passed."))
    topic, _first = create_topic(identity=identity, board=board, title=title, body=prompt)
    Topic.objects.filter(pk=topic.pk).update(closed=True)  # until it opens
    discussion = Discussion.objects.create(topic=topic, prompt=prompt, opens_at=opens_at, closes_at=closes_at,
                                           created_by_id=identity.user_id)
    if opens_at <= now:
        _open(discussion)
    return discussion


def _open(discussion: Discussion) -> None:
    topic = discussion.topic
    Topic.objects.filter(pk=topic.pk).update(closed=False)
    discussion.status = Discussion.Status.OPEN
    discussion.save(update_fields=["status"])
    append_event(topic_stream(topic.pk), "discussion.opened", discussion.to_dict())
    topic.refresh_from_db()
    append_event(topic_stream(topic.pk), "topic.updated", topic.to_dict())
    members = set(Membership.objects.filter(branch_id=topic.board.branch_id).values_list("user_id", flat=True))
    for user_id in sorted(members):
        append_event(inbox_stream(user_id), "discussion.opened",
                     {"topic": topic.pk, "title": topic.title, "closes_at": discussion.to_dict()["closes_at"]})


def summarize(topic: Topic) -> dict:
    posts = Post.objects.filter(topic=topic, status=Post.Status.VISIBLE, kind=Post.Kind.REGULAR)
    authors = {(a, c) for a, c in posts.values_list("author_id", "author_citizen_id")}
    top = (
        Reaction.objects.filter(post__in=posts).values("post_id").annotate(n=Count("id")).order_by("-n", "post_id")[:3]
    )
    return {
        "participants": len(authors),
        "posts": posts.count(),
        "most_reacted": [{"post": row["post_id"], "reactions": row["n"]} for row in top],
    }


def _close(discussion: Discussion) -> None:
    topic = discussion.topic
    Topic.objects.filter(pk=topic.pk).update(closed=True)
    discussion.status = Discussion.Status.CLOSED
    discussion.summary = summarize(topic)
    discussion.save(update_fields=["status", "summary"])
    topic.refresh_from_db()
    append_event(topic_stream(topic.pk), "discussion.closed", discussion.to_dict())
    append_event(topic_stream(topic.pk), "topic.updated", topic.to_dict())
    append_event(board_stream(topic.board_id), "topic.updated", topic.to_dict())


@register_periodic("forum.discussions", every_seconds=5)
def run_due_discussions(now: datetime | None = None) -> int:
    """Open and close what is due. Row locks and status checks make it safe to run in
    every process at once, and a restart simply catches up at the next tick."""
    now = now or timezone.now()
    changed = 0
    with transaction.atomic():
        for discussion in Discussion.objects.select_for_update(skip_locked=True).select_related(
            "topic", "topic__board"
        ).filter(status=Discussion.Status.SCHEDULED, opens_at__lte=now):
            if discussion.closes_at <= now:
                _open(discussion)
                _close(discussion)
            else:
                _open(discussion)
            changed += 1
        for discussion in Discussion.objects.select_for_update(skip_locked=True).select_related(
            "topic", "topic__board"
        ).filter(status=Discussion.Status.OPEN, closes_at__lte=now):
            _close(discussion)
            changed += 1
    return changed
