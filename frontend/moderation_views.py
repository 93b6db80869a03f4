"""Moderators' pages: the review queue (审核队列), watched words (敏感词), the audit log (操作日志).

Only moderators and secretaries of the branch (and secretaries above it) may open
them; everyone else gets 404, as the `modqueue` stream answers.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.api import request_identity
from accounts.models import Branch
from accounts.selectors import can_moderate_branch
from forum.models import Post
from meetings import selectors as meeting_selectors
from meetings.models import ChatMessage, Exclusion, Meeting, Vote
from moderation import selectors as moderation_selectors
from moderation.models import ReviewItem, WatchedWord
from moderation.watched_words import MAX_PATTERN_LENGTH

from . import forum_text
from . import selectors as page_selectors
from .forum_views import branch_sections, forum_strings

AUDIT_PAGE = 50


def _moderated_branch(request, branch_id: int) -> Branch:
    branch = get_object_or_404(Branch, pk=branch_id)
    if not can_moderate_branch(request_identity(request), branch.pk):
        raise Http404("not a moderator here")
    return branch


def review_strings() -> dict:
    return {
        **forum_strings(),
        "item_status": forum_text.item_status_strings(),
        "reasons": forum_text.review_reason_strings(),
        "decisions": forum_text.decision_strings(),
        "decisions_done": forum_text.decision_done_strings(),
        "reason_label": _("Reason (the author is told)"),
        "reason_optional_label": _("Reason (optional; the author is told)"),
        "reason_required": _("Please give the author a reason."),
        "silence_days": _("Days"),
        "confirm": _("Confirm"),
        "edit_label": _("Text to publish"),
        "conflict": _(
            "Another moderator acted on this item first. It is now: %(status)s%(by)s. Look again before you decide."
        ),
        "conflict_by": _(" (by %(name)s)"),
        "decided": _("Done: %(decision)s."),
        "new_item": _("New item in the queue"),
        "updated_by_other": _("%(name)s just acted on this item."),
        "target_missing": _("The content is not available; reload the page to see it."),
        "score": _("Score %(score)s"),
        "empty_queue": _("Nothing to review. Well done!"),
        "author_label": _("by %(name)s"),
        "post_is": _("The post is: %(status)s"),
        "history": _("History"),
        "load_more_items": _("Load more items"),
        "load_more_new_items": _("Load more items (%(count)s new)"),
    }


@login_required
def review_queue(request, branch_id: int):
    branch = _moderated_branch(request, branch_id)
    identity = request_identity(request)
    status = request.GET.get("status", "pending")
    if status not in ReviewItem.Status.values and status != "all":
        status = "pending"
    items, next_page = moderation_selectors.queue_page(identity, branch.pk, status=None if status == "all" else status)
    counts = page_selectors.review_counts(branch.pk)
    strings = review_strings()
    for item in items:
        item["reason_lines"] = [forum_text.describe_review_reason(r) for r in item["reasons"]]
    filters = [(key, label, counts.get(key, 0)) for key, label in forum_text.item_status_strings().items()]
    config = {
        "branch": branch.pk,
        "stream": f"modqueue:{branch.pk}",
        "time_zone": branch.time_zone,
        "status": status,
        "me": identity.key,
        "items": [{k: v for k, v in item.items() if k != "reason_lines"} for item in items],
        "next": next_page,
    }
    return render(
        request,
        "frontend/review_queue.html",
        {
            **branch_sections(identity, branch, "review"),
            "items": items,
            "has_more": next_page is not None,
            "status": status,
            "filters": filters,
            "total": sum(counts.values()),
            "page_config": config,
            "page_strings": strings,
        },
    )


@login_required
def watched_words(request, branch_id: int):
    branch = _moderated_branch(request, branch_id)
    identity = request_identity(request)
    words = moderation_selectors.watched_words(identity, branch.pk)
    actions = forum_text.watched_action_strings()
    config = {"branch": branch.pk, "words": words}
    strings = {
        "actions": actions,
        "global": _("All branches"),
        "remove": _("Remove"),
        "confirm_remove": _("Really remove?"),
        "empty": _("No watched words yet."),
        "adding": _("Adding…"),
        "added": _("Added “%(pattern)s”."),
        "removed": _("Removed “%(pattern)s”."),
        "failed": _("That did not work:"),
        "fix_fields": _("Please correct the highlighted field."),
        "case_sensitive": _("case sensitive"),
    }
    return render(
        request,
        "frontend/watched_words.html",
        {
            **branch_sections(identity, branch, "watched_words"),
            "words": words,
            "actions": actions,
            "action_help": forum_text.watched_action_help(),
            "action_choices": WatchedWord.Action.values,
            "pattern_max": MAX_PATTERN_LENGTH,
            "page_config": config,
            "page_strings": strings,
        },
    )


def _audit_fields() -> dict[str, str]:
    return {
        "status": _("status"),
        "reason": _("reason"),
        "pinned": _("pinned"),
        "closed": _("closed"),
        "seconds": _("slow mode (seconds)"),
        "board": _("board"),
        "board_name": _("board"),
        "topic": _("topic"),
        "from_topic": _("from topic"),
        "from_title": _("from topic"),
        "posts": _("posts"),
        "source": _("text"),
        "pattern": _("word or phrase"),
        "action": _("action"),
        "case_sensitive": _("case sensitive"),
        # meetings
        "user": _("member"),
        "vote": _("vote"),
        "kind": _("kind"),
        "secret": _("secret ballot"),
        "present": _("voting members present"),
        "expected": _("voting members expected"),
        "passed": _("passed"),
        "message": _("message"),
        # announcements
        "title": _("title"),
        "body": _("text"),
    }


# Long texts (an announcement's body) are cut in the table; the whole is in the database.
AUDIT_VALUE_MAX = 200


class _AuditRefs:
    """The names behind the ids a page of audit entries mentions (members, votes,
    meetings), fetched once per page, not per row."""

    def __init__(self, entries: list[dict]):
        # The page's words, built once for all its rows.
        self.fields = _audit_fields()
        self.targets = forum_text.target_type_strings()
        self.labels = {
            **forum_text.post_status_strings(),
            **forum_text.item_status_strings(),
            **forum_text.watched_action_strings(),
            **{k: str(v) for k, v in Vote.Kind.choices},
            **{k: str(v) for k, v in Exclusion.Reason.choices},
        }
        users, votes, meetings, chats, posts = set(), set(), set(), set(), set()
        by_type = {"meetings.meeting": meetings, "meetings.chat": chats, "forum.post": posts}
        for e in entries:
            for data in (e["before"], e["after"]):
                if isinstance(data, dict):
                    if isinstance(data.get("user"), int):
                        users.add(data["user"])
                    if isinstance(data.get("vote"), int):
                        votes.add(data["vote"])
            if e["target_id"] and e["target_type"] in by_type:
                by_type[e["target_type"]].add(e["target_id"])
        self.users = meeting_selectors._names(users) if users else {}
        self.votes = dict(Vote.objects.filter(pk__in=votes).values_list("pk", "title")) if votes else {}
        self.chat_meetings = (
            dict(ChatMessage.objects.filter(pk__in=chats).values_list("pk", "meeting_id")) if chats else {}
        )
        meetings |= set(self.chat_meetings.values())
        self.meetings = dict(Meeting.objects.filter(pk__in=meetings).values_list("pk", "title")) if meetings else {}
        self.post_places = (
            {pk: (topic_id, number) for pk, topic_id, number in
             Post.objects.filter(pk__in=posts).values_list("pk", "topic_id", "number")}
            if posts else {}
        )

    def value(self, key: str, value) -> str:
        if key == "user" and value in self.users:
            return self.users[value]
        if key == "vote" and value in self.votes:
            return f"“{self.votes[value]}”"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, str):
            value = self.labels.get(value, value)
            return value if len(value) <= AUDIT_VALUE_MAX else value[:AUDIT_VALUE_MAX] + "…"
        return json.dumps(value, ensure_ascii=False)

    def line(self, data) -> str:
        """Before/after of an audit entry as "field: value; ..." in the page's language."""
        if not data:
            return ""
        if not isinstance(data, dict):
            return json.dumps(data, ensure_ascii=False)
        parts = [
            f"{self.fields.get(k, k)}: {self.value(k, v)}"
            for k, v in data.items()
            if v not in ("", None) and k not in ("id", "branch")
        ]
        return "; ".join(parts)

    def target(self, entry: dict) -> tuple[str, str]:
        """(what the entry acted on, in words; its page, or "")."""
        kind, pk = entry["target_type"], entry["target_id"]
        label = self.targets.get(kind, kind)
        if kind == "forum.topic":
            return f"{label} {pk}", reverse("forum-topic", args=[pk])
        if kind == "forum.post" and pk in self.post_places:
            topic_id, number = self.post_places[pk]
            return f"{label} {pk}", f"{reverse('forum-topic', args=[topic_id])}#post-{number}"
        if kind == "meetings.meeting" and pk in self.meetings:
            return f"{label}“{self.meetings[pk]}”", reverse("meetings:meeting", args=[pk])
        if kind == "accounts.member":
            return f"{label} {self.users.get(pk, pk)}", reverse("members", args=[entry["branch"]])
        if kind in ("announcements.announcement", "announcements.scheduled"):
            return f"{label} {pk}", reverse("announcements", args=[entry["branch"]])
        if kind == "meetings.chat" and pk in self.chat_meetings:
            meeting_id = self.chat_meetings[pk]
            return f"{label} {pk} · “{self.meetings.get(meeting_id, '')}”", reverse("meetings:meeting", args=[meeting_id])
        return f"{label} {pk if pk is not None else ''}".strip(), ""


def _audit_label(entry: dict, labels: dict[str, str]) -> str:
    action = entry["action"]
    if action in ("meeting.mute", "meeting.unmute") and not (entry["after"] or {}).get("user"):
        action += "_all"  # no one named: the whole room
    return labels.get(action, action)


@login_required
def audit_log(request, branch_id: int):
    branch = _moderated_branch(request, branch_id)
    identity = request_identity(request)
    action = request.GET.get("action", "")[:64]
    before_raw = request.GET.get("before", "")
    before = int(before_raw) if before_raw.isdigit() else None
    entries = moderation_selectors.audit_log(
        identity, branch.pk, action=action or None, before=before, limit=AUDIT_PAGE
    )
    labels = forum_text.audit_action_strings()
    refs = _AuditRefs(entries)
    rows = []
    for e in entries:
        target, url = refs.target(e)
        rows.append(
            {
                "entry": e,
                "at": parse_datetime(e["created_at"]),
                "label": _audit_label(e, labels),
                "target": target,
                "target_url": url,
                "before": refs.line(e["before"]),
                "after": refs.line(e["after"]),
            }
        )
    known = page_selectors.audit_actions(branch.pk)
    # Group filters: "review" covers every review decision, "topic" every topic tool.
    groups = sorted({a.split(".")[0] for a in known})
    group_labels = {
        "review": _("Review queue"),
        "topic": _("Topic tools"),
        "post": _("Posts"),
        "watched_word": _("Watched words"),
        "watched_words": _("Watched words"),
        "discussion": _("Topic discussion"),
        "meeting": _("Meetings"),
        "announcement": _("Announcements"),
    }
    filters = [(g, group_labels.get(g, g)) for g in groups] + [(a, labels.get(a, a)) for a in known]
    return render(
        request,
        "frontend/audit_log.html",
        {
            **branch_sections(identity, branch, "audit"),
            "rows": rows,
            "action": action,
            "filters": filters,
            "older": entries[-1]["id"] if len(entries) == AUDIT_PAGE else None,
            "before": before,
        },
    )
