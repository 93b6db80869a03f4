"""Notifications in words, with a link each: for the notifications page and for the
desktop notifications a member's browser shows (`notifications.recent`). The inbox's
events carry ids and a little context; titles and places are looked up here, in the
active language."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import security


def _quoted(title) -> str:
    return f"“{title}”" if title else _("a topic")


def describe(events) -> list[dict]:
    """Each notification as {seq, type, text, url, at}. Titles and places that the
    events do not carry are fetched once for the whole page."""
    from forum.models import Post, Topic
    from meetings.models import Meeting

    post_ids = {e.data.get("post") for e in events if e.type.startswith("post.") or e.type == "mention"}
    posts = {
        pk: (topic_id, number, title)
        for pk, topic_id, number, title in Post.objects.filter(pk__in=post_ids - {None}).values_list(
            "pk", "topic_id", "number", "topic__title")
    }
    topic_ids = {e.data.get("topic") for e in events if e.type == "discussion.opened"}
    topics = dict(Topic.objects.filter(pk__in=topic_ids - {None}).values_list("pk", "title"))
    leave_meetings = {e.data.get("meeting") for e in events if e.type.startswith("leave.")}
    meetings = dict(Meeting.objects.filter(pk__in=leave_meetings - {None}).values_list("pk", "title"))

    items = []
    for e in events:
        data = e.data or {}
        text, url = "", ""
        if e.type == "mention" or e.type.startswith("post."):
            topic_id, number, title = posts.get(data.get("post"), (data.get("topic"), None, data.get("title")))
            url = reverse("forum-topic", args=[topic_id]) + (f"#post-{number}" if number else "") if topic_id else ""
            values = {"title": _quoted(title), "reason": data.get("reason") or "",
                      "name": (data.get("by") or {}).get("name", "")}
            text = {
                "mention": _("%(name)s mentioned you in %(title)s"),
                "post.approved": _("Your post in %(title)s was approved."),
                "post.rejected": _("Your post in %(title)s was not approved. %(reason)s"),
                "post.hidden": _("Your post in %(title)s was hidden. %(reason)s"),
            }[e.type] % values
        elif e.type == "discussion.opened":
            url = reverse("forum-topic", args=[data.get("topic")]) if data.get("topic") else ""
            text = _("A topic discussion has opened: %(title)s") % {
                "title": _quoted(topics.get(data.get("topic"), data.get("title")))}
        elif e.type.startswith("leave."):
            meeting_id = data.get("meeting")
            url = reverse("meetings:meeting", args=[meeting_id]) if meeting_id else ""
            values = {"name": (data.get("user") or {}).get("name", ""), "title": _quoted(meetings.get(meeting_id)),
                      "reason": data.get("reason") or "", "note": data.get("decision_note") or ""}
            if e.type == "leave.requested":
                text = _("%(name)s asked for leave from %(title)s. %(reason)s") % values
            elif data.get("status") == "approved":
                text = _("Your leave from %(title)s was approved. %(note)s") % values
            else:
                text = _("Your leave from %(title)s was not approved. %(note)s") % values
        elif e.type == "party.anniversary":
            branch = data.get("branch") or {}
            url = reverse("branch-overview", args=[branch["id"]]) if branch.get("id") else ""
            years = data.get("years") or 0
            # The words the branch's front page greets them with (overview.html).
            text = ngettext("Today is your political birthday: you joined the party on %(day)s, %(years)s year ago.",
                            "Today is your political birthday: you joined the party on %(day)s, %(years)s years ago.",
                            years) % {"day": data.get("since") or "", "years": years}
        elif e.type in ("party.full_member", "party.probation_extended", "party.probation_ending"):
            branch = data.get("branch") or {}
            url = reverse("branch-overview", args=[branch["id"]]) if branch.get("id") else ""
            values = {"branch": branch.get("name", ""),
                      "day": data.get("from") or data.get("until") or data.get("ends") or ""}
            if e.type == "party.probation_ending":
                text = _("Your probationary period in %(branch)s ends on %(day)s: hand the branch your written "
                         "request to become a full member (转正申请) before then.") % values
            elif e.type == "party.probation_extended":
                text = _("Your probationary period in %(branch)s has been extended to %(day)s.") % values
            elif data.get("from"):
                text = _("You are now a full member of the party in %(branch)s, from %(day)s.") % values
            else:
                text = _("You are now a full member of the party in %(branch)s.") % values
        elif e.type.startswith("meeting."):
            meeting = data.get("meeting") or {}
            url = reverse("meetings:meeting", args=[meeting["id"]]) if meeting.get("id") else ""
            when = ""
            if meeting.get("starts_local"):
                when = datetime.fromisoformat(meeting["starts_local"]).strftime("%Y-%m-%d %H:%M")
            by = (data.get("by") or {}).get("name", "")
            if e.type == "meeting.attendance_mended":
                e_type = "meeting.attendance_mended" if data.get("in_room") else "meeting.attendance_taken_back"
            else:
                e_type = e.type
            if e_type == "meeting.minutes_to_sign" and meeting.get("id"):
                url = reverse("meetings:minutes", args=[meeting["id"]]) + "#minutes-signatures"
            text = {
                "meeting.attendance_mended": _("%(by)s recorded that you were in the room at %(title)s"),
                "meeting.attendance_taken_back": _("%(by)s took back your check-in at %(title)s"),
                "meeting.scheduled": _("Meeting scheduled: %(title)s, %(when)s"),
                "meeting.changed": _("Meeting changed: %(title)s, %(when)s"),
                "meeting.cancelled": _("Meeting cancelled: %(title)s"),
                "meeting.opened": _("The meeting has started: %(title)s"),
                "meeting.reminder": _("Reminder: %(title)s begins at %(when)s"),
                "meeting.admitted": _("You were let in to %(title)s"),
                "meeting.denied": _("You were not let in to %(title)s"),
                "meeting.removed": _("You were removed from %(title)s"),
                "meeting.minutes_to_sign": _("%(title)s has ended: check its minutes and sign them"),
            }[e_type] % {"title": _quoted(meeting.get("title")), "when": when, "by": by}
        elif e.type == "announcement.reminder":
            url = reverse("announcement", args=[data["announcement"]]) if data.get("announcement") else ""
            text = _("%(name)s reminds you to read the announcement %(title)s") % {
                "name": (data.get("by") or {}).get("name", ""), "title": _quoted(data.get("title"))}
        elif e.type == "announcement.schedule_failed":
            url = reverse("announcements", args=[data["branch"]]) if data.get("branch") else ""
            text = _("Your announcement %(title)s, scheduled for later, was not published: %(problem)s") % {
                "title": _quoted(data.get("title")), "problem": data.get("problem", "")}
        elif e.type.startswith("security."):
            what, _advice = security.text(e.type, data)
            source = security.where(data)
            text = _("%(what)s From: %(where)s") % {"what": what, "where": source} if source else what
            anchor = {security.NEW_BROWSER: "#devices", security.TWO_FACTOR_ON: "#two-factor",
                      security.TWO_FACTOR_OFF: "#two-factor", security.RECOVERY_CODES: "#two-factor",
                      security.RECOVERY_USED: "#two-factor", security.PASSKEY_ADDED: "#passkeys",
                      security.PASSKEY_REMOVED: "#passkeys", security.DATA_EXPORTED: "#my-data",
                      security.CALENDAR_LINK: "#calendar"}.get(e.type, "")
            url = reverse("account") + anchor
        items.append({"seq": e.seq, "type": e.type, "text": text.strip(), "url": url, "at": e.created_at})
    return items
