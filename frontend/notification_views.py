"""提醒: the member's notifications page, in words and with links, and the header bell's
starting point (accounts/notifications.py keeps what counts as one)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts import notification_mail, notifications
from accounts.api import request_identity
from accounts.streams import inbox_stream
from realtime.streams import keep_days

from .context_processors import readable_branches
from .notification_text import describe


@login_required
def notifications_page(request):
    identity = request_identity(request)
    before_raw = request.GET.get("before", "")
    before = int(before_raw) if before_raw.isdigit() and len(before_raw) < 19 else None
    kind = request.GET.get("kind", "")
    kind = kind if kind in notifications.GROUPS else ""
    events = notifications.recent(identity, limit=notifications.PAGE, before=before,
                                  types=notifications.GROUPS[kind] if kind else notifications.TYPES)
    seen = notifications.read_seq(identity.user_id)
    items = describe(events)
    for item in items:
        item["unread"] = item["seq"] > seen
    branches = readable_branches(request.user)
    zone = branches[0].time_zone if branches else settings.TIME_ZONE
    return render(
        request,
        "frontend/notifications.html",
        {
            "items": items,
            "zone": zone,
            "retention_days": keep_days(inbox_stream(identity.user_id)),
            "by_mail": _by_mail(request.user),
            "mail_minutes": notification_mail.delay_minutes(),
            "before": before,
            "older": events[-1].seq if len(events) >= notifications.PAGE else None,
            "kind": kind,
            "kinds": [(key, label, key == kind) for key, label in _kind_labels()],
            # Only the newest page of them all marks them seen (an older page, or one
            # kind, leaves others unseen).
            "page_config": {"head": events[0].seq if events and before is None and not kind else 0,
                            "unread": sum(i["unread"] for i in items) if before is None and not kind else 0},
            "page_strings": {
                "new_ones": _("New notifications have arrived."),
                "reload": _("Show them"),
                "desktop_unsupported": _("This browser cannot show desktop notifications."),
                "desktop_insecure": _("Desktop notifications need an HTTPS connection to this site."),
                "desktop_denied": _("This browser blocks desktop notifications from this site. "
                                    "To get them, allow notifications in the browser's site settings."),
                "desktop_ask": _("While a Branchline page is open in the background, new notifications "
                                 "and announcements can pop up on your desktop."),
                "desktop_off": _("Desktop notifications are off in this browser."),
                "desktop_on": _("Desktop notifications are on in this browser: while a Branchline page is open "
                                "in the background, new notifications and announcements pop up on your desktop."),
                "switch_on": _("Turn on desktop notifications"),
                "switch_off": _("Turn off desktop notifications"),
            },
        },
    )


def _kind_labels() -> list[tuple[str, str]]:
    return [("", _("All")), ("mentions", _("Mentions")), ("meetings", _("Meetings")),
            ("posts", _("My posts")), ("discussions", _("Discussions")), ("reminders", _("Reminders to read")),
            ("greetings", _("Greetings")), ("membership", _("Party membership")), ("security", _("Account security"))]


def _by_mail(user) -> str:
    """Whether this member's unread notifications reach their mail: "" (the server sends
    none), "no_address", "off" (every kind unticked) or "on"."""
    if not settings.SENDS_EMAIL:
        return ""
    if not user.email:
        return "no_address"
    return "on" if notification_mail.wanted_types(user.pk) else "off"
