"""每周待办 (the weekly summary): on Monday morning (or the day of the week they chose),
those who run a branch (its secretaries and moderators) get one e-mail with what waits
on them in each branch they run, as its overview (overview.py) shows it: leave to
decide, posts to review, announcements that could not be published, this week's
meetings with how many are expected and on leave, minutes not yet signed, probationary
members whose year ends within a month or has ended (accounts/party_dates.py), and,
for secretaries, the members who came to no meeting in six months and this quarter's
meetings that fall short of the usual rhythm, with the branches below that have leave
waiting. For secretaries who do not open the site every day (Discourse's and
Chatwoot's summaries to their staff).

It goes only when something waits or a meeting falls in the week: the six-month list
and the rhythm alone, which change slowly, send nothing. It comes at the hour of the
daily digest (08:00 unless the member chose another), on their first branch's clock,
and can be turned off on 我的账号 or with the link in it.

Every process runs the job (realtime/scheduler.py); a WeeklySent row per member and
week (its Monday) is the claim, so each gets one a week however many processes run,
and one missed on Monday while the server was down goes out at its next tick that
week (late, never twice). It goes from the mail thread after the claim commits, only
when the server sends mail, to members with an address.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts import language, outbox, unsubscribe
from accounts.clock import member_zones
from accounts.identity import identity_for_user
from accounts.models import MailSettings, Membership, WeeklySent
from meetings import selectors as meeting_selectors
from meetings.models import LeaveRequest, Meeting
from realtime.scheduler import register_periodic

from . import overview

log = logging.getLogger(__name__)

RUNS = (Membership.Role.SECRETARY, Membership.Role.MODERATOR)
WEEK = timedelta(days=7)
DEFAULT_HOUR = 8  # as the daily digest's


def runs_branch(user) -> bool:
    """Whether `user` is a secretary or moderator somewhere (gets the summary, if they keep it)."""
    return Membership.objects.filter(user=user, role__in=RUNS).exists()


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@register_periodic("frontend.weekly", every_seconds=300)
def send_due(now: datetime | None = None) -> int:
    """Claim and send the weekly summaries that are due: a secretary or moderator with an
    address who has not turned it off, whose clock has passed their hour on a day of this
    week (Monday first) and who has had none this week. Returns how many were claimed."""
    if not settings.SENDS_EMAIL:
        return 0
    now = now or timezone.now()
    runners = set(Membership.objects.filter(role__in=RUNS, user__is_active=True).exclude(user__email="")
                  .values_list("user_id", flat=True))
    if not runners:
        return 0
    settings_of = {user_id: (weekly, hour, day) for user_id, weekly, hour, day in MailSettings.objects.filter(
        user_id__in=runners).values_list("user_id", "weekly", "digest_hour", "weekly_day")}
    wanted = [u for u in runners if settings_of.get(u, (True, DEFAULT_HOUR, 0))[0]]
    earliest = monday((now - WEEK).date())
    done = set(WeeklySent.objects.filter(user_id__in=wanted, week__gte=earliest).values_list("user_id", "week"))
    claimed = 0
    for user_id, zone in member_zones(wanted).items():
        local = now.astimezone(ZoneInfo(zone))
        week = monday(local.date())
        _wanted, hour, day = settings_of.get(user_id, (True, DEFAULT_HOUR, 0))
        # Due from their day and hour on; a day missed while the server was down is made
        # up later in the week (the claim is the week's, so never twice).
        if (user_id, week) in done or (local.weekday(), local.hour) < (day, hour):
            continue
        try:
            with transaction.atomic():
                sent = WeeklySent.objects.create(user_id=user_id, week=week)
                outbox.after_commit(_mail, sent.pk, zone, now)
        except IntegrityError:  # another process claimed it this moment
            continue
        claimed += 1
    return claimed


def _this_week(branch, now: datetime) -> list[Meeting]:
    """The branch's meetings starting in the next seven days, with how many are expected
    and how many asked for leave (approved, still to decide)."""
    rows = list(Meeting.objects.filter(branch=branch, status__in=overview.RUNNING_OR_SCHEDULED,
                                       starts_at__gte=now - timedelta(hours=1), starts_at__lt=now + WEEK)
                .select_related("branch", "chair").order_by("starts_at", "id"))
    leave = {row["meeting_id"]: row for row in LeaveRequest.objects.filter(meeting__in=rows).values("meeting_id")
             .annotate(approved=Count("id", filter=Q(status=LeaveRequest.Status.APPROVED)),
                       pending=Count("id", filter=Q(status=LeaveRequest.Status.PENDING)))}
    for m in rows:
        m.expected = len(meeting_selectors.roll_for(m).expected)
        m.on_leave = leave.get(m.pk, {}).get("approved", 0)
        m.leave_pending = leave.get(m.pk, {}).get("pending", 0)
    return rows


def collect(user, now: datetime | None = None) -> list[dict]:
    """What waits on `user` in each branch they run (secretary or moderator of), the
    branches with nothing to say left out: [{"branch", "manages", "moderates",
    "waiting_leave", "waiting_leave_count", "pending_review", "failed_scheduled",
    "meetings", "not_taking_part", "short", "below", "probation", "anniversaries"}, …]. A
    branch counts as having something to say when anything in it waits or a meeting falls
    in the week (political birthdays alone send nothing)."""
    now = now or timezone.now()
    identity = identity_for_user(user)
    found = []
    rows = (Membership.objects.filter(user=user, role__in=RUNS).select_related("branch").order_by("branch_id"))
    for branch in dict.fromkeys(m.branch for m in rows):
        seen = overview.overview(identity, branch, now=now)
        if not (seen["manages"] or seen["moderates"]):
            continue
        part = {"branch": branch, "manages": seen["manages"], "moderates": seen["moderates"],
                "pending_review": seen.get("pending_review", 0), "waiting_leave": [], "waiting_leave_count": 0,
                "failed_scheduled": [], "meetings": [], "not_taking_part": [], "short": [], "below": [],
                "probation": [], "anniversaries": [], "unsigned_minutes": []}
        if seen["manages"]:
            part.update(waiting_leave=seen["waiting_leave"], waiting_leave_count=seen["waiting_leave_count"],
                        failed_scheduled=seen["failed_scheduled"], meetings=_this_week(branch, now),
                        not_taking_part=seen["not_taking_part"]["people"],
                        short=[r for r in seen["rhythm"] if r["short"]],
                        below=[row for row in seen["below"] if row["waiting_leave"]],
                        probation=seen["probation"]["people"], anniversaries=seen["anniversaries"],
                        unsigned_minutes=seen["unsigned_minutes"])
        if (part["waiting_leave_count"] or part["pending_review"] or part["failed_scheduled"] or part["meetings"]
                or part["below"] or part["probation"] or part["unsigned_minutes"]):
            found.append(part)
    return found


def summary(found: list[dict]) -> str:
    """"2 leave requests to decide, 1 meeting this week": the subject's list."""
    counts = [
        (sum(p["waiting_leave_count"] + sum(row["waiting_leave"] for row in p["below"]) for p in found),
         lambda n: ngettext("%(count)d leave request to decide", "%(count)d leave requests to decide", n)),
        (sum(p["pending_review"] for p in found),
         lambda n: ngettext("%(count)d post to review", "%(count)d posts to review", n)),
        (sum(len(p["failed_scheduled"]) for p in found),
         lambda n: ngettext("%(count)d announcement not published", "%(count)d announcements not published", n)),
        (sum(len(p["meetings"]) for p in found),
         lambda n: ngettext("%(count)d meeting this week", "%(count)d meetings this week", n)),
        (sum(len(p["probation"]) for p in found),
         lambda n: ngettext("%(count)d probationary year ending", "%(count)d probationary years ending", n)),
        (sum(len(p["unsigned_minutes"]) for p in found),
         lambda n: ngettext("%(count)d set of minutes to sign", "%(count)d sets of minutes to sign", n)),
    ]
    return pgettext("list separator", ", ").join(text(n) % {"count": n} for n, text in counts if n)


def _mail(sent_id: int, zone: str, now: datetime) -> int:
    """The summary as of `now`, the moment it was claimed (the week it speaks of)."""
    try:
        sent = WeeklySent.objects.select_related("user").filter(pk=sent_id).first()
        if sent is None or not sent.user.email:
            return 0
        user = sent.user
        found = collect(user, now)
        if not found:
            return 0  # nothing waits: no mail this week
        base = settings.SITE_URL.rstrip("/")
        stop = base + unsubscribe.path(user.pk, what=unsubscribe.WEEKLY)
        with translation.override(language.of(user.pk)), timezone.override(zone):
            what = summary(found)
            subject = _("Your week on Branchline: %(what)s") % {"what": what}
            context = {
                "name": user.get_full_name() or user.get_username(), "parts": found, "base": base,
                "account_url": base + reverse("account"), "unsubscribe_url": stop,
                "subject": subject, "summary": what,
            }
            body = render_to_string("frontend/email/weekly.txt", context)
            html = render_to_string("frontend/email/weekly.html", context)
        sent_count = unsubscribe.listed_mail(subject, body, html, user.email, stop).send() or 0
        WeeklySent.objects.filter(pk=sent_id).update(mailed=bool(sent_count))
        return sent_count
    except Exception:
        log.exception("could not mail the weekly summary %s", sent_id)
        return 0
