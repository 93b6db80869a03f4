"""提醒邮件: a notification still unread a while after it came (10 minutes unless
NOTIFICATION_MAIL_DELAY says otherwise) is mailed to the member, with any others that
came meanwhile, one mail for all of them. For members who are not on the site when a
meeting is called or someone mentions them (Zulip's and Discourse's mails for what
you missed). Reading it in time (the bell, the notifications page) means no mail.

A member chooses on 我的账号 which kinds come by mail (all, unless they untick them):
mentions, meetings (and leave from them), what moderators decided about their posts
(and a scheduled announcement of theirs that could not be published), topic
discussions opening, and their party standing (转正, 延长预备期, the reminder to hand
in the 转正申请). Not here: a secretary's reminder to read an announcement (it
mails the announcement itself) and the security notices (mailed at once,
accounts/security.py).

`schedule` runs in the action's transaction, from `notifications.send`: the first
notification of a quiet spell sets the member's mail due after the delay; the ones
after it ride along. Every process runs `send_due` each minute; clearing the due time
with a compare-and-set is the claim, so one process mails it. The mail goes out from
the mail thread after the claim commits, only when the server sends mail, to active
members with an address, and tells only notifications no mail told before.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from realtime.models import Event
from realtime.scheduler import register_periodic

from . import language, outbox, unsubscribe
from .clock import member_zones
from .models import MailSettings, NotificationMail
from .notifications import GROUPS
from .streams import inbox_stream

log = logging.getLogger(__name__)

# The MailSettings field that lets each kind of notification come by mail.
KINDS = {f"notify_{group}": GROUPS[group] for group in ("mentions", "meetings", "posts", "discussions", "membership")}
MAILED_TYPES = frozenset(t for types in KINDS.values() for t in types)
SHOWN_MAX = 20  # in one mail; past that, a count and the link to all of them
BATCH = 500  # claimed per tick at most


def delay() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_MAIL_DELAY)


def delay_minutes() -> int:
    """The delay as the pages and mails say it."""
    return max(1, round(delay().total_seconds() / 60))


def schedule(seqs: dict[int, int], type_: str, now: datetime) -> None:
    """`seqs`: {member: their new notification's seq}, appended at `now` in the caller's
    transaction. Sets each member's mail due unless it already is."""
    if not settings.SENDS_EMAIL or type_ not in MAILED_TYPES or not seqs:
        return
    ids = sorted(seqs)
    due = now + delay()
    NotificationMail.objects.filter(user_id__in=ids, due_at__isnull=True).update(due_at=due, since=now)
    have = set(NotificationMail.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    NotificationMail.objects.bulk_create(
        [NotificationMail(user_id=pk, due_at=due, since=now, mailed_seq=seqs[pk] - 1) for pk in ids if pk not in have],
        ignore_conflicts=True)  # another transaction made it this moment: it is due already


@register_periodic("accounts.notification_mail", every_seconds=60)
def send_due(now: datetime | None = None) -> int:
    """Claim the mails that are due and hand them to the mail thread; returns how many."""
    if not settings.SENDS_EMAIL:
        return 0
    now = now or timezone.now()
    due = list(NotificationMail.objects.filter(due_at__lte=now).order_by("due_at")
               .values_list("user_id", "due_at", "since")[:BATCH])
    return sum(claim(user_id, at, since) for user_id, at, since in due)


def claim(user_id: int, due_at: datetime, since: datetime | None) -> bool:
    """Take the member's mail due at `due_at`, as found; False if another process took it
    first (or it is due at another time now)."""
    with transaction.atomic():
        if not NotificationMail.objects.filter(user_id=user_id, due_at=due_at).update(due_at=None):
            return False
        # `since` goes with the claim: a notification coming meanwhile starts the next
        # spell, and its own `since`, on the row.
        outbox.after_commit(_mail, user_id, since)
        return True


def wanted_types(user_id: int) -> tuple[str, ...]:
    wants = MailSettings.objects.filter(user_id=user_id).first() or MailSettings()  # none: the defaults
    return tuple(t for field, types in KINDS.items() if getattr(wants, field) for t in types)


def mailed_up_to(user_id: int) -> int:
    """The newest notification a mail has told the member (the digest does not retell it)."""
    return NotificationMail.objects.filter(user_id=user_id).values_list("mailed_seq", flat=True).first() or 0


def _mail(user_id: int, since: datetime | None) -> int:
    from frontend.notification_text import describe

    from . import notifications

    try:
        row = NotificationMail.objects.filter(user_id=user_id).first()
        user = get_user_model().objects.filter(pk=user_id, is_active=True).exclude(email="").first()
        types = wanted_types(user_id)
        if row is None or user is None or not types:
            return 0
        floor = max(row.mailed_seq, notifications.read_seq(user_id))
        events = Event.objects.filter(stream_id=inbox_stream(user_id), type__in=types, seq__gt=floor)
        if since:
            events = events.filter(created_at__gte=since)
        newest = list(events.order_by("-seq")[:SHOWN_MAX])
        if not newest:
            return 0  # read in time, or not a kind they want by mail
        total = len(newest) if len(newest) < SHOWN_MAX else events.count()
        # Told from here on, before it is sent: a mail lost to a failing server is not
        # sent twice, and of two threads on the same member only one goes on.
        if not NotificationMail.objects.filter(user_id=user_id, mailed_seq=row.mailed_seq).update(
                mailed_seq=newest[0].seq):
            return 0
        base = settings.SITE_URL.rstrip("/")
        stop = base + unsubscribe.path(user_id, what=unsubscribe.NOTIFICATIONS)
        zone = member_zones([user_id])[user_id]
        with translation.override(language.of(user_id)), timezone.override(zone):
            items = [{**item, "url": base + item["url"] if item["url"] else ""}
                     for item in reversed(describe(newest))]  # oldest first, as they came
            if total == 1:
                subject = _("Branchline: %(what)s") % {"what": _one_line(items[0]["text"])}
            else:
                subject = ngettext("Branchline: %(count)d unread notification",
                                   "Branchline: %(count)d unread notifications", total) % {"count": total}
            context = {
                "name": user.get_full_name() or user.get_username(), "items": items,
                "more": total - len(items), "minutes": delay_minutes(),
                "notifications_url": base + reverse("notifications"),
                "account_url": base + reverse("account") + "#notify-mail", "unsubscribe_url": stop,
            }
            body = render_to_string("frontend/email/notifications.txt", context)
            html = render_to_string("frontend/email/notifications.html", context)
        return unsubscribe.listed_mail(subject, body, html, user.email, stop).send() or 0
    except Exception:
        log.exception("could not mail the notifications of member %s", user_id)
        return 0


def _one_line(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
