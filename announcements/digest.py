"""每日摘要 (the daily digest): for members who ask for it on 我的账号, one e-mail a day
(at the hour they choose, 08:00 unless they do, on their branch's clock) with what
they have not read yet: the announcements of their branches posted since the last
digest, and their new
notifications (not the security notices, which are mailed at once, nor those a mail of
unread notifications told already). Nothing unread,
no mail. For members who do not keep the site open, and those who would rather have
one mail a day than one per announcement (Discourse's and Zulip's digests).

Every process runs the job (realtime/scheduler.py); a DigestSent row per member and
day is the claim, so each member gets one digest a day however many processes run,
and a process that was down catches up at its next tick (late, never twice). Like
the other mail, it goes out from the mail thread after the claim commits, only when
the server sends mail, to members with an address.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts import language, notification_mail, notifications, outbox, security, unsubscribe
from accounts.clock import member_zones
from accounts.identity import identity_for_user
from accounts.models import MailSettings, Membership
from accounts.streams import inbox_stream
from realtime.models import Event
from realtime.scheduler import register_periodic

from . import selectors
from .models import Announcement, DigestSent

log = logging.getLogger(__name__)

WINDOW = timedelta(days=1)  # the first digest looks back this far; later ones to the one before
WINDOW_MAX = timedelta(days=7)  # however long since the last one
PER_BRANCH = 20
NOTIFICATIONS_MAX = 20
# What the digest retells of the inbox: not the security notices (mailed at once).
NOTIFICATION_TYPES = tuple(t for t in notifications.TYPES if t not in security.TYPES)


@register_periodic("announcements.digest", every_seconds=300)
def send_due(now: datetime | None = None) -> int:
    """Claim and send the digests that are due: a member who asked for one, whose clock
    has passed the hour they chose today and who has had none today. Returns how many
    were claimed."""
    if not settings.SENDS_EMAIL:
        return 0
    now = now or timezone.now()
    hours = dict(MailSettings.objects.filter(digest=True, user__is_active=True).exclude(user__email="")
                 .values_list("user_id", "digest_hour"))
    wanted = list(hours)
    # Each member's last digest (one query): whether today's is done, and where the next begins.
    last: dict[int, tuple] = {}
    for user_id, day, at in (DigestSent.objects.filter(user_id__in=wanted, day__gte=(now - WINDOW_MAX).date())
                             .order_by("day").values_list("user_id", "day", "at")):
        last[user_id] = (day, at)
    claimed = 0
    for user_id, zone in member_zones(wanted).items():
        local = now.astimezone(ZoneInfo(zone))
        previous_day, previous_at = last.get(user_id, (None, None))
        if local.hour < hours[user_id] or previous_day == local.date():
            continue
        since = max(previous_at or now - WINDOW, now - WINDOW_MAX)
        try:
            with transaction.atomic():
                sent = DigestSent.objects.create(user_id=user_id, day=local.date())
                outbox.after_commit(_mail, sent.pk, since, zone)
        except IntegrityError:  # another process claimed it this moment
            continue
        claimed += 1
    return claimed


def collect(user, since: datetime) -> dict:
    """What `user` has not read yet: {"branches": [(branch, [announcement, …]), …],
    "notifications": [item, …] (frontend.notification_text.describe)}. A notice sent to
    two of their branches (下发) is listed once."""
    from frontend.notification_text import describe

    identity = identity_for_user(user)
    branches = []
    seen_families: set[int] = set()
    rows = Membership.objects.filter(user=user).select_related("branch").order_by("branch_id")
    for branch in dict.fromkeys(m.branch for m in rows):
        items = list(Announcement.objects.filter(branch=branch, withdrawn_at__isnull=True, created_at__gte=since)
                     .exclude(author=user).select_related("author").order_by("-seq")[:PER_BRANCH])
        read = selectors.read_ids(identity, branch.pk, items)
        unread = []
        for a in items:
            family = a.copy_of_id or a.pk
            if a.pk not in read and family not in seen_families:
                seen_families.add(family)
                unread.append(a)
        if unread:
            branches.append((branch, unread))
    # Not what a mail of unread notifications told already (accounts/notification_mail.py).
    told = max(notifications.read_seq(user.pk), notification_mail.mailed_up_to(user.pk))
    events = list(Event.objects.filter(
        stream_id=inbox_stream(user.pk), type__in=NOTIFICATION_TYPES, seq__gt=told,
        created_at__gte=since).order_by("-seq")[:NOTIFICATIONS_MAX])
    return {"branches": branches, "notifications": describe(events)}


def _mail(sent_id: int, since: datetime, zone: str) -> int:
    try:
        sent = DigestSent.objects.select_related("user").filter(pk=sent_id).first()
        if sent is None or not sent.user.email:
            return 0
        user = sent.user
        found = collect(user, since)
        count = sum(len(unread) for _branch, unread in found["branches"])
        if not count and not found["notifications"]:
            return 0  # nothing unread: no mail today
        base = settings.SITE_URL.rstrip("/")
        stop = base + unsubscribe.path(user.pk, what=unsubscribe.DIGEST)
        with translation.override(language.of(user.pk)), timezone.override(zone):
            parts = []
            if count:
                parts.append(ngettext("%(count)d unread announcement", "%(count)d unread announcements", count)
                             % {"count": count})
            if found["notifications"]:
                n = len(found["notifications"])
                parts.append(ngettext("%(count)d new notification", "%(count)d new notifications", n) % {"count": n})
            summary = pgettext("list separator", ", ").join(parts)
            subject = _("Your Branchline digest: %(what)s") % {"what": summary}
            context = {
                "name": user.get_full_name() or user.get_username(),
                "branches": [(branch, [(a, base + reverse("announcement", args=[a.pk])) for a in unread])
                             for branch, unread in found["branches"]],
                "notifications": [{**item, "url": base + item["url"] if item["url"] else ""}
                                  for item in found["notifications"]],
                "notifications_url": base + reverse("notifications"),
                "account_url": base + reverse("account"), "unsubscribe_url": stop,
                "subject": subject, "summary": summary,
            }
            body = render_to_string("announcements/digest.txt", context)
            html = render_to_string("announcements/digest.html", context)
        sent_count = unsubscribe.listed_mail(subject, body, html, user.email, stop).send() or 0
        DigestSent.objects.filter(pk=sent_id).update(mailed=bool(sent_count))
        return sent_count
    except Exception:
        log.exception("could not mail the digest %s", sent_id)
        return 0
