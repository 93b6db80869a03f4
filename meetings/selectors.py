"""Permission-aware reads for meetings: who may see, join and run one, and who is expected.

Roles (docs/protocol.md, "Meetings"):
- may see: members of the meeting's branch (any role) and secretaries above it;
- host: the chair and the secretaries of the branch or above (they run the meeting);
- moderator: the branch's forum moderators (mute, hide chat);
- expected (应到): derived from the kind, minus approved exclusions; frozen at start;
- voting: full members (full or secretary role) among the expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import rights
from accounts.identity import Identity
from accounts.models import Branch, Membership
from accounts.selectors import can_manage_branch, can_read_branch
from realtime.errors import Forbidden, NotFound
from realtime.frames import iso

from . import attendance as calculus
from . import quorum as rules
from .models import (
    AttendanceInterval,
    ChatMessage,
    CommitteeMember,
    Exclusion,
    LeaveRequest,
    Meeting,
    MinutesSignature,
    OpenBallot,
    PaperCount,
    Participant,
    Remark,
    RollEntry,
    Vote,
    VoteParticipation,
    person,
)

PARTY_ROLES = (Membership.Role.FULL, Membership.Role.PROBATIONARY, Membership.Role.SECRETARY)
VOTING_ROLES = (Membership.Role.FULL, Membership.Role.SECRETARY)


# -- finding a meeting and the caller's roles in it ------------------------------------------


def meeting_for(identity: Identity, meeting_id: int, *, for_update: bool = False) -> Meeting:
    qs = Meeting.objects.select_related("branch", "chair", "minute_taker")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    meeting = qs.filter(pk=meeting_id).first()
    if meeting is None or not may_see(identity, meeting):
        # Not "forbidden": a meeting's existence is not revealed to outsiders.
        raise NotFound(_("There is no meeting %(id)s.") % {"id": meeting_id})
    return meeting


def may_see(identity: Identity, meeting: Meeting) -> bool:
    return identity.is_user and can_read_branch(identity, meeting.branch_id)


def is_host(identity: Identity, meeting: Meeting) -> bool:
    if not identity.is_user:
        return False
    return meeting.chair_id == identity.user_id or can_manage_branch(identity, meeting.branch_id)


def is_minute_taker(identity: Identity, meeting: Meeting) -> bool:
    return identity.is_user and meeting.minute_taker_id == identity.user_id


def is_moderator(identity: Identity, meeting: Meeting) -> bool:
    return identity.is_user and Membership.objects.filter(
        user_id=identity.user_id, branch_id=meeting.branch_id, role=Membership.Role.MODERATOR
    ).exists()


def can_manage(identity: Identity, meeting: Meeting) -> bool:
    """Secretaries of the branch or above: leave, exclusions, written opinions."""
    return identity.is_user and can_manage_branch(identity, meeting.branch_id)


def participant(meeting: Meeting, user_id: int | None) -> Participant | None:
    if user_id is None:
        return None
    return Participant.objects.filter(meeting=meeting, user_id=user_id).first()


def is_admitted(identity: Identity, meeting: Meeting) -> bool:
    return (
        identity.is_user
        and Participant.objects.filter(
            meeting=meeting, user_id=identity.user_id, state=Participant.State.ADMITTED
        ).exists()
    )


def can_subscribe(identity: Identity, meeting: Meeting) -> bool:
    """The stream: admitted participants while it runs, hosts always, everyone who may see once over."""
    if not may_see(identity, meeting):
        return False
    if meeting.status in (Meeting.Status.ENDED, Meeting.Status.CANCELLED):
        return True
    if is_host(identity, meeting):
        return True
    return meeting.is_running and is_admitted(identity, meeting)


# -- who is expected ---------------------------------------------------------------------------


def _names(user_ids) -> dict[int, str]:
    User = get_user_model()
    return {
        pk: f"{first} {last}".strip() or username
        for pk, first, last, username in User.objects.filter(pk__in=list(user_ids)).values_list(
            "pk", "first_name", "last_name", "username"
        )
    }


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def party_members(branch_id: int) -> dict[int, bool]:
    """Party members of a branch -> has a vote (full member or secretary), unless their
    rights are suspended today (留党察看, detention: accounts/rights.py)."""
    members: dict[int, bool] = {}
    for user_id, role in Membership.objects.filter(branch_id=branch_id, role__in=PARTY_ROLES).values_list(
        "user_id", "role"
    ):
        members[user_id] = members.get(user_id, False) or role in VOTING_ROLES
    for user_id in rights.suspended(branch_id):
        members[user_id] = False
    return members


def electable(meeting: Meeting, members: dict[int, bool] | None = None) -> set[int]:
    """Who may stand or be written in at an election of this meeting: full members of the
    branch with their rights (party_members, or the caller's read of it); at a committee
    meeting (支部委员会, which elects the secretary and deputy from among its members)
    only the committee on its roll."""
    members = members if members is not None else party_members(meeting.branch_id)
    members = {user_id for user_id, voting in members.items() if voting}
    if meeting.kind == Meeting.Kind.COMMITTEE:
        members &= set(roll_for(meeting).everyone)
    return members


def derived_expected(meeting: Meeting) -> dict[int, bool]:
    """Who the meeting's kind expects (before exclusions) -> voting."""
    members = party_members(meeting.branch_id)
    if meeting.kind == Meeting.Kind.COMMITTEE:
        seats = set(
            Membership.objects.filter(branch_id=meeting.branch_id, role=Membership.Role.SECRETARY).values_list(
                "user_id", flat=True
            )
        )
        seats |= set(CommitteeMember.objects.filter(branch_id=meeting.branch_id).values_list("user_id", flat=True))
        return {user_id: members.get(user_id, False) for user_id in seats}
    # general, lecture, other: the whole branch; group: the group branch's members.
    return members


def expected_before_exclusions(meeting: Meeting) -> dict[int, bool]:
    """The frozen roll once the meeting went live; the derived one before."""
    if meeting.started_at is not None:
        return dict(RollEntry.objects.filter(meeting=meeting).values_list("user_id", "voting"))
    return derived_expected(meeting)


@dataclass
class Roll:
    everyone: dict[int, bool]  # derived/frozen roll -> voting
    excluded: dict[int, Exclusion]

    @property
    def expected(self) -> dict[int, bool]:
        """应到: the roll minus approved exclusions."""
        return {uid: voting for uid, voting in self.everyone.items() if uid not in self.excluded}

    @property
    def voting_expected(self) -> int:
        full = sum(1 for voting in self.everyone.values() if voting)
        excluded_full = sum(1 for uid in self.excluded if self.everyone.get(uid))
        return rules.voting_expected(full_members_expected=full, approved_exclusions=excluded_full)


def roll_for(meeting: Meeting) -> Roll:
    everyone = expected_before_exclusions(meeting)
    excluded = {
        e.user_id: e
        for e in Exclusion.objects.filter(meeting=meeting).select_related("user", "approved_by")
        if e.user_id in everyone
    }
    return Roll(everyone=everyone, excluded=excluded)


def is_expected(meeting: Meeting, user_id: int | None) -> bool:
    return user_id is not None and user_id in roll_for(meeting).expected


def expected_of(user_id: int, meetings: list[Meeting]) -> set[int]:
    """The ids of those `meetings` that expect `user_id` (应到): roll_for(m).expected for
    one member, in four queries however many meetings."""
    ids = [m.pk for m in meetings]
    roles: dict[int, set[str]] = {}
    for branch_id, role in Membership.objects.filter(user_id=user_id).values_list("branch_id", "role"):
        roles.setdefault(branch_id, set()).add(role)
    seats = set(CommitteeMember.objects.filter(user_id=user_id).values_list("branch_id", flat=True))
    frozen = set(RollEntry.objects.filter(meeting_id__in=[m.pk for m in meetings if m.started_at is not None],
                                          user_id=user_id).values_list("meeting_id", flat=True))
    excluded = set(Exclusion.objects.filter(meeting_id__in=ids, user_id=user_id).values_list("meeting_id", flat=True))
    found = set()
    for m in meetings:
        if m.pk in excluded:
            continue
        if m.started_at is not None:
            on_roll = m.pk in frozen
        elif m.kind == Meeting.Kind.COMMITTEE:
            on_roll = Membership.Role.SECRETARY in roles.get(m.branch_id, ()) or m.branch_id in seats
        else:
            on_roll = bool(roles.get(m.branch_id, set()) & set(PARTY_ROLES))
        if on_roll:
            found.add(m.pk)
    return found


# -- attendance --------------------------------------------------------------------------------


def attendance_window(meeting: Meeting, now: datetime) -> tuple[datetime, datetime]:
    """From the actual start (else the scheduled one) to the actual end.

    While the meeting runs the end lies beyond now, so nobody has "left early" yet.
    """
    start = meeting.started_at or meeting.starts_at
    if meeting.ended_at is not None:
        return start, meeting.ended_at
    return start, max(meeting.ends_at, now) + timedelta(days=1)


def _intervals(meeting: Meeting) -> dict[int, list[calculus.Interval]]:
    stays: dict[int, list[calculus.Interval]] = {}
    for user_id, joined_at, left_at in AttendanceInterval.objects.filter(meeting=meeting).values_list(
        "user_id", "joined_at", "left_at"
    ):
        stays.setdefault(user_id, []).append(calculus.Interval(joined_at, left_at))
    return stays


def connected_user_ids(meeting: Meeting) -> set[int]:
    """Present now: on the meeting's stream, or checked in in the room (quorum counts both)."""
    return set(
        AttendanceInterval.objects.filter(meeting=meeting, left_at__isnull=True).values_list("user_id", flat=True)
    )


def present_by_way(meeting: Meeting) -> tuple[set[int], set[int]]:
    """Present now, (online, in the room): on the meeting's stream, and checked in there
    (现场签到); one person may be both."""
    online, room = set(), set()
    for user_id, in_room in AttendanceInterval.objects.filter(meeting=meeting, left_at__isnull=True).values_list(
            "user_id", "in_room"):
        (room if in_room else online).add(user_id)
    return online, room


def approved_leave(meeting: Meeting) -> dict[int, LeaveRequest]:
    return {
        leave.user_id: leave
        for leave in LeaveRequest.objects.filter(meeting=meeting, status=LeaveRequest.Status.APPROVED)
    }


def quorum_state(roll: Roll, connected: set[int]) -> dict:
    voting_expected = roll.voting_expected
    voting_present = sum(1 for uid, voting in roll.expected.items() if voting and uid in connected)
    motion = rules.check_quorum("motion", present=voting_present, expected=voting_expected)
    election = rules.check_quorum("election", present=voting_present, expected=voting_expected)
    return {
        "voting_expected": voting_expected,
        "voting_present": voting_present,
        "motion_required": motion.required,
        "election_required": election.required,
        "motion_met": motion.met,
        "election_met": election.met,
    }


def summary(meeting: Meeting, *, now: datetime | None = None, roll: Roll | None = None) -> dict:
    """Counts and quorum in a few aggregate queries (published with every join and leave).

    `roll`: the caller's roll_for(meeting) from the same transaction, to not read it twice.
    """
    now = now or timezone.now()
    roll = roll or roll_for(meeting)
    expected = roll.expected
    firsts = dict(
        AttendanceInterval.objects.filter(meeting=meeting)
        .values("user_id")
        .annotate(first=Min("joined_at"))
        .values_list("user_id", "first")
    )
    connected = connected_user_ids(meeting)
    leave = approved_leave(meeting)
    start, _end = attendance_window(meeting, now)
    grace = timedelta(minutes=meeting.late_grace_minutes)
    came = {uid for uid in expected if uid in firsts}
    excused = {uid for uid in expected if uid in leave and uid not in came}
    guests = {uid for uid in firsts if uid not in roll.everyone}
    counts = {
        "expected": len(expected),
        "present": len(came),
        "excused": len(excused),
        "absent": len(expected) - len(came) - len(excused),
        "excluded": len(roll.excluded),
        "late": sum(1 for uid in came if firsts[uid] > start + grace),
        "guests": len(guests),
    }
    return {"counts": counts, "quorum": quorum_state(roll, connected)}


def attendance_report(meeting: Meeting, *, now: datetime | None = None, roll: Roll | None = None) -> dict:
    """Counts, quorum and one row per expected, excluded or guest attendee."""
    now = now or timezone.now()
    roll = roll or roll_for(meeting)
    stays = _intervals(meeting)
    online, room = present_by_way(meeting)
    checked_in = set(AttendanceInterval.objects.filter(meeting=meeting, in_room=True).values_list("user_id", flat=True))
    leaves = {leave.user_id: leave for leave in LeaveRequest.objects.filter(meeting=meeting)}
    start, end = attendance_window(meeting, now)
    grace = timedelta(minutes=meeting.late_grace_minutes)
    people = set(roll.everyone) | set(stays)
    names = _names(people)
    rows = []
    for uid in people:
        expected = uid in roll.everyone
        leave = leaves.get(uid)
        excused = leave is not None and leave.status == LeaveRequest.Status.APPROVED
        exclusion = roll.excluded.get(uid)
        result = calculus.attendance(
            stays.get(uid, []),
            starts_at=start,
            ends_at=end,
            now=now,
            excused=excused,
            excluded=exclusion is not None,
            late_grace=grace,
        )
        status = result.status if expected else "guest"
        rows.append(
            {
                "user": {"id": uid, "name": names.get(uid, "")},
                "expected": expected and exclusion is None,
                "voting": bool(roll.everyone.get(uid)) and exclusion is None,
                "status": status,
                "first_join": iso(result.first_join) if result.first_join else None,
                "last_leave": iso(result.last_leave) if result.last_leave else None,
                "present_seconds": int(result.present_for.total_seconds()),
                "connected": uid in online,
                "in_room": uid in room,  # now
                "checked_in": uid in checked_in,  # at any time (现场签到)
                "leave": {"status": leave.status, "reason": leave.reason} if leave else None,
                "exclusion": (
                    {
                        "reason": exclusion.reason,
                        "note": exclusion.note,
                        "approved_by": person(exclusion.approved_by),
                        "approved_at": iso(exclusion.approved_at),
                    }
                    if exclusion
                    else None
                ),
            }
        )
    order = {"present": 0, "late": 1, "left_early": 2, "late_and_left_early": 3, "excused": 4, "absent": 5,
             "excluded": 6, "guest": 7}
    rows.sort(key=lambda r: (order.get(r["status"], 9), r["user"]["name"], r["user"]["id"]))
    return {**summary(meeting, now=now, roll=roll), "rows": rows}


# -- votes, hands, chat -----------------------------------------------------------------------


def signatures(meeting: Meeting) -> dict:
    """记录签字: who signs the minutes (the chair, and the minute-taker when there is one),
    who has, and whether the record is final (everyone required has signed)."""
    required = [MinutesSignature.Role.CHAIR] + ([MinutesSignature.Role.MINUTE_TAKER] if meeting.minute_taker_id else [])
    signed = [s.to_dict() for s in MinutesSignature.objects.filter(meeting=meeting).select_related("user")]
    return {"required": [str(r) for r in required], "signatures": signed,
            "final": bool(signed) and set(required) <= {s["role"] for s in signed}}


def vote_dict(vote: Vote) -> dict:
    options = [
        {"key": o.key, "label": o.label, "candidate": person(o.candidate), "write_in": o.write_in}
        for o in vote.options.select_related("candidate").order_by("position")
    ]
    participations = VoteParticipation.objects.filter(vote=vote)
    return {
        "id": vote.pk,
        "meeting": vote.meeting_id,
        "agenda_item": vote.agenda_item_id,
        "kind": vote.kind,
        "title": vote.title,
        "secret": vote.secret,
        "seats": vote.seats,
        "status": vote.status,
        "options": options,
        "voting_expected": vote.voting_expected,
        "present_at_open": vote.present_at_open,
        "required_present": vote.required_present,
        "opened_at": iso(vote.opened_at) if vote.opened_at else None,
        "closed_at": iso(vote.closed_at) if vote.closed_at else None,
        "cast": participations.count(),
        "written": participations.filter(via=VoteParticipation.Via.WRITTEN).count(),
        "hands": participations.filter(via=VoteParticipation.Via.HANDS).count(),
        "paper": paper_ballots(vote, participations),
        "result": vote.result,
        "passed": vote.passed,
    }


def paper_ballots(vote: Vote, participations) -> dict | None:
    """纸质选票 of a secret vote: to whom they were handed and, once the box is counted,
    how many came back and how many were spoilt; None when there were none."""
    if not vote.secret:
        return None
    holders = [person(p.user) for p in participations.filter(via=VoteParticipation.Via.PAPER)
               .select_related("user").order_by("user_id")]
    if vote.status == Vote.Status.CLOSED:
        counted = (vote.result or {}).get("paper")
    else:
        counted = PaperCount.objects.filter(vote=vote).values("returned", "invalid", "scrutineers").first()
        if counted:
            names = _names(counted["scrutineers"])
            counted["scrutineers"] = [{"id": uid, "name": names.get(uid, "")} for uid in sorted(counted["scrutineers"])]
    if not holders and not counted:
        return None
    return {"issued": len(holders), "to": holders, "counted": counted is not None,
            "returned": counted["returned"] if counted else None, "invalid": counted["invalid"] if counted else None,
            "scrutineers": counted.get("scrutineers", []) if counted else []}


def vote_for(identity: Identity, vote_id: int, *, for_update: bool = False) -> Vote:
    qs = Vote.objects.select_related("meeting", "meeting__branch")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    vote = qs.filter(pk=vote_id).first()
    if vote is None or not may_see(identity, vote.meeting):
        raise NotFound(_("There is no vote %(id)s.") % {"id": vote_id})
    return vote


def open_ballots(vote: Vote) -> list[dict]:
    """Who chose what in an open (named) vote, for the minutes."""
    if vote.secret:
        return []
    rows = OpenBallot.objects.filter(vote=vote).select_related("user").order_by("user_id")
    return [{"user": person(b.user), "choices": b.choices, "via": b.via} for b in rows]


def hand_queue(meeting: Meeting) -> list[dict]:
    rows = (
        Participant.objects.filter(meeting=meeting, hand_raised_at__isnull=False, state=Participant.State.ADMITTED)
        .select_related("user")
        .order_by("hand_raised_at", "id")
    )
    return [person(p.user) for p in rows]


def participants(meeting: Meeting, *, include_waiting: bool) -> list[dict]:
    states = [Participant.State.ADMITTED]
    if include_waiting:  # hosts also see who is waiting, and whom they denied or removed (to admit again)
        states += [Participant.State.WAITING, Participant.State.DENIED, Participant.State.REMOVED]
    online, _room = present_by_way(meeting)
    rows = Participant.objects.filter(meeting=meeting, state__in=states).select_related("user").order_by("id")
    return [{**p.to_dict(), "connected": p.user_id in online} for p in rows]


def chat_messages(meeting: Meeting, *, moderator: bool, limit: int = 200) -> list[dict]:
    statuses = [ChatMessage.Status.VISIBLE]
    if moderator:
        statuses.append(ChatMessage.Status.PENDING)
    rows = ChatMessage.objects.filter(meeting=meeting, status__in=statuses).select_related("author").order_by("-id")
    return [m.to_dict(moderator=moderator) for m in reversed(rows[:limit])]


def you(identity: Identity, meeting: Meeting, *, roll: Roll | None = None) -> dict:
    p = participant(meeting, identity.user_id)
    roll = roll or roll_for(meeting)
    return {
        "host": is_host(identity, meeting),
        "chair": meeting.chair_id == identity.user_id,
        "minute_taker": is_minute_taker(identity, meeting),
        "moderator": is_moderator(identity, meeting),
        "secretary": can_manage(identity, meeting),
        "expected": identity.user_id in roll.expected,
        "voting": bool(roll.expected.get(identity.user_id)),
        "state": p.state if p else None,
    }


def snapshot(identity: Identity, meeting: Meeting) -> dict:
    # Every participant's subscribe builds one (200 in a join storm): the roll and the
    # caller's roles are read once here and handed down.
    roll = roll_for(meeting)
    me = you(identity, meeting, roll=roll)
    host = me["host"]
    chat_moderator = host or me["moderator"]
    votes = list(meeting.votes.all())
    return {
        "meeting": meeting.to_dict(),
        "agenda": [item.to_dict() for item in meeting.agenda.all()],
        "you": me,
        "participants": participants(meeting, include_waiting=host),
        "hands": hand_queue(meeting),
        "attendance": attendance_report(meeting, roll=roll),
        "votes": [vote_dict(v) for v in votes],
        "my_votes": sorted(
            VoteParticipation.objects.filter(vote__in=votes, user_id=identity.user_id).values_list("vote_id", flat=True)
        ),
        "chat": chat_messages(meeting, moderator=chat_moderator),
        "remarks": [r.to_dict() for r in Remark.objects.filter(meeting=meeting).select_related("author")],
    }


def meeting_details(identity: Identity, meeting: Meeting) -> dict:
    host = is_host(identity, meeting)
    manage = can_manage(identity, meeting)
    mine = LeaveRequest.objects.filter(meeting=meeting, user_id=identity.user_id).select_related("user").first()
    details = {
        "meeting": meeting.to_dict(),
        "agenda": [item.to_dict() for item in meeting.agenda.all()],
        "you": you(identity, meeting),
        **summary(meeting),
        "my_leave": mine.to_dict() if mine else None,
        "exclusions": [
            e.to_dict() for e in Exclusion.objects.filter(meeting=meeting).select_related("user", "approved_by")
        ],
        "votes": [vote_dict(v) for v in meeting.votes.all()],
    }
    if host or manage:
        details["leave_requests"] = [
            leave.to_dict()
            for leave in LeaveRequest.objects.filter(meeting=meeting).select_related("user", "decided_by").order_by("id")
        ]
    return details


def meetings_in_branch(identity: Identity, branch_id: int, *, start: datetime | None = None,
                       end: datetime | None = None, status: str | None = None) -> list[dict]:
    if not identity.is_user or not can_read_branch(identity, branch_id):
        raise NotFound(_("There is no branch %(id)s.") % {"id": branch_id})
    qs = Meeting.objects.filter(branch_id=branch_id).select_related("branch", "chair", "minute_taker")
    if start is not None:
        qs = qs.filter(ends_at__gte=start)
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    if status:
        qs = qs.filter(status=status)
    meetings = list(qs.order_by("starts_at", "id")[:500])
    mine = {
        leave.meeting_id: leave.to_dict()
        for leave in LeaveRequest.objects.filter(meeting__in=meetings, user_id=identity.user_id).select_related("user")
    }
    out = []
    for meeting in meetings:
        roll = roll_for(meeting)
        out.append({**meeting.to_dict(), "expected": len(roll.expected),
                    "you_expected": identity.user_id in roll.expected, "my_leave": mine.get(meeting.pk)})
    return out


# -- 会议台账 ----------------------------------------------------------------------------------


def register_years(branch: Branch) -> list[int]:
    """The years (on the branch's clock) the branch has meetings in, newest first."""
    days = Meeting.objects.filter(branch=branch).datetimes("starts_at", "year", order="DESC", tzinfo=branch.zone)
    return [day.year for day in days]


def register(identity: Identity, branch_id: int, year: int | None = None) -> list[dict]:
    """会议台账, for the branch's secretaries: each meeting of `year` (its start on the
    branch's clock; all with None), oldest first, cancelled ones too, with its
    attendance counts as the attendance page gives them and, once held, the share of
    those expected who came (percent). A few queries a meeting."""
    if not identity.is_user or not can_read_branch(identity, branch_id):
        raise NotFound(_("There is no branch %(id)s.") % {"id": branch_id})
    if not can_manage_branch(identity, branch_id):
        raise Forbidden(_("Only the branch secretary may download the record of its meetings."))
    branch = Branch.objects.get(pk=branch_id)
    rows = Meeting.objects.filter(branch=branch)
    if year is not None:
        rows = rows.filter(starts_at__gte=datetime(year, 1, 1, tzinfo=branch.zone),
                           starts_at__lt=datetime(year + 1, 1, 1, tzinfo=branch.zone))
    now = timezone.now()
    out = []
    for meeting in rows.select_related("branch", "chair", "minute_taker").order_by("starts_at", "id"):
        counts = summary(meeting, now=now)["counts"]
        out.append({"meeting": meeting, "starts_at": meeting.starts_at.astimezone(branch.zone),
                    "ends_at": meeting.ends_at.astimezone(branch.zone), "counts": counts,
                    "rate": round(100 * counts["present"] / counts["expected"])
                    if counts["expected"] and meeting.status == Meeting.Status.ENDED else None})
    return out


def own_record(identity: Identity, branch_ids: list[int], start: datetime, end: datetime | None = None) -> list[dict]:
    """The reader's own attendance at the meetings held (ended) from `start` (to `end`) in
    these branches where they were on the roll and counted: each with its status as the
    attendance page would give it (present, late, left early, on leave, absent), oldest
    first. Five queries however many meetings."""
    meetings = Meeting.objects.filter(branch_id__in=branch_ids, status=Meeting.Status.ENDED, started_at__gte=start,
                                      roll__user_id=identity.user_id)
    if end is not None:
        meetings = meetings.filter(started_at__lt=end)
    meetings = list(meetings.exclude(exclusions__user_id=identity.user_id).select_related("branch")
                    .order_by("started_at", "id"))
    ids = [m.pk for m in meetings]
    stays: dict[int, list[calculus.Interval]] = {}
    for meeting_id, joined_at, left_at in AttendanceInterval.objects.filter(
            meeting_id__in=ids, user_id=identity.user_id).values_list("meeting_id", "joined_at", "left_at"):
        stays.setdefault(meeting_id, []).append(calculus.Interval(joined_at, left_at))
    excused = set(LeaveRequest.objects.filter(meeting_id__in=ids, user_id=identity.user_id,
                                              status=LeaveRequest.Status.APPROVED).values_list("meeting_id", flat=True))
    now = timezone.now()
    rows = []
    for m in meetings:
        window_start, window_end = attendance_window(m, now)
        result = calculus.attendance(stays.get(m.pk, []), starts_at=window_start, ends_at=window_end, now=now,
                                     excused=m.pk in excused, late_grace=timedelta(minutes=m.late_grace_minutes))
        rows.append({"meeting": m, "status": result.status, "came": m.pk in stays})
    return rows


def own_counts(rows: list[dict]) -> dict[str, int]:
    """own_record's rows summed: expected at, came to, on leave from, absent from."""
    return {"expected": len(rows), "came": sum(1 for r in rows if r["came"]),
            "excused": sum(1 for r in rows if r["status"] == "excused"),
            "absent": sum(1 for r in rows if r["status"] == "absent")}
