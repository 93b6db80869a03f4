"""Every write to the forum goes through here (WebSocket ops, HTTP API, demo data).

Each action checks permission, validates, writes rows and appends events to the
topic's and the board's streams in one transaction; the events go out on commit.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from accounts import notifications
from accounts.identity import Identity
from accounts.streams import inbox_stream
from moderation.actions import audit, enqueue_for_review, scan_text, watched_words
from moderation.watched_words import WatchedWordSet
from realtime.errors import Forbidden, Invalid, RateLimited
from realtime.events import append_event
from search.index import index_document, remove_document

from .models import Board, Post, PostRevision, Reaction, Topic, TopicReadState
from .rendering import mentioned_names, render_markdown
from .selectors import (
    can_moderate_branch,
    check_can_write,
    is_author,
    member_usernames,
    post_for,
    reads_branch,
    topic_for,
)

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
        return {"author": _named_user(identity)}
    return {"author_citizen_id": identity.citizen_id}


def _named_user(identity: Identity):
    """The author of a new row without reading the user row: the identity already holds
    the name author_dict shows (identity_for_user: full name, else username), and the
    name is all a new post's or topic's to_dict reads of its author. Not for saving."""
    user = get_user_model()(pk=identity.user_id, username=identity.name)
    user._state.adding, user._state.db = False, connection.alias
    return user


def _update_returning(topic_id: int, assignments: str, params: list, returning: str) -> int:
    """One UPDATE of the topic row that hands back the new value of a counter (both
    SQLite and PostgreSQL speak RETURNING): no re-read after the update."""
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(Topic._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s "
           f"RETURNING {quote(returning)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, topic_id])
        return cursor.fetchone()[0]


def _next_number(topic: Topic) -> None:
    """Hand out the topic's next post number (topic.last_number)."""
    column = connection.ops.quote_name("last_number")
    topic.last_number = _update_returning(topic.pk, f"{column} = {column} + 1", [], "last_number")


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


def _needs_premoderation(identity: Identity, board: Board, moderator: Callable[[], bool]) -> str | None:
    """Why a post waits for review before anyone sees it, or None.

    Moderators and members with PREMODERATE_FIRST_POSTS approved posts post at once; the
    approved posts are counted first, so a regular member's post (the common case)
    does not ask the moderator question at all."""
    if identity.is_citizen:
        return "citizen"
    # Read at most PREMODERATE_FIRST_POSTS rows, unordered: a COUNT of every approved
    # post (sorted by the default ordering) grew with the member's history, inside the
    # write transaction of every post (~10 ms at 2,000 posts on SQLite, bench/forum.py).
    approved = len(
        Post.objects.filter(
            author_id=identity.user_id, topic__board__branch_id=board.branch_id, status=Post.Status.VISIBLE,
            kind=Post.Kind.REGULAR,
        ).order_by().values_list("pk", flat=True)[:PREMODERATE_FIRST_POSTS]
    )
    if approved >= PREMODERATE_FIRST_POSTS or moderator():
        return None
    return "new_member"


def _check_slow_mode(identity: Identity, topic: Topic, moderator: Callable[[], bool]) -> None:
    if not topic.slow_mode_seconds or moderator():
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


def _moderator_once(identity: Identity, branch_id: int) -> Callable[[], bool]:
    """can_moderate_branch, asked at most once per write and only if a rule needs it."""
    return cache(lambda: can_moderate_branch(identity, branch_id))


def _add_post(identity: Identity, topic: Topic, body: str, *, reply_to: Post | None,
              moderator: Callable[[], bool], words: WatchedWordSet | None = None, numbered: bool = False) -> Post:
    """Number, moderate, render and store one post; publish it if it is visible.

    `words`: the branch's watched words if the caller has read them; `numbered`: the
    caller has handed out topic.last_number already (a topic created with its number 1)."""
    board = topic.board
    scan = (words or watched_words(board.branch_id)).scan(body)
    if scan.blocked:
        raise Invalid("body", _("Your text contains words that are not allowed: %(words)s")
                      % {"words": "、".join(scan.blocked)})
    reasons = []
    premoderation = _needs_premoderation(identity, board, moderator)
    if premoderation:
        reasons.append({"reason": premoderation})
    if scan.needs_approval:
        reasons.append({"reason": "watched_word", "words": scan.needs_approval})
    status = Post.Status.PENDING if reasons else Post.Status.VISIBLE

    if not numbered:
        _next_number(topic)
    mentions = member_usernames_and_ids(board.branch_id, mentioned_names(body))
    html, censored_html = _render(body, scan.censored_text if scan.censored else None, set(mentions))
    post = Post.objects.create(
        topic=topic, number=topic.last_number, reply_to=reply_to, source=body, html=html,
        censored_html=censored_html, status=status, **_author_fields(identity),
    )
    if scan.flagged:
        reasons_after = [{"reason": "watched_word_flag", "words": scan.flagged}]
        enqueue_for_review(branch_id=board.branch_id, target_type="forum.post", target_id=post.pk,
                           reasons=reasons_after)
    if status == Post.Status.PENDING:
        enqueue_for_review(branch_id=board.branch_id, target_type="forum.post", target_id=post.pk,
                           reasons=reasons)
    else:
        publish_visible_post(post, actor=identity, mentioned=mentions)
    return post


def render_post(branch_id: int, source: str, censored_source: str | None = None) -> tuple[str, str]:
    """(html, censored html or "") with @mentions of the branch's members highlighted."""
    return _render(source, censored_source, member_usernames(branch_id, mentioned_names(source)))


def _render(source: str, censored_source: str | None, mentions: set[str]) -> tuple[str, str]:
    rendered = render_markdown(source, mentions=mentions)
    return rendered, render_markdown(censored_source, mentions=mentions) if censored_source is not None else ""


def member_usernames_and_ids(branch_id: int, names: set[str]) -> dict[str, int]:
    """{username: user id} of the active members of the branch among these names: what
    member_usernames answers, with the ids a new post's mention notices go to (one
    query for both)."""
    if not names:
        return {}
    users = get_user_model().objects.filter(username__in=names, memberships__branch_id=branch_id, is_active=True)
    return dict(users.values_list("username", "pk").distinct())


def index_post(post: Post) -> None:
    """Make a visible post findable (readers see what search shows them only if they may)."""
    board = post.topic.board
    # The rendered text, not the Markdown: snippets should not show `**` and link syntax.
    index_document("forum.post", post.pk, branch_id=board.branch_id, public=board.is_public,
                   title=post.topic.title, body=html.unescape(strip_tags(post.censored_html or post.html)))


def unindex_post(post: Post) -> None:
    remove_document("forum.post", post.pk)


def notify_mentions(post: Post, mentioned: dict[str, int] | None = None) -> list[int]:
    """Tell each mentioned member of the branch (in their inbox); returns their ids.
    `mentioned`: member_usernames_and_ids of the post's text, if the caller has it."""
    if mentioned is None:
        mentioned = member_usernames_and_ids(post.topic.board.branch_id, mentioned_names(post.source))
    if not mentioned:
        return []
    users = sorted(pk for pk in mentioned.values() if pk != post.author_id)
    author = post.to_dict()["author"]
    notifications.send(users, "mention", {"post": post.pk, "topic": post.topic_id, "title": post.topic.title,
                                          "by": author})
    return users


def publish_visible_post(post: Post, *, actor: Identity | None, mentioned: dict[str, int] | None = None) -> None:
    """A post became visible (new, or approved): count it, index it, tell the topic, the
    board and anyone mentioned."""
    index_post(post)
    notify_mentions(post, mentioned)
    topic = post.topic
    quote = connection.ops.quote_name
    when = Topic._meta.get_field("last_post_at").get_db_prep_save(post.created_at, connection)
    topic.post_count = _update_returning(
        topic.pk, f"{quote('post_count')} = {quote('post_count')} + 1, {quote('last_post_at')} = %s", [when],
        "post_count",
    )
    topic.last_post_at = post.created_at
    append_event(topic_stream(topic.pk), "post.created", post.to_dict(), actor=actor)
    # A topic reaches its board with its first post (at once, or once approved).
    first = post.number == 1 and post.kind == Post.Kind.REGULAR
    append_event(board_stream(topic.board_id), "topic.created" if first else "topic.updated", topic.to_dict(),
                 actor=actor)
    visible_posts_changed(topic.pk)


def visible_posts_changed(topic_id: int) -> None:
    """A post appeared or went: an open topic discussion's live counts follow."""
    from .discussions import publish_counts  # discussions builds on these actions

    publish_counts(topic_id)


@transaction.atomic
def create_topic(*, identity: Identity, board: Board, title: str, body: str,
                 member: bool | None = None) -> tuple[Topic, Post]:
    """`member`: what the caller's board_for said about can_read_branch (reads_branch),
    so the write check does not ask it again; None asks."""
    check_can_write(identity, board, member=member)
    title, body = _check_title(title), _check_body(body)
    words = watched_words(board.branch_id)
    title_scan = words.scan(title)
    if title_scan.blocked:
        raise Invalid("title", _("Your text contains words that are not allowed: %(words)s")
                      % {"words": "、".join(title_scan.blocked)})
    # Created holding its first post's number: nobody else sees the row before commit.
    topic = Topic.objects.create(board=board, title=title, last_post_at=timezone.now(), last_number=1,
                                 **_author_fields(identity))
    post = _add_post(identity, topic, body, reply_to=None, moderator=_moderator_once(identity, board.branch_id),
                     words=words, numbered=True)
    return topic, post


@transaction.atomic
def create_post(*, identity: Identity, topic_id: int, body: str, reply_to_id: int | None = None) -> Post:
    topic = topic_for(identity, topic_id, for_update=True)
    check_can_write(identity, topic.board, member=reads_branch(topic.board))
    moderator = _moderator_once(identity, topic.board.branch_id)
    if topic.closed and not moderator():
        raise Forbidden(_("This topic is closed."))
    body = _check_body(body)
    reply_to = None
    if reply_to_id is not None:
        reply_to = Post.objects.filter(pk=reply_to_id, topic=topic, status=Post.Status.VISIBLE).first()
        if reply_to is None:
            raise Invalid("reply_to", _("The post you reply to is not in this topic."))
    _check_slow_mode(identity, topic, moderator)
    return _add_post(identity, topic, body, reply_to=reply_to, moderator=moderator)


@transaction.atomic
def edit_post(*, identity: Identity, post_id: int, body: str) -> Post:
    post = post_for(identity, post_id)
    moderator = can_moderate_branch(identity, post.topic.board.branch_id)
    if not (is_author(identity, post) or moderator) or post.kind != Post.Kind.REGULAR:
        raise Forbidden(_("You may not edit this post."))
    if post.status == Post.Status.DELETED:
        raise Forbidden(_("A deleted post cannot be edited."))
    if not moderator:
        # An author edits only while they may still write here (not silenced, still a member).
        check_can_write(identity, post.topic.board, member=reads_branch(post.topic.board))
    body = _check_body(body)
    scan = scan_text(post.topic.board.branch_id, body)
    if scan.blocked:
        raise Invalid("body", _("Your text contains words that are not allowed: %(words)s")
                      % {"words": "、".join(scan.blocked)})
    PostRevision.objects.create(post=post, revision=post.revision, source=post.source,
                                edited_by_id=identity.user_id)
    before = {"source": post.source}
    post.source = body
    post.html, post.censored_html = render_post(post.topic.board.branch_id, body,
                                                scan.censored_text if scan.censored else None)
    post.revision += 1
    post.edited_at = timezone.now()
    post.save(update_fields=["source", "html", "censored_html", "revision", "edited_at"])
    branch_id = post.topic.board.branch_id
    if moderator and not is_author(identity, post):
        audit(actor=identity, action="post.edit", target_type="forum.post", target_id=post.pk,
              branch_id=branch_id, before=before, after={"source": body})
    if post.status != Post.Status.VISIBLE:
        return post
    if scan.needs_approval and not moderator:
        # Watched words apply to edits as to new posts: an edit cannot slip a
        # require-approval word past review. The post leaves readers' pages until a
        # moderator approves the new text.
        post.status = Post.Status.PENDING
        post.save(update_fields=["status"])
        Topic.objects.filter(pk=post.topic_id).update(post_count=F("post_count") - 1)
        unindex_post(post)
        enqueue_for_review(branch_id=branch_id, target_type="forum.post", target_id=post.pk,
                           reasons=[{"reason": "watched_word", "words": scan.needs_approval, "edit": True}])
        append_event(topic_stream(post.topic_id), "post.hidden",
                     {"id": post.pk, "number": post.number, "status": post.status}, actor=identity)
        visible_posts_changed(post.topic_id)
        return post
    index_post(post)
    append_event(topic_stream(post.topic_id), "post.edited", post.to_dict(), actor=identity)
    if scan.flagged and not moderator:
        enqueue_for_review(branch_id=branch_id, target_type="forum.post", target_id=post.pk,
                           reasons=[{"reason": "watched_word_flag", "words": scan.flagged, "edit": True}])
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
    if was_visible:
        visible_posts_changed(post.topic_id)
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
    visible_posts_changed(post.topic_id)
    return post


@transaction.atomic
def toggle_reaction(*, identity: Identity, post_id: int, emoji: str) -> dict:
    post = post_for(identity, post_id)
    if not identity.is_user or not can_write_reaction(identity, post):
        raise Forbidden(_("You may not react to this post."))
    if emoji not in Reaction.EMOJI:
        raise Invalid("emoji", _("Choose one of the offered reactions."))
    existing = Reaction.objects.filter(post=post, user_id=identity.user_id, emoji=emoji)
    added = not existing.exists()
    if added:
        Reaction.objects.create(post=post, user_id=identity.user_id, emoji=emoji)
    else:
        existing.delete()
    counts = reaction_counts(post.pk)
    # Who toggled what: the reacting member's other tabs press or release the button.
    change = {"id": post.pk, "reactions": counts, "user": identity.user_id, "emoji": emoji, "added": added}
    append_event(topic_stream(post.topic_id), "post.reactions", change, actor=identity)
    return change



def can_write_reaction(identity: Identity, post: Post) -> bool:
    from .selectors import can_write_board

    # post_for has read the board: on a members-only one it asked can_read_branch already.
    board = post.topic.board
    return post.status == Post.Status.VISIBLE and can_write_board(identity, board, member=reads_branch(board))


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
