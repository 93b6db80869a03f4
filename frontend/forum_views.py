"""微论坛 pages: the board list of a branch, a board, a topic, search.

Public boards are read by anyone (no login); members-only boards and topics answer
404 to those who may not read them, as the streams do (existence is not revealed).
Every page is complete as HTML; its script then follows the stream and keeps it live.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.api import request_identity
from accounts.identity import Identity
from accounts.models import Branch, Membership
from accounts.selectors import can_moderate_branch, can_read_branch
from forum import selectors as forum_selectors
from forum.actions import BODY_MAX, TITLE_MAX
from forum.discussions import discussion_data
from forum.models import Discussion, Reaction, Topic
from realtime.errors import Forbidden, NotFound

from . import forum_text
from . import selectors as page_selectors

SLOW_MODE_CHOICES = (0, 10, 30, 60, 300, 900, 3600)


def member_branch(request, branch_id: int) -> tuple[Branch, Identity]:
    """The branch of a members' page, and who asks; 404 for those who may not read it
    (its existence is not confirmed to them)."""
    branch = get_object_or_404(Branch, pk=branch_id)
    identity = request_identity(request)
    if not can_read_branch(identity, branch.pk):
        raise Http404("no such branch")
    return branch, identity


def register_rows(request, branch_id: int, register) -> tuple:
    """A register (台账) download's common part: the branch (404 to those who may not
    read it), the year asked (`?year=YYYY`, on the branch's clock; None: all), and the
    rows `register(identity, branch_id, year)` gives (403 to those it refuses).
    Returns (branch, year, rows, the site's base URL for the links)."""
    branch, identity = member_branch(request, branch_id)
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and len(raw) == 4 else None
    try:
        rows = register(identity, branch.pk, year)
    except Forbidden:
        raise PermissionDenied from None
    return branch, year, rows, request.build_absolute_uri("/").rstrip("/")


def branch_sections(identity: Identity, branch: Branch, section: str) -> dict:
    """Context for the branch's section tabs (announcements, forum, moderation pages)."""
    member = can_read_branch(identity, branch.pk)
    moderator = can_moderate_branch(identity, branch.pk)
    pending = page_selectors.review_counts(branch.pk).get("pending", 0) if moderator else 0
    context = {
        "branch": branch,
        "section": section,
        "branch_member": member,
        "can_moderate": moderator,
        "pending_reviews": pending,
    }
    if member and identity.is_user and section != "announcements":
        # The announcements tab counts the reader's unread ones, live (nav_unread.js
        # follows the stream from this head on); their own page has its own badge. For
        # a branch of their own the navigation has the count already (branch_unread).
        if Membership.objects.filter(user_id=identity.user_id, branch_id=branch.pk).exists():
            context["nav_unread_own"] = True
            return context
        from announcements import selectors as announcement_selectors
        from announcements.actions import stream_for
        from realtime.models import Stream

        key = stream_for(branch.pk)
        unread = announcement_selectors.unread_by_branch(identity.user_id, [branch.pk])[branch.pk]
        context["nav_unread"] = {
            "branch": branch.pk,
            "stream": key,
            "since": Stream.objects.filter(key=key).values_list("last_seq", flat=True).first() or 0,
            **unread,
            "me": identity.user_id,
        }
    return context


def _may_write(identity: Identity, board) -> bool:
    if not forum_selectors.can_write_board(identity, board):
        return False
    if identity.is_user:
        from moderation.actions import is_silenced

        return not is_silenced(identity.user_id, board.branch_id)
    return True


def _citizen_may_join(identity: Identity, board) -> bool:
    """A visitor with no account yet, on a board where citizens may write."""
    return not identity.is_user and not identity.is_citizen and board.is_public and board.citizens_may_post


def forum_strings() -> dict:
    """Strings the forum scripts show, in the active language."""
    return {
        "preview": forum_text.preview_strings(),
        "actions": forum_text.action_strings(),
        "durations": forum_text.duration_strings(),
        "post_status": forum_text.post_status_strings(),
        "flag_reasons": forum_text.flag_reason_strings(),
        "unread_topics": _("%(count)s unread"),
        "topics_one": _("%(count)s topic"),
        "topics_other": _("%(count)s topics"),
        "posts_one": _("%(count)s post"),
        "posts_other": _("%(count)s posts"),
        "pinned": _("Pinned"),
        "closed": _("Closed"),
        "discussion": _("Topic discussion"),
        "unread": _("Unread"),
        "no_topics": _("No topics yet."),
        "no_posts": _("No posts yet."),
        "edited": _("edited"),
        "history_open": _("Show earlier versions"),
        "history_title": _("Versions of post #%(number)s"),
        "history_version": _("Version %(revision)s"),
        "history_replaced": _("replaced by %(name)s at %(time)s"),
        "history_current": _("current version"),
        "loading": _("Loading…"),
        "load_more_posts": _("Load more posts"),
        "load_more_new": _("Load more posts (%(count)s new)"),
        "load_more_topics": _("Load more topics"),
        "load_more_failed": _("Could not load more:"),
        "censored": _("contains masked words"),
        "reply": _("Reply"),
        "quote": _("Quote"),
        "react": _("React"),
        "flag": _("Flag"),
        "edit": _("Edit"),
        "delete": _("Delete"),
        "confirm_delete": _("Really delete?"),
        "restore": _("Restore"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "select_for_split": _("Select"),
        "reply_to": _("In reply to #%(number)s %(name)s"),
        "replying_to": _("Replying to #%(number)s %(name)s"),
        "quote_intro": _("%(name)s wrote:"),
        "reaction_label": _("%(emoji)s: %(count)s people; press to add or remove yours"),
        "posting": _("Posting…"),
        "queued_offline": _("You are offline. It will be sent as soon as the connection is back."),
        "posted": _("Posted."),
        "posted_pending": _("Posted. It will be shown to others once a moderator approves it."),
        "post_failed": _("Not posted:"),
        "action_failed": _("That did not work:"),
        "slow_mode_wait": _("Slow mode: you can post again in %(seconds)s s."),
        "fix_fields": _("Please correct the highlighted field."),
        "typing_one": _("%(names)s is typing…"),
        "typing_many": _("%(names)s are typing…"),
        "reading": _("Reading now:"),
        "only_you": _("Only you"),
        "people_here": _("%(count)s people"),
        "new_post_live": _("New post by %(name)s"),
        "post_approved": _("A moderator approved your post."),
        "post_rejected": _("A moderator rejected your post: %(reason)s"),
        "post_hidden": _("A moderator hid your post: %(reason)s"),
        "flag_sent": _("Thank you. The moderators will look at it."),
        "flag_sending": _("Sending…"),
        "saving": _("Saving…"),
        "flag_already": _("You have already flagged this post."),
        "flag_note_required": _("Please say what is wrong."),
        "topic_merged": _("This topic was merged into another one."),
        "open_merged": _("Open it"),
        "posts_moved": _("%(count)s posts were moved to another topic."),
        "topic_closed_note": _("This topic is closed: only moderators can post."),
        "discussion_open": _("Open until %(time)s"),
        "discussion_scheduled": _("Opens at %(time)s"),
        "discussion_closed": _("Closed. %(participants)s people took part with %(posts)s posts."),
        "most_reacted": _("Most reacted:"),
        "discussion_counts": _("%(participants)s people taking part · %(posts)s posts"),
        "opening_discussion": _("Opening the discussion…"),
        "discussion_opened": _("The discussion is open."),
        "discussion_failed": _("The discussion was not opened:"),
        "pin": _("Pin"),
        "unpin": _("Unpin"),
        "close": _("Close"),
        "reopen": _("Reopen"),
        "split_selected": _("%(count)s posts selected"),
        "split_none": _("Select the posts to split off first."),
        "done": _("Done."),
        "log_in": _("Log in"),
        "created_topic_pending": _("Your topic was created and awaits review."),
    }


def _topic_row(topic: Topic, unread: set[int], discussions: set[int]) -> dict:
    return {
        **topic.to_dict(),
        "unread": topic.pk in unread,
        "discussion": topic.pk in discussions,
        "last_post_dt": topic.last_post_at,
    }


def board_list(request, branch_id: int):
    branch = get_object_or_404(Branch, pk=branch_id)
    identity = request_identity(request)
    boards = forum_selectors.boards_for(identity, branch.pk)
    if not boards and not can_read_branch(identity, branch.pk):
        raise Http404("no boards to show")
    config = {
        "branch": branch.pk,
        "time_zone": branch.time_zone,
        "boards": boards,
        "me_id": identity.user_id,
    }
    return render(
        request,
        "frontend/forum_boards.html",
        {
            **branch_sections(identity, branch, "forum"),
            "boards": boards,
            "page_config": config,
            "page_strings": forum_strings(),
        },
    )


def _discussion_defaults(branch: Branch) -> dict:
    """The form's suggested times, as wall-clock times in the branch's zone: opening on
    the next full hour, closing a week later (forum.open_discussion reads them so)."""
    from datetime import timedelta

    from django.utils import timezone

    local = timezone.now().astimezone(branch.zone).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    fmt = "%Y-%m-%dT%H:%M"
    return {"opens_at": local.strftime(fmt), "closes_at": (local + timedelta(days=7)).strftime(fmt)}


def board(request, board_id: int):
    identity = request_identity(request)
    try:
        board_obj = forum_selectors.board_for(identity, board_id)
    except NotFound:
        raise Http404("no such board") from None
    topics, read, next_page = page_selectors.board_topics(identity, board_obj)
    unread = {t.pk for t in topics if identity.is_user and t.last_number > read.get(t.pk, 0)}
    discussions = page_selectors.discussion_topic_ids([t.pk for t in topics])
    branch = board_obj.branch
    may_write = _may_write(identity, board_obj)
    can_start_discussion = can_moderate_branch(identity, branch.pk)
    config = {
        "board": board_obj.pk,
        "moderator": can_start_discussion,
        "branch": branch.pk,
        "stream": f"board:{board_obj.pk}",
        "time_zone": branch.time_zone,
        "can_write": may_write,
        "discussions": sorted(discussions),
        "next": next_page,
        "signed_in": identity.is_user,
        "me_id": identity.user_id,
        "read": {str(k): v for k, v in read.items()},
        "login_url": reverse("login"),
    }
    return render(
        request,
        "frontend/forum_board.html",
        {
            **branch_sections(identity, branch, "forum"),
            "board": board_obj,
            "topics": [_topic_row(t, unread, discussions) for t in topics],
            "can_write": may_write,
            "citizen_may_join": _citizen_may_join(identity, board_obj),
            "can_start_discussion": can_start_discussion,
            "has_more": next_page is not None,
            "discussion_defaults": _discussion_defaults(branch) if can_start_discussion else {},
            "title_max": TITLE_MAX,
            "body_max": BODY_MAX,
            "page_config": config,
            "page_strings": forum_strings(),
        },
    )


def topic(request, topic_id: int):
    identity = request_identity(request)
    merged = Topic.objects.filter(pk=topic_id, merged_into__isnull=False).values_list("merged_into", flat=True).first()
    if merged:
        # A merged topic lives on in its target: old links keep working.
        return redirect("forum-topic", topic_id=merged)
    try:
        topic_obj = forum_selectors.topic_for(identity, topic_id)
    except NotFound:
        raise Http404("no such topic") from None
    board_obj = topic_obj.board
    branch = board_obj.branch
    data = page_selectors.topic_page(identity, topic_obj)
    moderator = data.moderator
    may_write = _may_write(identity, board_obj)
    discussion = Discussion.objects.filter(topic=topic_obj).first()
    most_reacted = []
    if discussion and discussion.summary:
        shown = {p["id"]: p for p in data.posts}
        for m in discussion.summary.get("most_reacted", []):
            post = shown.get(m["post"])
            number = m.get("number") or (post and post["number"])
            if number:
                author = m.get("author") or (post["author"]["name"] if post else "")
                most_reacted.append({"number": number, "reactions": m["reactions"], "author": author})
    discussion_dict = discussion_data(discussion) if discussion else None
    posts_by_id = {p["id"]: p for p in data.posts}
    rows = []
    for p in data.posts:
        parent = posts_by_id.get(p["reply_to"]) if p["reply_to"] else None
        rows.append(
            {
                **p,
                "reactions": data.reactions.get(p["id"], {}),
                "parent": parent,
                "created_dt": parse_datetime(p["created_at"]),
                "action_html": forum_text.action_line(p["action"]) if p["kind"] == "small_action" else "",
                "mine": identity.is_user and p["author"]["kind"] == "user" and p["author"]["id"] == identity.user_id,
            }
        )
    config = {
        "topic": topic_obj.pk,
        "board": board_obj.pk,
        "branch": branch.pk,
        "stream": f"topic:{topic_obj.pk}",
        "time_zone": branch.time_zone,
        "me": identity.key if identity.kind != "anonymous" else None,
        "me_id": identity.user_id,
        "me_username": request.user.get_username() if identity.is_user else None,
        "signed_in": identity.is_user,
        "moderator": moderator,
        "can_write": may_write,
        "can_react": identity.is_user and may_write,
        "can_flag": identity.is_user and can_read_branch(identity, branch.pk),
        "emoji": list(Reaction.EMOJI),
        "my_reactions": {str(k): v for k, v in data.my_reactions.items()},
        "has_more": data.has_more,
        "last_read": page_selectors.last_read_number(identity, topic_obj),
        "topic_data": topic_obj.to_dict(),
        "discussion": discussion_dict,
        "login_url": reverse("login"),
        "review_url": reverse("review-queue", args=[branch.pk]) if moderator else None,
    }
    return render(
        request,
        "frontend/forum_topic.html",
        {
            **branch_sections(identity, branch, "forum"),
            "board": board_obj,
            "topic": topic_obj,
            "discussion": discussion,
            "discussion_counts": (discussion_dict or {}).get("counts"),
            "most_reacted": most_reacted,
            "posts": rows,
            "has_more": data.has_more,
            "moderator": moderator,
            "can_write": may_write,
            "silenced": identity.is_user and forum_selectors.can_write_board(identity, board_obj) and not may_write,
            "citizen_may_join": _citizen_may_join(identity, board_obj) and not topic_obj.closed,
            "move_boards": page_selectors.boards_to_move_to(identity, topic_obj) if moderator else [],
            "merge_topics": page_selectors.merge_candidates(topic_obj) if moderator else [],
            "slow_mode_label": forum_text.format_duration(topic_obj.slow_mode_seconds),
            "slow_mode_choices": [(s, forum_text.format_duration(s) if s else _("Off")) for s in SLOW_MODE_CHOICES],
            "emoji": Reaction.EMOJI,
            "flag_reasons": forum_text.flag_reason_strings(),
            "post_status": forum_text.post_status_strings(),
            "body_max": BODY_MAX,
            "title_max": TITLE_MAX,
            "page_config": config,
            "page_strings": forum_strings(),
        },
    )


SEARCH_PAGE = 20


def search(request):
    identity = request_identity(request)
    q = request.GET.get("q", "").strip()[:200]
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    hits = forum_selectors.search_posts(identity, q, limit=SEARCH_PAGE, offset=offset) if q else []
    branch = None
    branch_id = request.GET.get("branch", "")
    if branch_id.isdigit():
        branch = Branch.objects.filter(pk=int(branch_id)).first()
    context = {
        "q": q,
        "hits": hits,
        "offset": offset,
        "next_offset": offset + SEARCH_PAGE if len(hits) == SEARCH_PAGE else None,
        "prev_offset": max(0, offset - SEARCH_PAGE) if offset else None,
    }
    if branch is not None and (
        can_read_branch(identity, branch.pk) or page_selectors.readable_boards(identity, branch.pk)
    ):
        context.update(branch_sections(identity, branch, "forum"))
    return render(request, "frontend/forum_search.html", context)
