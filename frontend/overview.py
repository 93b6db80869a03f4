"""支部概况: a branch's front page, what a member opens first.

One glance at what is coming and what is waiting: the meetings running now and the next
ones (with the reader's place on the roll and their leave) and the reader's own year at
meetings, the newest announcements and how many are unread, the topic discussions open
on the branch's boards; and for those who run the branch, what waits on them (leave to
decide, posts to review, announcements due to go out or that failed, members who came
to no meeting in six months, probationary members whose year ends soon or has ended,
accounts/party_dates.py, and where each one's 转正 stands), the political birthdays
of the coming week, this quarter's meetings against the usual rhythm of 三会一课, and
each branch below at a glance.

Reads only, through the apps' selectors and models; each part asks the same permission
question its own page asks, so the overview shows nothing that page would not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from accounts import party_dates
from accounts.identity import Identity
from accounts.models import Branch, Membership
from accounts.selectors import branches_below, can_manage_branch, can_moderate_branch
from announcements import scheduling as announcement_scheduling
from announcements import selectors as announcement_selectors
from forum import selectors as forum_selectors
from forum.models import Discussion, Topic
from meetings import actions as meeting_actions
from meetings import selectors as meeting_selectors
from meetings.models import (
    AgendaItem,
    AttendanceInterval,
    CommitteeMember,
    Exclusion,
    LeaveRequest,
    Meeting,
    MinutesSignature,
    RollEntry,
    Vote,
)

from .selectors import review_counts

RUNNING_OR_SCHEDULED = (Meeting.Status.SCHEDULED, Meeting.Status.OPEN, Meeting.Status.LIVE)
UPCOMING_SHOWN = 3
UPCOMING_DAYS = 60
ANNOUNCEMENTS_SHOWN = 3
DISCUSSIONS_SHOWN = 5
LEAVE_SHOWN = 10
NOT_TAKING_PART_WINDOW = timedelta(days=183)  # six months
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
        Meeting.objects.filter(branch=branch, status__in=RUNNING_OR_SCHEDULED, ends_at__gte=now - timedelta(hours=12),
                               starts_at__lt=now + timedelta(days=UPCOMING_DAYS))
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


def _my_year(identity: Identity, branch: Branch, below: list[tuple[Branch, int]], now: datetime) -> dict:
    """The reader's own record this year (on the branch's clock) at the meetings held in
    the branch and the groups below it: expected at, came to, on approved leave from."""
    start = timezone.localtime(now, branch.zone).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = meeting_selectors.own_record(identity, [branch.pk, *(b.pk for b, _depth in below)], start)
    return {"year": start.year, **meeting_selectors.own_counts(rows)}


def _my_anniversary(identity: Identity, branch: Branch, now: datetime) -> dict | None:
    """政治生日: on the day the reader joined the party (as recorded here), the years since."""
    since = party_dates.joined_on(identity.user_id, branch.pk)
    if since is None:
        return None
    today = timezone.localdate(now, branch.zone)
    day, years = party_dates.next_anniversary(since, today)
    return {"since": since, "years": years} if day == today and years >= 1 else None


def _my_probation(identity: Identity, branch: Branch, now: datetime) -> dict | None:
    """A probationary member's own year here (the day recorded): when it ends, and where
    their 转正 stands (full_membership_steps)."""
    if identity.user_id is None:
        return None
    row = (Membership.objects.filter(user_id=identity.user_id, branch=branch, role=Membership.Role.PROBATIONARY)
           .exclude(since=None).select_related("user").first())
    if row is None:
        return None
    ends = party_dates.probation_ends(row.since, row.probation_until)
    mine = {"id": row.user_id, "name": row.user.get_full_name() or row.user.get_username(), "since": row.since,
            "ends": ends, "extended": row.probation_until is not None,
            "days": (ends - timezone.localdate(now, branch.zone)).days}
    full_membership_steps(branch, [mine])
    return mine


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
            .filter(status__in=(Discussion.Status.OPEN, Discussion.Status.SCHEDULED),
                    opens_at__lt=now + timedelta(days=7))
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


def _undecided_leave():
    """请假 still to decide: asked for meetings not yet begun."""
    return LeaveRequest.objects.filter(status=LeaveRequest.Status.PENDING, meeting__started_at__isnull=True,
                                       meeting__status__in=(Meeting.Status.SCHEDULED, Meeting.Status.OPEN))


def _waiting_leave(branch: Branch) -> tuple[list[LeaveRequest], int]:
    """The branch's leave its secretaries have yet to decide, the soonest meeting first."""
    qs = (_undecided_leave().filter(meeting__branch=branch).select_related("user", "meeting")
          .order_by("meeting__starts_at", "submitted_at", "id"))
    return list(qs[:LEAVE_SHOWN]), qs.count()


def _quarter_counts(branches: list[Branch], now: datetime) -> dict[int, tuple[dict, dict]]:
    """For each branch, this quarter's meetings on its own clock by kind: (held, still to
    come). Held is ended; to come is scheduled or running. One query for all of them."""
    bounds = {}
    for b in branches:
        start = quarter_start(now, b)
        bounds[b.pk] = (start, (start + timedelta(days=95)).replace(day=1))  # the next quarter's first day
    counts: dict[int, tuple[dict, dict]] = {b.pk: ({}, {}) for b in branches}
    if not branches:
        return counts
    rows = (Meeting.objects.filter(branch_id__in=list(bounds), starts_at__gte=min(s for s, _e in bounds.values()),
                                   starts_at__lt=max(e for _s, e in bounds.values()))
            .exclude(status=Meeting.Status.CANCELLED).values_list("branch_id", "kind", "status", "starts_at"))
    for branch_id, kind, status, starts_at in rows:
        start, end = bounds[branch_id]
        if start <= starts_at < end:
            held, to_come = counts[branch_id]
            target = held if status == Meeting.Status.ENDED else to_come
            target[kind] = target.get(kind, 0) + 1
    return counts


COMMITTEE_FROM = 7  # 党员 7 人以上的党支部设立支部委员会 (the regulations, art. 10); fewer: a secretary only


def _with_committee(branch_ids: list[int], members: dict[int, dict]) -> set[int]:
    """The branches that have a committee, and so hold 支委会: those with committee seats
    recorded, or with enough party members to elect one."""
    seated = set(CommitteeMember.objects.filter(branch_id__in=branch_ids).values_list("branch_id", flat=True))
    return seated | {pk for pk in branch_ids
                     if members[pk]["full"] + members[pk]["probationary"] >= COMMITTEE_FROM}


def _rhythm(branch: Branch, held: dict, planned: dict, *, committee: bool = True) -> list[dict]:
    """This quarter's meetings held and still to come, by kind, beside the usual number;
    no committee meetings are expected of a branch without a committee."""
    usual = dict(USUAL_PER_QUARTER.get(branch.kind, {}))
    if not committee:
        usual.pop(Meeting.Kind.COMMITTEE, None)
    labels = dict(Meeting.Kind.choices)
    kinds = [k for k in Meeting.Kind.values if k in usual or k in held or k in planned]
    return [{"kind": k, "label": labels[k], "held": held.get(k, 0), "planned": planned.get(k, 0),
             "usual": usual.get(k), "short": usual.get(k) is not None and held.get(k, 0) + planned.get(k, 0) < usual[k]}
            for k in kinds]


def _members(branch_ids: list[int]) -> dict[int, dict]:
    """Party members of each branch: full (a secretary is one) and probationary, each once."""
    voting: dict[int, dict[int, bool]] = {pk: {} for pk in branch_ids}
    rows = Membership.objects.filter(branch_id__in=branch_ids, role__in=meeting_selectors.PARTY_ROLES)
    for branch_id, user_id, role in rows.values_list("branch_id", "user_id", "role"):
        voting[branch_id][user_id] = voting[branch_id].get(user_id, False) or role in meeting_selectors.VOTING_ROLES
    return {pk: {"full": sum(people.values()), "probationary": len(people) - sum(people.values())}
            for pk, people in voting.items()}


def _below(below: list[tuple[Branch, int]], not_taking_part: dict[int, dict], now: datetime) -> list[dict]:
    """下级组织: for a secretary of a 党委 or of a 党支部 with 党小组, each branch below at a
    glance: its members, leave waiting there, its next meeting, this quarter's meetings
    against the usual rhythm, and how many came to no meeting for six months. A handful
    of queries, however many branches."""
    if not below:
        return []
    ids = [b.pk for b, _depth in below]
    members = _members(ids)
    committees = _with_committee(ids, members)
    quarters = _quarter_counts([b for b, _depth in below], now)
    waiting = dict(_undecided_leave().filter(meeting__branch_id__in=ids)
                   .values_list("meeting__branch_id").annotate(n=Count("id")))
    upcoming = (Meeting.objects.filter(branch_id__in=ids, status__in=RUNNING_OR_SCHEDULED,
                                       ends_at__gte=now, starts_at__lt=now + timedelta(days=UPCOMING_DAYS))
                .order_by("starts_at", "id"))
    next_meeting: dict[int, Meeting] = {}
    for m in upcoming:
        next_meeting.setdefault(m.branch_id, m)
    rows = []
    for b, depth in below:
        held, planned = quarters[b.pk]
        rhythm = _rhythm(b, held, planned, committee=b.pk in committees)
        rows.append({"branch": b, "depth": depth, "members": members[b.pk], "waiting_leave": waiting.get(b.pk, 0),
                     "next_meeting": next_meeting.get(b.pk), "rhythm": rhythm,
                     "short": [r["label"] for r in rhythm if r["short"]],
                     "not_taking_part": len(not_taking_part[b.pk]["people"])})
    return rows


def _scopes(root_id: int, below: list[tuple[Branch, int]]) -> dict[int, set[int]]:
    """For the branch and each branch below it: itself and every branch under it (whose
    meetings are its members' organisational life too, a group's for its branch)."""
    children: dict[int, list[int]] = {}
    for b, _depth in below:
        children.setdefault(b.parent_id, []).append(b.pk)

    def subtree(pk: int) -> set[int]:
        found = {pk}
        for child in children.get(pk, []):
            found |= subtree(child)
        return found

    return {pk: subtree(pk) for pk in [root_id, *(b.pk for b, _depth in below)]}


def _not_taking_part(scopes: dict[int, set[int]], now: datetime) -> dict[int, dict]:
    """For each branch in `scopes`: its party members (as it is now) who were expected at
    one or more of the meetings held in the last six months in it or the branches under
    it, came to none of them, and missed at least one without approved leave. The
    Party's constitution (Article 9) takes six months in a row without organisational
    life, without a proper reason, as leaving the Party: this is a list for the
    secretary to talk to, and says nothing about reasons it does not know. Six queries
    however many meetings and branches."""
    since = now - NOT_TAKING_PART_WINDOW
    everywhere = set().union(*scopes.values())
    held = {pk: (branch_id, started_at) for pk, branch_id, started_at in Meeting.objects.filter(
        branch_id__in=everywhere, status=Meeting.Status.ENDED, started_at__gte=since,
    ).values_list("pk", "branch_id", "started_at")}
    found: dict[int, dict] = {pk: {"people": [], "since": None} for pk in scopes}
    if not held:
        return found
    excluded = set(Exclusion.objects.filter(meeting_id__in=held).values_list("meeting_id", "user_id"))
    came = set(AttendanceInterval.objects.filter(meeting_id__in=held).values_list("meeting_id", "user_id"))
    on_leave = set(LeaveRequest.objects.filter(meeting_id__in=held, status=LeaveRequest.Status.APPROVED)
                   .values_list("meeting_id", "user_id"))
    members: dict[int, set[int]] = {pk: set() for pk in scopes}
    for branch_id, user_id in Membership.objects.filter(branch_id__in=list(scopes),
                                                        role__in=meeting_selectors.PARTY_ROLES).values_list(
            "branch_id", "user_id"):
        members[branch_id].add(user_id)
    roll = [(m, u, name) for m, u, name in RollEntry.objects.filter(meeting_id__in=held).values_list(
        "meeting_id", "user_id", "name") if (m, u) not in excluded]
    for pk, scope in scopes.items():
        tally: dict[int, dict] = {}
        for meeting_id, user_id, name in roll:
            if user_id not in members[pk] or held[meeting_id][0] not in scope:
                continue
            row = tally.setdefault(user_id, {"id": user_id, "name": name, "expected": 0, "came": 0, "missed": 0})
            row["expected"] += 1
            if (meeting_id, user_id) in came:
                row["came"] += 1
            elif (meeting_id, user_id) not in on_leave:
                row["missed"] += 1
        starts = [started for branch_id, started in held.values() if branch_id in scope]
        found[pk] = {"people": sorted((row for row in tally.values() if row["came"] == 0 and row["missed"]),
                                      key=lambda row: (-row["missed"], row["name"], row["id"])),
                     "since": min(starts) if starts else None}
    return found


def next_general(branch: Branch, now: datetime) -> Meeting | None:
    """The branch's next general meeting not begun yet (支部党员大会, where 转正 is decided)."""
    return (Meeting.objects.filter(branch=branch, kind=Meeting.Kind.GENERAL, status__in=(
        Meeting.Status.SCHEDULED, Meeting.Status.OPEN), starts_at__gte=now).order_by("starts_at", "id").first())


def full_membership_steps(branch: Branch, people: list[dict]) -> None:
    """Where each probationary member listed stands with 转正, from the branch's general
    meetings since they were admitted whose agenda carries their item (in any language of
    the site), the latest meeting deciding: `step` is "agenda" (on a meeting not begun),
    "discussing" (under way), "passed" or "failed" (its last closed motion on the item;
    `vote`, `decided`: the day on the branch's clock), "undecided" (ended without a vote
    on it) or None (on no agenda); `meeting`, the meeting. Three queries."""
    titles = {title: p for p in people for title in meeting_actions.full_membership_items(p["name"])}
    for p in people:
        p.update(step=None, meeting=None, vote=None, decided=None)
    items = list(AgendaItem.objects.filter(meeting__branch=branch, meeting__kind=Meeting.Kind.GENERAL,
                                           title__in=list(titles))
                 .exclude(meeting__status=Meeting.Status.CANCELLED).select_related("meeting")
                 .order_by("meeting__starts_at", "meeting_id"))
    items = [i for i in items if i.meeting.starts_at.astimezone(branch.zone).date() >= titles[i.title]["since"]]
    if not items:
        return
    votes = (Vote.objects.filter(Q(agenda_item__in=items) | Q(meeting__in={i.meeting_id for i in items},
                                                                 title__in=list(titles)),
                                 kind=Vote.Kind.MOTION, status=Vote.Status.CLOSED).order_by("closed_at", "id"))
    on_item = {i.pk: titles[i.title] for i in items}
    decided: dict[tuple[int, int], Vote] = {}  # (person's id, meeting) → the last closed motion on the item
    for vote in votes:
        person = on_item.get(vote.agenda_item_id) or titles.get(vote.title)
        if person is not None:
            decided[person["id"], vote.meeting_id] = vote
    for item in items:  # the latest meeting last: it decides
        p, meeting = titles[item.title], item.meeting
        vote = decided.get((p["id"], meeting.pk))
        if vote is not None:
            step = "passed" if vote.passed else "failed"
        elif meeting.status == Meeting.Status.ENDED:
            step = "undecided"
        elif meeting.status == Meeting.Status.LIVE:
            step = "discussing"
        else:
            step = "agenda"
        p.update(step=step, meeting=meeting, vote=vote,
                 decided=timezone.localdate(vote.closed_at, branch.zone) if vote else None)


UNSIGNED_WINDOW = timedelta(days=90)


def _unsigned_minutes(branch: Branch, now: datetime) -> list[Meeting]:
    """记录签字: the branch's meetings that ended in the last 90 days whose minutes the
    chair and the minute-taker have not both signed, each with who has yet to
    (`waiting_for`: display names), oldest first. Two queries."""
    ended = list(Meeting.objects.filter(branch=branch, status=Meeting.Status.ENDED,
                                        ended_at__gte=now - UNSIGNED_WINDOW)
                 .select_related("chair", "minute_taker").order_by("ended_at", "id"))
    signed: dict[int, set[str]] = {}
    for meeting_id, role in MinutesSignature.objects.filter(meeting__in=ended).values_list("meeting_id", "role"):
        signed.setdefault(meeting_id, set()).add(role)
    waiting = []
    for m in ended:
        people = [(MinutesSignature.Role.CHAIR, m.chair)] + (
            [(MinutesSignature.Role.MINUTE_TAKER, m.minute_taker)] if m.minute_taker_id else [])
        m.waiting_for = [meeting_selectors.display_name(user) for role, user in people
                         if role not in signed.get(m.pk, set())]
        if m.waiting_for:
            waiting.append(m)
    return waiting


def overview(identity: Identity, branch: Branch, *, now: datetime | None = None,
             pending_review: int | None = None) -> dict:
    """Everything the front page shows; the caller has checked the reader may read the branch.
    `pending_review`: the review queue's count when the caller has it already (the tabs)."""
    now = now or timezone.now()
    manages = can_manage_branch(identity, branch.pk)
    moderates = can_moderate_branch(identity, branch.pk)
    below = branches_below(branch.pk)
    context = {
        "meetings": _meetings(identity, branch, now),
        "my_year": _my_year(identity, branch, below, now),
        "announcements": _announcements(identity, branch, manages),
        "discussions": _discussions(identity, branch, now),
        "manages": manages,
        "moderates": moderates,
        "my_anniversary": _my_anniversary(identity, branch, now),
        "my_probation": _my_probation(identity, branch, now),
    }
    if moderates:
        context["pending_review"] = (pending_review if pending_review is not None
                                     else review_counts(branch.pk).get("pending", 0))
    if manages:
        today = timezone.localdate(now, branch.zone)
        context["probation"] = party_dates.due([branch.pk], today)[branch.pk]
        context["next_general"] = next_general(branch, now)
        full_membership_steps(branch, context["probation"]["people"])
        context["anniversaries"] = party_dates.anniversaries([branch.pk], today)[branch.pk]
        not_taking_part = _not_taking_part(_scopes(branch.pk, below), now)
        leave, leave_count = _waiting_leave(branch)
        members = _members([branch.pk])
        scheduled = announcement_scheduling.open_ones(branch.pk)
        context.update(
            waiting_leave=leave,
            waiting_leave_count=leave_count,
            scheduled=[s for s in scheduled if s.status == s.Status.SCHEDULED],
            failed_scheduled=[s for s in scheduled if s.status == s.Status.FAILED],
            rhythm=_rhythm(branch, *_quarter_counts([branch], now)[branch.pk],
                           committee=branch.pk in _with_committee([branch.pk], members)),
            quarter=quarter_start(now, branch),
            members=members[branch.pk],
            below=_below(below, not_taking_part, now),
            not_taking_part=not_taking_part[branch.pk],
            unsigned_minutes=_unsigned_minutes(branch, now),
        )
    return context
