"""话题讨论: moderator-opened, time-boxed discussions that open and close by themselves."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import notifications
from accounts.identity import Identity
from accounts.models import Membership
from moderation.actions import audit
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from realtime.events import append_event
from realtime.scheduler import register_periodic

from .actions import board_stream, create_topic, topic_stream
from .models import Board, Discussion, Post, Reaction, Topic, author_dict
from .selectors import can_moderate_branch, topic_for

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
    else:
        # The board heard topic.created (open); it is closed, and a discussion, until it opens.
        topic.refresh_from_db()
        append_event(board_stream(topic.board_id), "topic.updated", board_topic(topic, discussion))
    return discussion


def board_topic(topic: Topic, discussion: Discussion) -> dict:
    """A discussion's topic as the board stream carries it: marked as a discussion."""
    return {**topic.to_dict(), "discussion": discussion.status}


def live_counts(topic_id: int) -> dict:
    """Participants and posts so far: the summary's rule (visible regular posts)."""
    posts = Post.objects.filter(topic_id=topic_id, status=Post.Status.VISIBLE, kind=Post.Kind.REGULAR)
    authors = set(posts.values_list("author_id", "author_citizen_id").distinct())
    return {"participants": len(authors), "posts": posts.count()}


def discussion_data(discussion: Discussion) -> dict:
    """The discussion as pages see it: with live counts while it is open."""
    data = discussion.to_dict()
    if discussion.status == Discussion.Status.OPEN:
        data["counts"] = live_counts(discussion.topic_id)
    return data


def publish_counts(topic_id: int) -> None:
    """A post of an open discussion appeared or went: tell its readers the new counts.
    Called by the actions that change which posts are visible, inside their transaction."""
    if Discussion.objects.filter(topic_id=topic_id, status=Discussion.Status.OPEN).exists():
        append_event(topic_stream(topic_id), "discussion.counts", {"topic": topic_id, **live_counts(topic_id)})


@transaction.atomic
def close_discussion(*, identity: Identity, topic_id: int) -> Discussion:
    """A moderator ends an open discussion before its time (the summary is made now)."""
    topic = topic_for(identity, topic_id, for_update=True)
    if not can_moderate_branch(identity, topic.board.branch_id):
        raise Forbidden(_("Only moderators may close topic discussions."))
    discussion = Discussion.objects.select_for_update().filter(topic=topic).first()
    if discussion is None:
        raise NotFound(_("This topic is not a topic discussion."))
    if discussion.status != Discussion.Status.OPEN:
        raise Conflict(_("Only an open discussion can be closed."), details={"discussion": discussion.to_dict()})
    # Closing time is now (the constraint wants it after opening, even a moment after).
    discussion.closes_at = max(timezone.now(), discussion.opens_at + timedelta(microseconds=1))
    discussion.save(update_fields=["closes_at"])
    discussion.topic = topic
    _close(discussion, actor=identity)
    audit(actor=identity, action="discussion.close", target_type="forum.topic", target_id=topic.pk,
          branch_id=topic.board.branch_id, before={"status": "open"}, after={"status": "closed"})
    return discussion


def _open(discussion: Discussion) -> None:
    topic = discussion.topic
    Topic.objects.filter(pk=topic.pk).update(closed=False)
    discussion.status = Discussion.Status.OPEN
    discussion.save(update_fields=["status"])
    append_event(topic_stream(topic.pk), "discussion.opened", discussion_data(discussion))
    topic.refresh_from_db()
    append_event(topic_stream(topic.pk), "topic.updated", topic.to_dict())
    append_event(board_stream(topic.board_id), "topic.updated", board_topic(topic, discussion))
    members = set(Membership.objects.filter(branch_id=topic.board.branch_id).values_list("user_id", flat=True))
    notifications.send(members, "discussion.opened",
                       {"topic": topic.pk, "title": topic.title, "closes_at": discussion.to_dict()["closes_at"]})


def summarize(topic: Topic) -> dict:
    posts = Post.objects.filter(topic=topic, status=Post.Status.VISIBLE, kind=Post.Kind.REGULAR)
    authors = {(a, c) for a, c in posts.values_list("author_id", "author_citizen_id")}
    top = list(
        Reaction.objects.filter(post__in=posts).values("post_id").annotate(n=Count("id")).order_by("-n", "post_id")[:3]
    )
    # Number and author too: the summary names the posts even where they are not loaded.
    details = {p.pk: p for p in posts.filter(pk__in=[row["post_id"] for row in top]).select_related(
        "author", "author_citizen")}
    return {
        "participants": len(authors),
        "posts": posts.count(),
        "most_reacted": [
            {"post": row["post_id"], "reactions": row["n"], "number": details[row["post_id"]].number,
             "author": author_dict(details[row["post_id"]].author, details[row["post_id"]].author_citizen)["name"]}
            for row in top
        ],
    }


def _close(discussion: Discussion, *, actor: Identity | None = None) -> None:
    topic = discussion.topic
    Topic.objects.filter(pk=topic.pk).update(closed=True)
    discussion.status = Discussion.Status.CLOSED
    discussion.summary = summarize(topic)
    discussion.save(update_fields=["status", "summary"])
    topic.refresh_from_db()
    append_event(topic_stream(topic.pk), "discussion.closed", discussion.to_dict(), actor=actor)
    append_event(topic_stream(topic.pk), "topic.updated", topic.to_dict(), actor=actor)
    append_event(board_stream(topic.board_id), "topic.updated", board_topic(topic, discussion), actor=actor)


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
