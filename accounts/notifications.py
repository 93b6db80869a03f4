"""提醒: what a member's inbox (`inbox:<user>`) tells them that they would want to find
again later, not only see live on the page they happen to have open: mentions, what a
moderator decided about their posts, topic discussions opening, meetings, a
secretary's reminder to read an announcement, and an announcement of their own,
scheduled for later, that could not be published, and every change to how their
account is entered (accounts/security.py).

The inbox's event log is the record (no second table): the bell counts those events
after the member's marker, and the notifications page lists the newest of them; what
is still unread a while later may be mailed (accounts/notification_mail.py). They
are kept as long as the inbox keeps its events: 90 days (NOTIFICATIONS_KEEP_DAYS,
accounts/streams.py), or EVENT_RETENTION_DAYS where that is longer. Other
inbox events (read markers that keep tabs in step) are not notifications.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.errors import Invalid
from realtime.events import append_event
from realtime.models import Event, ReadMarker, Stream

from . import security
from .identity import Identity, member_id
from .streams import inbox_stream

TYPES = (
    "mention",
    "post.approved",
    "post.rejected",
    "post.hidden",
    "discussion.opened",
    "meeting.scheduled",
    "meeting.changed",
    "meeting.cancelled",
    "meeting.opened",
    "meeting.reminder",
    "meeting.admitted",
    "meeting.denied",
    "meeting.removed",
    "meeting.attendance_mended",
    "meeting.minutes_to_sign",
    "leave.requested",
    "leave.decided",
    "announcement.reminder",
    "announcement.schedule_failed",
    "party.anniversary",
    "party.full_member",
    "party.probation_extended",
    "party.probation_ending",
    *security.TYPES,
)
PAGE = 50
# Kinds of notification, as the notifications page picks them out and 我的账号 chooses
# which come by mail (accounts/notification_mail.py).
GROUPS = {
    "mentions": ("mention",),
    "meetings": ("meeting.scheduled", "meeting.changed", "meeting.cancelled", "meeting.opened", "meeting.reminder",
                 "meeting.admitted", "meeting.denied", "meeting.removed", "meeting.attendance_mended",
                 "meeting.minutes_to_sign", "leave.requested", "leave.decided"),
    "posts": ("post.approved", "post.rejected", "post.hidden", "announcement.schedule_failed"),
    "discussions": ("discussion.opened",),
    "reminders": ("announcement.reminder",),
    "greetings": ("party.anniversary",),
    "membership": ("party.full_member", "party.probation_extended", "party.probation_ending"),
    "security": security.TYPES,
}


def send(user_ids, type_: str, data: dict, *, actor: Identity | None = None) -> None:
    """Put a notification in each member's inbox (in the caller's transaction): live on
    their pages, counted by their bell, and mailed if still unread a while later and
    they want that kind by mail (accounts/notification_mail.py). The security notices
    go through accounts/security.py, which mails them at once."""
    from . import notification_mail

    if type_ not in TYPES:
        raise ValueError(f"not a notification type: {type_}")
    now = timezone.now()
    seqs = {user_id: append_event(inbox_stream(user_id), type_, data, actor=actor).seq
            for user_id in sorted(set(user_ids))}
    notification_mail.schedule(seqs, type_, now)


def read_seq(user_id: int) -> int:
    marker = ReadMarker.objects.filter(user_id=user_id, stream=inbox_stream(user_id)).values_list("seq", flat=True)
    return marker.first() or 0


def bell(identity: Identity) -> dict:
    """For the header: the inbox's head (to follow it from), the marker, and how many
    notifications came after it."""
    user_id = member_id(identity)
    key = inbox_stream(user_id)
    seen = read_seq(user_id)
    return {
        "stream": key,
        "since": Stream.objects.filter(key=key).values_list("last_seq", flat=True).first() or 0,
        "read_seq": seen,
        "count": Event.objects.filter(stream_id=key, seq__gt=seen, type__in=TYPES).count(),
        "types": TYPES,
    }


def recent(identity: Identity, *, limit: int = PAGE, before: int | None = None, after: int = 0,
           types: tuple[str, ...] = TYPES) -> list[Event]:
    """The newest notifications (with `before`: older than that seq; with `after`:
    newer than that one; with `types`, of those types only), newest first."""
    user_id = member_id(identity)
    events = Event.objects.filter(stream_id=inbox_stream(user_id), type__in=types)
    if before is not None:
        events = events.filter(seq__lt=before)
    if after:
        events = events.filter(seq__gt=after)
    return list(events.order_by("-seq")[:limit])


@transaction.atomic
def mark_read(*, identity: Identity, seq: int) -> int:
    """Everything up to `seq` has been seen. The marker only moves forward; the member's
    other tabs hear it (`notifications.read` on the inbox) and clear their bells."""
    user_id = member_id(identity)
    if seq < 0:
        raise Invalid("seq", _("seq must not be negative."))
    key = inbox_stream(user_id)
    marker, _created = ReadMarker.objects.select_for_update().get_or_create(user_id=user_id, stream=key)
    if seq > marker.seq:
        marker.seq = seq
        marker.save(update_fields=["seq", "updated_at"])
        unread = Event.objects.filter(stream_id=key, seq__gt=seq, type__in=TYPES).count()
        append_event(key, "notifications.read", {"read_seq": seq, "unread": unread}, actor=identity)
    return marker.seq
