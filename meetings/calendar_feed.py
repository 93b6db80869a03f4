"""日历订阅: a member's meetings in their own calendar (Apple Calendar, Outlook, Google
Calendar, a phone's), which asks for them again by itself, so a meeting moved or
cancelled moves or is struck there too.

Calendars fetch without logging in, so each member may have one private address with
a random token in it (192 bits), made, replaced and stopped on 我的账号. Making or
replacing one is a security notice (accounts/security.py): whoever has the address
reads the member's meetings until it is replaced or stopped, which no change of
password or signing out does. The token is found by its SHA-256; it is also kept
sealed under the server's key, bound to its member (server/sealing.py), so that the
account page can show it again.

The feed holds the meetings of the last PAST_DAYS and all to come in every branch the
member may read that expect them (应到, as the roll says, exclusions deducted) or that
they chair or take the minutes of: cancelled ones marked as such, and those they have
leave from marked and shown as free time. A secretary may ask for every meeting of the
branches below theirs as well (to plan attending them, 列席指导): named with their
branch and shown as free time. Times are in UTC, which every calendar shows
on its own clock; each event's text gives the time on the branch's clock as well. The
text is in the member's language. A single meeting can also be downloaded as a file
(`meeting_file`), by whoever may see it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import language, security
from accounts.identity import identity_for_user
from accounts.models import Membership
from accounts.selectors import branches_below, can_read_branch
from server import sealing

from . import ics, selectors
from .models import CalendarFeed, LeaveRequest, Meeting

PURPOSE = b"branchline.calendar-feed"  # fixed forever: another label derives another key
PAST_DAYS = 90
MOST = 500  # meetings in one feed
TOUCH_EVERY = timedelta(minutes=10)  # how stale last_used_at may get (no write per fetch)
REFRESH = "PT1H"  # how often calendars are asked to fetch again


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aad(user_id: int) -> bytes:
    return f"calendar-feed:{user_id}".encode()


# -- the address ---------------------------------------------------------------------------


def make(user, *, request=None) -> str:
    """A new address for `user`'s meetings; one they had stops working. Returns the token."""
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(user=user, defaults={
            "token_hash": _hash(token), "sealed_token": sealing.seal(PURPOSE, token.encode(), _aad(user.pk)),
            "created_at": timezone.now(), "last_used_at": None})
        security.notify(user, security.CALENDAR_LINK, request=request)
    return token


def stop(user) -> bool:
    """The address stops working. False if there was none."""
    deleted, _rows = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def token_of(feed: CalendarFeed) -> str | None:
    """The address's token, to show again; None if no configured key opens it (SECRET_KEY
    changed without keeping the old one): the member makes a new address."""
    try:
        token, _current = sealing.open_sealed(PURPOSE, feed.sealed_token, _aad(feed.user_id))
    except sealing.Unreadable:
        return None
    return token.decode()


def path(token: str) -> str:
    return reverse("meetings:feed", args=[token])


def find(token: str) -> CalendarFeed | None:
    """The feed of an active member this token opens, noting (now and then) that it was used."""
    if not token or len(token) > 64:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=_hash(token)).first()
    if feed is None or not feed.user.is_active:
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > TOUCH_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        feed.last_used_at = now
    return feed


# -- what it holds -------------------------------------------------------------------------


def branches_overseen(user) -> list[int]:
    """The branches below those `user` is the secretary of (for `CalendarFeed.below`)."""
    found: dict[int, None] = {}
    for branch_id in Membership.objects.filter(user=user, role=Membership.Role.SECRETARY).values_list(
            "branch_id", flat=True):
        found.update(dict.fromkeys(b.pk for b, _depth in branches_below(branch_id)))
    return list(found)


def meetings_of(user, *, now=None, below: bool = False) -> list[tuple[Meeting, LeaveRequest | None, bool]]:
    """The member's meetings for their calendar (the module's docstring), oldest first,
    each with their leave request if they made one and whether it is one of a branch
    below theirs they only oversee (`below`: include those). A few queries however many."""
    now = now or timezone.now()
    branch_ids = set(Membership.objects.filter(user=user).values_list("branch_id", flat=True))
    overseen = set(branches_overseen(user)) - branch_ids if below else set()
    rows = list(
        Meeting.objects.filter(Q(branch_id__in=branch_ids | overseen) | Q(chair=user) | Q(minute_taker=user),
                               starts_at__gte=now - timedelta(days=PAST_DAYS))
        .select_related("branch", "chair", "minute_taker").prefetch_related("agenda")
        .order_by("starts_at", "id")[:MOST])
    identity = identity_for_user(user)
    readable = {b: b in branch_ids or can_read_branch(identity, b) for b in {m.branch_id for m in rows}}
    rows = [m for m in rows if readable[m.branch_id]]
    expected = selectors.expected_of(user.pk, rows)
    mine = {m.pk for m in rows if m.pk in expected or user.pk in (m.chair_id, m.minute_taker_id)}
    rows = [m for m in rows if m.pk in mine or m.branch_id in overseen]
    leave = {r.meeting_id: r for r in LeaveRequest.objects.filter(meeting__in=rows, user=user)}
    return [(m, leave.get(m.pk), m.pk not in mine) for m in rows]


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "branchline"


def _event(meeting: Meeting, *, base: str, leave: LeaveRequest | None,
           overseen: bool = False) -> list[tuple[str, str]]:
    zone = meeting.branch.zone
    start, end = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    when = (f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}" if start.date() == end.date()
            else f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")
    cancelled = meeting.status == Meeting.Status.CANCELLED
    excused = leave is not None and leave.status == LeaveRequest.Status.APPROVED
    title = meeting.title
    if overseen:  # a branch below, not theirs: which one, first
        title = _("%(branch)s: %(title)s") % {"branch": meeting.branch.name, "title": title}
    if cancelled:
        title = _("[Cancelled] %(title)s") % {"title": title}
    elif excused:
        title = _("[On leave] %(title)s") % {"title": title}
    online = _("online") if meeting.online else ""
    place = " / ".join(p for p in (meeting.place, online) if p)
    url = base + reverse("meetings:meeting", args=[meeting.pk])
    lines = [f"{meeting.branch.name} · {meeting.get_kind_display()}",
             _("Time: %(when)s (%(zone)s)") % {"when": when, "zone": meeting.branch.time_zone}]
    if place:
        lines.append(_("Place: %(place)s") % {"place": place})
    lines.append(_("Chair: %(name)s") % {"name": selectors.display_name(meeting.chair)})
    if meeting.minute_taker_id:
        lines.append(_("Minute-taker: %(name)s") % {"name": selectors.display_name(meeting.minute_taker)})
    agenda = list(meeting.agenda.all())
    if agenda:
        lines.append(_("Agenda:"))
        lines += [f"{i}. {item.title}" for i, item in enumerate(agenda, 1)]
    if leave is not None:
        lines.append(_("Your leave: %(status)s") % {"status": leave.get_status_display()})
    if cancelled:
        lines.append(_("Cancelled: %(reason)s") % {"reason": meeting.cancel_reason} if meeting.cancel_reason
                     else _("The meeting was cancelled."))
    if meeting.description:
        lines += ["", meeting.description]
    lines += ["", url]
    event = [
        ("UID", f"meeting-{meeting.pk}@{_host()}"),
        ("DTSTAMP", ics.utc(meeting.updated_at)),
        ("LAST-MODIFIED", ics.utc(meeting.updated_at)),
        ("DTSTART", ics.utc(meeting.starts_at)),
        ("DTEND", ics.utc(meeting.ends_at)),
        ("SUMMARY", ics.text(title)),
    ]
    if place:
        event.append(("LOCATION", ics.text(place)))
    event += [
        ("DESCRIPTION", ics.text("\n".join(lines))),
        ("URL", url),
        ("CATEGORIES", ics.text(meeting.get_kind_display())),
        ("STATUS", "CANCELLED" if cancelled else "CONFIRMED"),
        ("TRANSP", "TRANSPARENT" if cancelled or excused or overseen else "OPAQUE"),
    ]
    return event


def _calendar(name: str, zone: str, events: list) -> str:
    return ics.calendar([
        ("PRODID", "-//Branchline//Meetings//EN"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
        ("X-WR-CALNAME", ics.text(name)),
        ("X-WR-TIMEZONE", zone),
        ("REFRESH-INTERVAL;VALUE=DURATION", REFRESH),
        ("X-PUBLISHED-TTL", REFRESH),
    ], events)


def feed(user, *, base: str, below: bool = False) -> str:
    """The member's calendar as iCalendar text, in their language; `base`: the site's
    address for the links ("https://branchline.example.org"); `below`: their address's
    choice (CalendarFeed.below), which the caller has read already."""
    with translation.override(language.of(user.pk)):
        events = [_event(m, base=base, leave=leave, overseen=overseen)
                  for m, leave, overseen in meetings_of(user, below=below)]
        name = _("Branchline meetings · %(name)s") % {"name": user.get_full_name() or user.get_username()}
        zone = Membership.objects.filter(user=user).order_by("branch_id").values_list(
            "branch__time_zone", flat=True).first() or settings.TIME_ZONE
        return _calendar(name, zone, events)


def meeting_file(meeting: Meeting, user, *, base: str) -> str:
    """One meeting as an iCalendar file, in the active language (the page's)."""
    leave = LeaveRequest.objects.filter(meeting=meeting, user=user).first()
    return _calendar(meeting.title, meeting.branch.time_zone, [_event(meeting, base=base, leave=leave)])
