"""支部概况: a branch's front page, what a member opens first.

One glance at what is coming and what is waiting: the meetings running now and the next
ones (with the reader's place on the roll and their leave), the newest announcements and
how many are unread, the topic discussions open on the branch's boards; and for those
who run the branch, what waits on them (leave to decide, posts to review, announcements
due to go out) and this quarter's meetings against the usual rhythm of 三会一课.

Reads only, through the apps' selectors and models; each part asks the same permission
question its own page asks, so the overview shows nothing that page would not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from accounts.identity import Identity
from accounts.models import Branch, Membership
from accounts.selectors import can_manage_branch, can_moderate_branch
from announcements import scheduling as announcement_scheduling
from announcements import selectors as announcement_selectors
from forum import selectors as forum_selectors
from forum.models import Discussion, Topic
from meetings import selectors as meeting_selectors
from meetings.models import LeaveRequest, Meeting

from .selectors import review_counts

UPCOMING_SHOWN = 3
UPCOMING_DAYS = 60
ANNOUNCEMENTS_SHOWN = 3
DISCUSSIONS_SHOWN = 5
LEAVE_SHOWN = 10
# 三会一课 as the branch work regulations (中国共产党支部工作条例（试行）) set its usual
# rhythm, per quarter: a general meeting (支部党员大会) each quarter, a committee meeting
# (支委会) and a group meeting (党小组会) each month, a party lecture (党课) each quarter.
# Shown as guidance beside what was held; nothing is enforced from it.
USUAL_PER_QUARTER = {
    Branch.Kind.BRANCH: {Meeting.Kind.GENERAL: 1, Meeting.Kind.COMMITTEE: 3, Meeting.Kind.LECTURE: 1},
    Branch.Kind.GROUP: {Meeting.Kind.GROUP: 3},
}


def quarter_start(now: datetime, branch: Branch) -> datetime:
    """The first moment of the quarter `now` falls in, on the branch's clock."""
    local = timezone.localtime(now, branch.zone)
    month = 3 * ((local.month - 1) // 3) + 1
    return local.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _meetings(identity: Identity, branch: Branch, now: datetime) -> dict:
    """Running now, and the next few scheduled, with the reader's place on each roll."""
    running_states = (Meeting.Status.OPEN, Meeting.Status.LIVE)
    rows = list(
        Meeting.objects.filter(branch=branch, status__in=(*running_states, Meeting.Status.SCHEDULED),
                               ends_at__gte=now - timedelta(hours=12), starts_at__lt=now + timedelta(days=UPCOMING_DAYS))
        .select_related("branch", "chair").order_by("starts_at", "id")
    )
    running = [m for m in rows if m.status in running_states]
    upcoming = [m for m in rows if m.status == Meeting.Status.SCHEDULED][:UPCOMING_SHOWN]
    shown = running + upcoming
    mine = {leave.meeting_id: leave for leave in
            LeaveRequest.objects.filter(meeting__in=shown, user_id=identity.user_id)}
    for m in shown:
        m.you_expected = meeting_selectors.is_expected(m, identity.user_id)
        m.my_leave = mine.get(m.pk)
    more = sum(1 for m in rows if m.status == Meeting.Status.SCHEDULED) - len(upcoming)
    return {"running": running, "upcoming": upcoming, "more_upcoming": max(more, 0)}


def _announcements(identity: Identity, branch: Branch, manages: bool) -> dict:
    items = announcement_selectors.announcements_for(identity, branch.pk, limit=ANNOUNCEMENTS_SHOWN)
    read_seq = announcement_selectors.read_marker(identity, branch.pk)
    read = announcement_selectors.read_ids(identity, branch.pk, items, read_seq=read_seq)
    counts = announcement_selectors.read_counts(items) if manages and items else {}
    for a in items:
        a.is_read = a.pk in read or a.author_id == identity.user_id  # one's own is not news
        a.receipt = counts.get(a.pk)
    return {"items": items, "unread": announcement_selectors.unread_count(identity, branch.pk, read_seq=read_seq)}


def _discussions(identity: Identity, branch: Branch, now: datetime) -> list[Discussion]:
    """话题讨论 open now, or opening within the week, on the branch's boards the reader reads."""
    topics = forum_selectors.shown_topics(identity, Topic.objects.filter(board__branch=branch, deleted_at__isnull=True),
                                          branch.pk)
    rows = (Discussion.objects.filter(topic__in=topics)
            .filter(status__in=(Discussion.Status.OPEN, Discussion.Status.SCHEDULED), opens_at__lt=now + timedelta(days=7))
            .select_related("topic__board").order_by("closes_at", "id"))
    readable: dict[int, bool] = {}
    shown = []
    for d in rows:
        board = d.topic.board
        if board.pk not in readable:
            readable[board.pk] = forum_selectors.can_read_board(identity, board)
        if readable[board.pk]:
            shown.append(d)
        if len(shown) == DISCUSSIONS_SHOWN:
            break
    return shown


def _waiting_leave(branch: Branch) -> tuple[list[LeaveRequest], int]:
    """请假 the branch's secretaries have yet to decide, for meetings not yet begun."""
    qs = (LeaveRequest.objects.filter(meeting__branch=branch, status=LeaveRequest.Status.PENDING,
                                      meeting__status__in=(Meeting.Status.SCHEDULED, Meeting.Status.OPEN),
                                      meeting__started_at__isnull=True)
          .select_related("user", "meeting").order_by("meeting__starts_at", "submitted_at", "id"))
    return list(qs[:LEAVE_SHOWN]), qs.count()


def _rhythm(branch: Branch, now: datetime) -> list[dict]:
    """This quarter's meetings held (ended) and still scheduled, by kind, beside the usual number."""
    usual = USUAL_PER_QUARTER.get(branch.kind, {})
    start = quarter_start(now, branch)
    end = (start + timedelta(days=95)).replace(day=1)
    rows = (Meeting.objects.filter(branch=branch, starts_at__gte=start, starts_at__lt=end,
                                   status__in=(Meeting.Status.ENDED, Meeting.Status.SCHEDULED,
                                               Meeting.Status.OPEN, Meeting.Status.LIVE))
            .values_list("kind", "status").annotate(n=Count("id")))
    held: dict[str, int] = {}
    planned: dict[str, int] = {}
    for kind, status, n in rows:
        target = held if status == Meeting.Status.ENDED else planned
        target[kind] = target.get(kind, 0) + n
    labels = dict(Meeting.Kind.choices)
    kinds = [k for k in Meeting.Kind.values if k in usual or k in held or k in planned]
    return [{"kind": k, "label": labels[k], "held": held.get(k, 0), "planned": planned.get(k, 0),
             "usual": usual.get(k), "short": usual.get(k) is not None and held.get(k, 0) + planned.get(k, 0) < usual[k]}
            for k in kinds]


def _members(branch: Branch) -> dict:
    rows = dict(Membership.objects.filter(branch=branch).values_list("role").annotate(n=Count("id")))
    return {"full": rows.get(Membership.Role.FULL, 0), "probationary": rows.get(Membership.Role.PROBATIONARY, 0)}


def overview(identity: Identity, branch: Branch, *, now: datetime | None = None) -> dict:
    """Everything the front page shows; the caller has checked the reader may read the branch."""
    now = now or timezone.now()
    manages = can_manage_branch(identity, branch.pk)
    moderates = can_moderate_branch(identity, branch.pk)
    context = {
        "meetings": _meetings(identity, branch, now),
        "announcements": _announcements(identity, branch, manages),
        "discussions": _discussions(identity, branch, now),
        "manages": manages,
        "moderates": moderates,
    }
    if moderates:
        context["pending_review"] = review_counts(branch.pk).get("pending", 0)
    if manages:
        leave, leave_count = _waiting_leave(branch)
        scheduled = announcement_scheduling.open_ones(branch.pk)
        context.update(
            waiting_leave=leave,
            waiting_leave_count=leave_count,
            scheduled=[s for s in scheduled if s.status == s.Status.SCHEDULED],
            failed_scheduled=[s for s in scheduled if s.status == s.Status.FAILED],
            rhythm=_rhythm(branch, now),
            quarter=quarter_start(now, branch),
            members=_members(branch),
        )
    return context
