"""The words the forum and moderation pages show, in the active language.

Events carry data, not sentences (a small action is `{"type": "pinned", "by": ...}`),
so the page turns them into text in the reader's language. The same strings are used
by the server-rendered HTML and, passed as JSON, by the scripts: one wording for both.
"""

from __future__ import annotations

import re

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def action_strings() -> dict[str, str]:
    """Small-action lines (moderators' topic tools), keyed by action type."""
    return {
        "pinned": _("%(by)s pinned this topic"),
        "unpinned": _("%(by)s unpinned this topic"),
        "closed": _("%(by)s closed this topic"),
        "opened": _("%(by)s reopened this topic"),
        "slow_mode": _("%(by)s turned on slow mode: one post per person every %(duration)s"),
        "slow_mode_off": _("%(by)s turned off slow mode"),
        "moved": _("%(by)s moved this topic to %(board)s"),
        "merged": _("%(by)s merged %(posts)s posts from “%(title)s” into this topic"),
        "split": _("%(by)s split %(posts)s posts into a new topic: %(title)s"),
        "other": _("%(by)s changed this topic"),
    }


def duration_strings() -> dict[str, str]:
    return {
        "seconds": _("%(n)s s"),
        "minutes": _("%(n)s min"),
        "hours": _("%(n)s h"),
    }


def format_duration(seconds: int) -> str:
    units = duration_strings()
    if seconds and seconds % 3600 == 0:
        return units["hours"] % {"n": seconds // 3600}
    if seconds and seconds % 60 == 0:
        return units["minutes"] % {"n": seconds // 60}
    return units["seconds"] % {"n": seconds}


def _action_key(action: dict) -> str:
    kind = action.get("type", "")
    if kind == "slow_mode" and not action.get("seconds"):
        return "slow_mode_off"
    return kind if kind in action_strings() else "other"


def action_line(action: dict | None) -> SafeString:
    """A small action as HTML: the sentence, with the topic or board it names as a link."""
    action = action or {}
    key = _action_key(action)
    template = action_strings()[key]
    values: dict[str, SafeString] = {
        "by": format_html('<span class="actor">{}</span>', action.get("by", "")),
        "duration": format_html("{}", format_duration(int(action.get("seconds") or 0))),
        "posts": format_html("{}", action.get("posts", "")),
        "board": format_html(
            '<a href="/forum/boards/{}/">{}</a>', action.get("board", ""), action.get("board_name", "")
        )
        if action.get("board")
        else format_html("{}", action.get("board_name", "")),
        "title": format_html("{}", action.get("from_title", "")),
    }
    if key == "split" and action.get("to_topic"):
        values["title"] = format_html(
            '<a href="/forum/topics/{}/">{}</a>', action["to_topic"], action.get("to_title", "")
        )
    # Escape the template's own text, then put the (already escaped) values in.
    parts = _PLACEHOLDER.split(template)
    out = []
    for index, part in enumerate(parts):
        out.append(values.get(part, format_html("{}", "")) if index % 2 else format_html("{}", part))
    return mark_safe("".join(out))


def post_status_strings() -> dict[str, str]:
    return {
        "visible": _("Published"),
        "pending": _("Awaiting review"),
        "hidden": _("Hidden"),
        "rejected": _("Rejected"),
        "deleted": _("Deleted"),
    }


def item_status_strings() -> dict[str, str]:
    return {
        "pending": _("Pending"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
        "ignored": _("Ignored"),
    }


def flag_reason_strings() -> dict[str, str]:
    return {
        "spam": _("Spam"),
        "offensive": _("Offensive"),
        "off_topic": _("Off topic"),
        "other": _("Other"),
    }


def review_reason_strings() -> dict[str, str]:
    return {
        "new_member": _("One of a new member's first posts"),
        "citizen": _("Posted by a citizen"),
        "watched_word": _("Contains watched words: %(words)s"),
        "watched_word_flag": _("Contains flagged watched words: %(words)s"),
        "flag": _("Flagged by %(by)s: %(flag)s"),
        "other": _("Queued for review"),
        "after_edit": _("after an edit"),
    }


def describe_review_reason(reason: dict) -> str:
    strings = review_reason_strings()
    kind = reason.get("reason", "")
    template = strings.get(kind, strings["other"])
    text = template % {
        "words": "、".join(reason.get("words") or []),
        "by": reason.get("by", ""),
        "flag": flag_reason_strings().get(reason.get("flag", ""), reason.get("flag", "")),
    }
    if kind == "flag" and reason.get("note"):
        text = f"{text} · {reason['note']}"
    if reason.get("edit"):
        text = f"{text} · {_('after an edit')}"
    return text


def decision_strings() -> dict[str, str]:
    return {
        "approve": _("Approve"),
        "reject": _("Reject"),
        "edit_approve": _("Edit and approve"),
        "hide": _("Hide"),
        "restore": _("Restore"),
        "delete": _("Delete"),
        "ignore": _("Ignore"),
        "silence": _("Silence the author"),
    }


def decision_done_strings() -> dict[str, str]:
    """History lines: what a moderator did to an item."""
    return {
        "approve": _("%(name)s approved"),
        "reject": _("%(name)s rejected"),
        "edit_approve": _("%(name)s edited and approved"),
        "hide": _("%(name)s hid the post"),
        "restore": _("%(name)s restored the post"),
        "delete": _("%(name)s deleted the post"),
        "ignore": _("%(name)s ignored the flags"),
        "silence": _("%(name)s silenced the author"),
    }


def watched_action_strings() -> dict[str, str]:
    # A context: "Flag" the watched-word action is 标记, not the 举报 button.
    return {
        "block": pgettext("watched word action", "Block"),
        "require_approval": pgettext("watched word action", "Require approval"),
        "flag": pgettext("watched word action", "Flag"),
        "censor": pgettext("watched word action", "Censor"),
    }


def watched_action_help() -> dict[str, str]:
    return {
        "block": _("The post is refused and the author is told which words."),
        "require_approval": _("The post waits in the review queue."),
        "flag": _("The post is published and put in the review queue."),
        "censor": _("The word is masked (■) for everyone but moderators."),
    }


def audit_action_strings() -> dict[str, str]:
    strings = {
        "post.edit": _("Edited a post"),
        "post.delete": _("Deleted a post"),
        "post.restore": _("Restored a post"),
        "topic.pinned": _("Pinned a topic"),
        "topic.unpinned": _("Unpinned a topic"),
        "topic.closed": _("Closed a topic"),
        "topic.opened": _("Reopened a topic"),
        "topic.slow_mode": _("Set slow mode"),
        "topic.moved": _("Moved a topic"),
        "topic.merged": _("Merged topics"),
        "topic.split": _("Split a topic"),
        "discussion.close": _("Ended a topic discussion early"),
        "watched_word.add": _("Added a watched word"),
        "watched_word.remove": _("Removed a watched word"),
        "watched_words.add": _("Added a watched word"),
        "watched_words.remove": _("Removed a watched word"),
        "announcement.edit": _("Corrected an announcement"),
        "announcement.withdraw": _("Withdrew an announcement"),
        "announcement.pin": _("Pinned an announcement"),
        "announcement.unpin": _("Unpinned an announcement"),
        "announcement.remind": _("Reminded members to read an announcement"),
        "announcement.schedule": _("Scheduled an announcement for later"),
        "announcement.reschedule": _("Changed an announcement scheduled for later"),
        "announcement.unschedule": _("Cancelled an announcement scheduled for later"),
        "member.password_link": _("Gave a member a link to set a new password"),
        "member.add": _("Added a member"),
        "member.roles": _("Changed a member's standing"),
        "member.remove": _("Took a member off the branch"),
        "member.name": _("Corrected a member's name"),
        "member.joined_party": _("Recorded the day a member joined the party"),
        "member.probation_extended": _("Recorded an extended probationary period"),
        "member.rights_suspended": _("Suspended or restored a member's rights to vote, elect and be elected"),
    }
    for decision, label in decision_strings().items():
        strings[f"review.{decision}"] = pgettext("audit log", "Review: %(decision)s") % {"decision": label}
    strings.update(meeting_audit_strings())
    return strings


def meeting_audit_strings() -> dict[str, str]:
    """What hosts did in a meeting (`meetings.actions._audit`), as the audit log says it."""
    return {
        "meeting.start": _("Started a meeting"),
        "meeting.end": _("Ended a meeting"),
        "meeting.cancel": _("Cancelled a meeting"),
        "meeting.admit": _("Admitted someone from the lobby"),
        "meeting.deny": _("Turned someone away from the lobby"),
        "meeting.lock": _("Locked a meeting"),
        "meeting.unlock": _("Unlocked a meeting"),
        "meeting.remove": _("Removed someone from a meeting"),
        "meeting.mute": _("Muted someone"),
        "meeting.mute_all": _("Muted everyone"),
        "meeting.unmute": _("Unmuted someone"),
        "meeting.unmute_all": _("Unmuted everyone"),
        "meeting.chat.hide": _("Hid a meeting chat message"),
        "meeting.exclude": _("Left a member out of the expected count"),
        "meeting.unexclude": _("Counted a member as expected again"),
        "meeting.vote.create": _("Prepared a vote"),
        "meeting.vote.written_opinion": _("Entered a written opinion"),
        "meeting.vote.hands": _("Entered a vote shown by hands in the room"),
        "meeting.vote.paper_issue": _("Handed out paper ballots in the room"),
        "meeting.vote.paper_take_back": _("Took back an unused paper ballot"),
        "meeting.vote.paper_count": _("Entered the count of the ballot box"),
        "meeting.vote.open": _("Opened a vote"),
        "meeting.vote.close": _("Closed a vote"),
        "meeting.check_in": _("Checked someone in in the room"),
        "meeting.check_out": _("Recorded that someone left the room"),
        "meeting.check_in_undone": _("Took back a check-in made by mistake"),
        "meeting.check_in_after": _("Recorded after the meeting that someone was in the room"),
        "meeting.minutes.sign": _("Signed the minutes"),
        "meeting.minutes.reopen": _("Reopened signed minutes"),
    }


def target_type_strings() -> dict[str, str]:
    return {
        "forum.post": _("post"),
        "forum.topic": _("topic"),
        "moderation.watched_word": _("watched word"),
        "meetings.meeting": _("meeting"),
        "meetings.chat": _("meeting chat message"),
        "announcements.announcement": _("announcement"),
        "announcements.scheduled": _("scheduled announcement"),
        "accounts.member": _("member"),
    }


def preview_strings() -> dict[str, str]:
    """The Write / Preview tabs (write_form.js bindPreview), on every page that has them."""
    return {
        "empty": _("Nothing to preview yet."),
        "offline": _("Offline: shown as typed. The preview formats it once the connection is back."),
        "failed": _("No preview:"),
    }
