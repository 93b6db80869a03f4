"""入党日期 and what follows from it: the probationary year and the political birthday.

The day a person joined the party is the day the branch meeting admitted them as a
probationary member. The branch's secretary records it on the members page (the
`since` of the member's standing row in the branch, full or probationary; it stays
when a probationary member becomes a full one, 转正).

- 预备期: the party constitution (Article 7) sets a probationary period of one year
  from that day; when it ends the branch is to discuss in good time whether they become
  full members. The branch's overview and the weekly summary tell its secretaries whose
  year ends within NOTICE_DAYS or has already ended, so that 转正 is put on a general
  meeting's agenda in time, and how many probationary members have no day recorded.
  Where the general meeting extended the period instead (延长预备期, by a year at most,
  approved above), the secretary records the day it now ends
  (`Membership.probation_until`), which takes the year's place.
- 政治生日: each year on that day. The overview shows secretaries the ones coming in
  the next ANNIVERSARY_DAYS (to send a word, or to mark it at a meeting), and greets the
  member on the day; so does their bell, once, from GREETING_HOUR on their branch's
  clock (`greet_due`, a periodic job: every process runs it, an AnniversaryGreeted row
  is the claim).

Nothing is decided or changed from these: the standing changes only when a secretary
sets it (members.set_standing).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from realtime.scheduler import register_periodic

from .models import AnniversaryGreeted, Membership, ProbationReminded

NOTICE_DAYS = 30
ANNIVERSARY_DAYS = 7
EARLIEST = date(1921, 7, 1)
STANDINGS = (Membership.Role.FULL, Membership.Role.PROBATIONARY)


def in_year(day: date, year: int) -> date:
    """The same day in `year` (29 February: the 28th in a year without one)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def ends(since: date) -> date:
    """The day the probationary year is over: the same day a year on."""
    return in_year(since, since.year + 1)


def probation_ends(since: date, until: date | None = None) -> date:
    """The day the probationary period is over: the year's end, or the day it was
    extended to (延长预备期, `Membership.probation_until`)."""
    return until or ends(since)


def longest_extension(since: date) -> date:
    """The latest day a probationary period may be extended to: a year after the year
    (the constitution, art. 7: an extension is not to exceed one year)."""
    return in_year(since, since.year + 2)


def next_anniversary(since: date, today: date) -> tuple[date, int]:
    """The next political birthday from `today` (today's, if it is today) and the years it marks."""
    day = in_year(since, today.year)
    if day < today:
        day = in_year(since, today.year + 1)
    return day, day.year - since.year


def extended(branch_id: int) -> dict[int, date]:
    """延长预备期 recorded in a branch: probationary member's id -> the day their period now ends."""
    return dict(Membership.objects.filter(branch_id=branch_id, role=Membership.Role.PROBATIONARY)
                .exclude(probation_until=None).values_list("user_id", "probation_until"))


def _rows(branch_ids: list[int], roles) -> tuple[list[tuple[int, int, str, date | None, date | None]],
                                                   dict[int, str]]:
    rows = list(Membership.objects.filter(branch_id__in=branch_ids, role__in=roles, user__is_active=True)
                .values_list("branch_id", "user_id", "role", "since", "probation_until"))
    names = {user.pk: user.get_full_name() or user.get_username()
             for user in get_user_model().objects.filter(pk__in={row[1] for row in rows})}
    return rows, names


def due(branch_ids: list[int], today: date) -> dict[int, dict]:
    """For each branch: {"people": [{"id", "name", "since", "ends", "extended", "days", "ago"},
    …] whose probationary period (the year, or as extended: `extended`) ends within
    NOTICE_DAYS of `today` or has ended (`days` until it ends, negative once over; `ago`
    days since it ended), the soonest first; "missing": how many probationary members
    have no day recorded}. Two queries."""
    found: dict[int, dict] = {pk: {"people": [], "missing": 0} for pk in branch_ids}
    rows, names = _rows(branch_ids, [Membership.Role.PROBATIONARY])
    for branch_id, user_id, _role, since, until in rows:
        if since is None:
            found[branch_id]["missing"] += 1
            continue
        end = probation_ends(since, until)
        days = (end - today).days
        if days <= NOTICE_DAYS:
            found[branch_id]["people"].append({"id": user_id, "name": names.get(user_id, ""), "since": since,
                                               "ends": end, "extended": until is not None, "days": days,
                                               "ago": max(-days, 0)})
    for part in found.values():
        part["people"].sort(key=lambda p: (p["ends"], p["name"], p["id"]))
    return found


def anniversaries(branch_ids: list[int], today: date) -> dict[int, list[dict]]:
    """For each branch, its party members whose political birthday falls in the next
    ANNIVERSARY_DAYS (today's first): [{"id", "name", "since", "day", "years", "days"}, …]
    (none for a day this year: someone who joined less than a year ago). Two queries."""
    found: dict[int, list[dict]] = {pk: [] for pk in branch_ids}
    rows, names = _rows(branch_ids, STANDINGS)
    for branch_id, user_id, _role, since, _until in rows:
        if since is None:
            continue
        day, years = next_anniversary(since, today)
        days = (day - today).days
        if years >= 1 and days < ANNIVERSARY_DAYS:
            found[branch_id].append({"id": user_id, "name": names.get(user_id, ""), "since": since, "day": day,
                                     "years": years, "days": days})
    for people in found.values():
        people.sort(key=lambda p: (p["day"], p["name"], p["id"]))
    return found


def joined_on(user_id: int, branch_id: int) -> date | None:
    """The day recorded for this member here (their standing row's), if any."""
    return (Membership.objects.filter(user_id=user_id, branch_id=branch_id, role__in=STANDINGS)
            .exclude(since=None).values_list("since", flat=True).first())


GREETING_HOUR = 8


@register_periodic("accounts.anniversary", every_seconds=600)
def greet_due(now: datetime | None = None) -> int:
    """Greet in their inbox (`party.anniversary`) each party member whose political
    birthday it is today on their branch's clock, from GREETING_HOUR, once; a day missed
    while the server was down is not made up (a greeting comes on the day or not at
    all). Returns how many were greeted."""
    now = now or timezone.now()
    # Today somewhere on Earth: the days from yesterday to tomorrow in UTC (and 29
    # February's people, greeted on the 28th in other years).
    days = [(now + timedelta(days=d)).date() for d in (-1, 0, 1)]
    near = Q()
    for day in days:
        near |= Q(since__month=day.month, since__day=day.day)
        if (day.month, day.day) == (2, 28):
            near |= Q(since__month=2, since__day=29)
    rows = (Membership.objects.filter(near, role__in=STANDINGS, user__is_active=True)
            .values_list("user_id", "branch_id", "branch__name", "branch__time_zone", "since")
            .order_by("user_id", "branch_id"))
    greeted = 0
    seen: set[int] = set()
    for user_id, branch_id, branch_name, zone, since in rows:
        if user_id in seen:
            continue
        seen.add(user_id)
        local = timezone.localtime(now, ZoneInfo(zone))
        today = local.date()
        day, years = next_anniversary(since, today)
        if day != today or years < 1 or local.hour < GREETING_HOUR:
            continue
        if _once(AnniversaryGreeted(user_id=user_id, day=today), user_id, "party.anniversary",
                 {"since": since.isoformat(), "years": years, "branch": {"id": branch_id, "name": branch_name}}):
            greeted += 1
    return greeted


def _once(claim, user_id: int, type_: str, data: dict) -> bool:
    """Send the notice unless another process has: the claim row (unique) goes in with it."""
    from . import notifications

    try:
        with transaction.atomic():
            claim.save()
            notifications.send([user_id], type_, data)
    except IntegrityError:  # another process was first
        return False
    return True


REMIND_DAYS = 7


@register_periodic("accounts.probation_reminder", every_seconds=600)
def remind_due(now: datetime | None = None) -> int:
    """转正申请: remind in their inbox (`party.probation_ending`) each probationary member
    whose period here (the year, or as extended) ends within REMIND_DAYS on their
    branch's clock, from GREETING_HOUR, once for that end: to hand the branch their
    written request to become a full member before it. A day the server was down is
    made up within those days. Returns how many were reminded."""
    now = now or timezone.now()
    first, last = (now - timedelta(days=1)).date(), (now + timedelta(days=REMIND_DAYS + 1)).date()
    # The year ends on the same day a year on (29 February: the 28th), so its start lies
    # a year and a day or so before: the range is wide enough, and checked below.
    rows = (Membership.objects.filter(role=Membership.Role.PROBATIONARY, user__is_active=True).exclude(since=None)
            .filter(Q(probation_until__range=(first, last))
                    | Q(probation_until=None, since__range=(first - timedelta(days=367), last - timedelta(days=364))))
            .values_list("user_id", "branch_id", "branch__name", "branch__time_zone", "since", "probation_until")
            .order_by("user_id", "branch_id"))
    reminded = 0
    for user_id, branch_id, branch_name, zone, since, until in rows:
        local = timezone.localtime(now, ZoneInfo(zone))
        end = probation_ends(since, until)
        if not 0 < (end - local.date()).days <= REMIND_DAYS or local.hour < GREETING_HOUR:
            continue
        if _once(ProbationReminded(user_id=user_id, branch_id=branch_id, ends=end), user_id, "party.probation_ending",
                 {"ends": end.isoformat(), "branch": {"id": branch_id, "name": branch_name}}):
            reminded += 1
    return reminded
