"""Every write to the forum goes through here (WebSocket ops, HTTP API, demo data).

Each action checks permission, validates, writes rows and appends events to the
topic's and the board's streams in one transaction; the events go out on commit.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.streams import inbox_stream
from moderation.actions import audit, enqueue_for_review, scan_text
from realtime.errors import Forbidden, Invalid, RateLimited
from realtime.events import append_event
from search.index import index_document, remove_document

from .models import Board, Post, PostRevision, Reaction, Topic, TopicReadState
from .rendering import render_markdown
from .selectors import can_moderate_branch, check_can_write, is_author, post_for, topic_for

TITLE_MAX = 200
BODY_MAX = 20_000
# The first posts of a member in a branch wait for a moderator (Discourse's "new user").
PREMODERATE_FIRST_POSTS = 3


def topic_stream(topic_id: int) -> str:
    return f"topic:{topic_id}"


def board_stream(board_id: int) -> str:
    return f"board:{board_id}"


def _author_fields(identity: Identity) -> dict:
    if identity.is_user:
        return {"author": get_user_model().objects.get(pk=identity.user_id)}
    return {"author_citizen_id": identity.citizen_id}


def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("title", _("A title is required."))
    if len(title) > TITLE_MAX:
        raise Invalid("title", _("The title is at most %(max)d characters.") % {"max": TITLE_MAX})
    return title


def _check_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise Invalid("body", _("The text is required."))
    if len(body) > BODY_MAX:
        raise Invalid("body", _("The text is at most %(max)d characters.") % {"max": BODY_MAX})
    return body


def _needs_premoderation(identity: Identity, board: Board) -> str | None:
    """Why a post waits for review before anyone sees it, or None."""
    if identity.is_citizen:
        return "citizen"
    if can_moderate_branch(identity, board.branch_id):
        return None
    # Read at most PREMODERATE_FIRST_POSTS rows, unordered: a COUNT of every approved
    # post (sorted by the default ordering) grew with the member's history, inside the
    # write transaction of every post (~10 ms at 2,000 posts on SQLite, bench/forum.py).
    approved = len(
        Post.objects.filter(
            author_id=identity.user_id, topic__board__branch_id=board.branch_id, status=Post.Status.VISIBLE,
            kind=Post.Kind.REGULAR,
        ).order_by().values_list("pk", flat=True)[:PREMODERATE_FIRST_POSTS]
    )
    return "new_member" if approved < PREMODERATE_FIRST_POSTS else None


def _check_slow_mode(identity: Identity, topic: Topic) -> None:
    if not topic.slow_mode_seconds or can_moderate_branch(identity, topic.board.branch_id):
        return
    since = timezone.now() - timedelta(seconds=topic.slow_mode_seconds)
    mine = Post.objects.filter(topic=topic, created_at__gte=since)
    mine = mine.filter(author_id=identity.user_id) if identity.is_user else mine.filter(
        author_citizen_id=identity.citizen_id)
    last = mine.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None:
        wait = int((last + timedelta(seconds=topic.slow_mode_seconds) - timezone.now()).total_seconds()) + 1
        raise RateLimited(
            _("Slow mode: you can post in this topic again in %(seconds)d seconds.") % {"seconds": wait},
            details={"retry_after": wait},
        )


def _add_post(identity: Identity, topic: Topic, body: str, *, reply_to: Post | None) -> Post:
    """Number, moderate, render and store one post; publish it if it is visible."""
    board = topic.board
    scan = scan_text(board.branch_id, body)
    if scan.blocked:
        raise Invalid("body", _("Your text contains words that are not allowed: %(words)s")
                      % {"words": "、".join(scan.blocked)})
    reasons = []
    premoderation = _needs_premoderation(identity, board)
    if premoderation:
        reasons.append({"reason": premoderation})
    if scan.needs_approval:
        reasons.append({"reason": "watched_word", "words": scan.needs_approval})
    status = Post.Status.PENDING if reasons else Post.Status.VISIBLE

    Topic.objects.filter(pk=topic.pk).update(last_number=F("last_number") + 1)
    topic.refresh_from_db(fields=["last_number"])
    post = Post.objects.create(
        topic=topic, number=topic.last_number, reply_to=reply_to, source=body, html=render_markdown(body),
        censored_html=render_markdown(scan.censored_text) if scan.censored else "", status=status,
        **_author_fields(identity),
    )
    if scan.flagged:
        reasons_after = [{"reason": "watched_word_flag", "words": scan.flagged}]
        enqueue_for_review(branch_id=board.branch_id, target_type="forum.post", target_id=post.pk,
                           reasons=reasons_after)
    if status == Post.Status.PENDING:
        enqueue_for_review(branch_id=board.branch_id, target_type="forum.post", target_id=post.pk,
                           reasons=reasons)
    else:
        publish_visible_post(post, actor=identity)
    return post


def index_post(post: Post) -> None:
    """Make a visible post findable (readers see what search shows them only if they may)."""
    board = post.topic.board
    # The rendered text, not the Markdown: snippets should not show `**` and link syntax.
    index_document("forum.post", post.pk, branch_id=board.branch_id, public=board.is_public,
                   title=post.topic.title, body=html.unescape(strip_tags(post.censored_html or post.html)))


def unindex_post(post: Post) -> None:
    remove_document("forum.post", post.pk)


MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.\-]{1,150})")


def notify_mentions(post: Post) -> list[int]:
    """Tell each mentioned member of the branch (in their inbox); returns their ids."""
    names = set(MENTION_RE.findall(post.source))
    if not names:
        return []
    branch_id = post.topic.board.branch_id
    users = list(
        get_user_model().objects.filter(username__in=names, memberships__branch_id=branch_id, is_active=True)
        .exclude(pk=post.author_id).distinct().values_list("pk", flat=True)
    )
    author = post.to_dict()["author"]
    for user_id in users:
        append_event(inbox_stream(user_id), "mention",
                     {"post": post.pk, "topic": post.topic_id, "title": post.topic.title, "by": author})
    return users


def publish_visible_post(post: Post, *, actor: Identity | None) -> None:
    """A post became visible (new, or approved): count it, index it, tell the topic, the
    board and anyone mentioned."""
    index_post(post)
    notify_mentions(post)
    topic = post.topic
    Topic.objects.filter(pk=topic.pk).update(post_count=F("post_count") + 1, last_post_at=post.created_at)
    topic.refresh_from_db(fields=["post_count", "last_post_at"])
    append_event(topic_stream(topic.pk), "post.created", post.to_dict(), actor=actor)
    append_event(board_stream(topic.board_id), "topic.updated", topic.to_dict(), actor=actor)


@transaction.atomic
def create_topic(*, identity: Identity, board: Board, title: str, body: str) -> tuple[Topic, Post]:
    check_can_write(identity, board)
    title, body = _check_title(title), _check_body(body)
    title_scan = scan_text(board.branch_id, title)
    if title_scan.blocked:
        raise Invalid("title", _("Your text contains words that are not allowed: %(words)s")
                      % {"words": "、".join(title_scan.blocked)})
    topic = Topic.objects.create(board=board, title=title, last_post_at=timezone.now(), **_author_fields(identity))
    post = _add_post(identity, topic, body, reply_to=None)
    if post.status == Post.Status.VISIBLE:
        append_event(board_stream(board.pk), "topic.created", topic.to_dict(), actor=identity)
    return topic, post


@transaction.atomic
def create_post(*, identity: Identity, topic_id: int, body: str, reply_to_id: int | None = None) -> Post:
    topic = topic_for(identity, topic_id, for_update=True)
    check_can_write(identity, topic.board)
    if topic.closed and not can_moderate_branch(identity, topic.board.branch_id):
        raise Forbidden(_("This topic is closed."))
    body = _check_body(body)
    reply_to = None
    if reply_to_id is not None:
        reply_to = Post.objects.filter(pk=reply_to_id, topic=topic, status=Post.Status.VISIBLE).first()
        if reply_to is None:
            raise Invalid("reply_to", _("The post you reply to is not in this topic."))
    _check_slow_mode(identity, topic)
    return _add_post(identity, topic, body, reply_to=reply_to)


@transaction.atomic
def edit_post(*, identity: Identity, post_id: int, body: str) -> Post:
    post = post_for(identity, post_id)
    moderator = can_moderate_branch(identity, post.topic.board.branch_id)
    if not (is_author(identity, post) or moderator) or post.kind != Post.Kind.REGULAR:
        raise Forbidden(_("You may not edit this post."))
    if post.status == Post.Status.DELETED:
        raise Forbidden(_("A deleted post cannot be edited."))
    body = _check_body(body)
    scan = scan_text(post.topic.board.branch_id, body)
    if scan.blocked:
        raise Invalid("body", _("Your text contains words that are not allowed: %(words)s")
                      % {"words": "、".join(scan.blocked)})
    PostRevision.objects.create(post=post, revision=post.revision, source=post.source,
                                edited_by_id=identity.user_id)
    before = {"source": post.source}
    post.source, post.html = body, render_markdown(body)
    post.censored_html = render_markdown(scan.censored_text) if scan.censored else ""
    post.revision += 1
    post.edited_at = timezone.now()
    post.save(update_fields=["source", "html", "censored_html", "revision", "edited_at"])
    if moderator and not is_author(identity, post):
        audit(actor=identity, action="post.edit", target_type="forum.post", target_id=post.pk,
              branch_id=post.topic.board.branch_id, before=before, after={"source": body})
    if post.status == Post.Status.VISIBLE:
        index_post(post)
        append_event(topic_stream(post.topic_id), "post.edited", post.to_dict(), actor=identity)
    return post


@transaction.atomic
def delete_post(*, identity: Identity, post_id: int, reason: str = "") -> Post:
    """Soft delete: the text stays for moderators and can be restored."""
    post = post_for(identity, post_id)
    branch_id = post.topic.board.branch_id
    moderator = can_moderate_branch(identity, branch_id)
    if not (is_author(identity, post) or moderator):
        raise Forbidden(_("You may not delete this post."))
    if post.status == Post.Status.DELETED:
        return post
    was_visible = post.status == Post.Status.VISIBLE
    before = {"status": post.status}
    post.status, post.status_reason = Post.Status.DELETED, reason[:300]
    post.save(update_fields=["status", "status_reason"])
    if was_visible:
        Topic.objects.filter(pk=post.topic_id).update(post_count=F("post_count") - 1)
    unindex_post(post)
    if moderator and not is_author(identity, post):
        audit(actor=identity, action="post.delete", target_type="forum.post", target_id=post.pk,
              branch_id=branch_id, before=before, after={"status": post.status, "reason": reason[:300]})
    append_event(topic_stream(post.topic_id), "post.deleted", {"id": post.pk, "number": post.number},
                 actor=identity)
    return post


@transaction.atomic
def restore_post(*, identity: Identity, post_id: int) -> Post:
    post = post_for(identity, post_id)
    branch_id = post.topic.board.branch_id
    if not can_moderate_branch(identity, branch_id):
        raise Forbidden(_("Only moderators may restore posts."))
    if post.status != Post.Status.DELETED:
        return post
    post.status, post.status_reason = Post.Status.VISIBLE, ""
    post.save(update_fields=["status", "status_reason"])
    Topic.objects.filter(pk=post.topic_id).update(post_count=F("post_count") + 1)
    index_post(post)
    audit(actor=identity, action="post.restore", target_type="forum.post", target_id=post.pk,
          branch_id=branch_id, before={"status": "deleted"}, after={"status": "visible"})
    append_event(topic_stream(post.topic_id), "post.restored", post.to_dict(), actor=identity)
    return post


@transaction.atomic
def toggle_reaction(*, identity: Identity, post_id: int, emoji: str) -> dict:
    post = post_for(identity, post_id)
    if not identity.is_user or not can_write_reaction(identity, post):
        raise Forbidden(_("You may not react to this post."))
    if emoji not in Reaction.EMOJI:
        raise Invalid("emoji", _("Choose one of the offered reactions."))
    existing = Reaction.objects.filter(post=post, user_id=identity.user_id, emoji=emoji)
    if existing.exists():
        existing.delete()
    else:
        Reaction.objects.create(post=post, user_id=identity.user_id, emoji=emoji)
    counts = reaction_counts(post.pk)
    append_event(topic_stream(post.topic_id), "post.reactions", {"id": post.pk, "reactions": counts},
                 actor=identity)
    return {"id": post.pk, "reactions": counts}


def can_write_reaction(identity: Identity, post: Post) -> bool:
    from .selectors import can_write_board

    return post.status == Post.Status.VISIBLE and can_write_board(identity, post.topic.board)


def reaction_counts(post_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for emoji in Reaction.objects.filter(post_id=post_id).values_list("emoji", flat=True):
        counts[emoji] = counts.get(emoji, 0) + 1
    return counts


@transaction.atomic
def mark_topic_read(*, identity: Identity, topic_id: int, number: int) -> int:
    """Move the member's read position in a topic forward (never back)."""
    topic = topic_for(identity, topic_id)
    if not identity.is_user:
        raise Forbidden(_("Please log in first."))
    number = max(0, min(number, topic.last_number))
    state, _created = TopicReadState.objects.select_for_update().get_or_create(user_id=identity.user_id, topic=topic)
    if number > state.last_read_number:
        state.last_read_number = number
        state.save(update_fields=["last_read_number", "updated_at"])
        append_event(inbox_stream(identity.user_id), "topic.read",
                     {"topic": topic.pk, "board": topic.board_id, "last_read_number": number})
    return state.last_read_number
