"""The `meeting:<id>` stream type, its attendance hook, and the `meetings.*` ops.

Each op parses strict arguments, calls one action or selector and shapes the reply;
permission checks live in the actions and selectors (docs/protocol.md, "Meetings").
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from pydantic import Field

from accounts.identity import Identity
from realtime.errors import Forbidden, Invalid
from realtime.ops import OpArgs, OpContext, register_op
from realtime.streams import StreamType, register_stream_type

from . import actions, selectors
from .models import Meeting


def _int(object_id: str) -> int | None:
    return int(object_id) if object_id.isdigit() and len(object_id) < 12 else None


def _exists(object_id: str) -> bool:
    meeting_id = _int(object_id)
    return meeting_id is not None and Meeting.objects.filter(pk=meeting_id).exists()


def _can_read(identity: Identity, object_id: str) -> bool:
    meeting = Meeting.objects.select_related("branch").filter(pk=_int(object_id) or 0).first()
    return meeting is not None and selectors.can_subscribe(identity, meeting)


def _snapshot(identity: Identity, object_id: str) -> dict:
    meeting = selectors.meeting_for(identity, int(object_id))
    return selectors.snapshot(identity, meeting)


def _user_id(key: str) -> int | None:
    kind, _sep, raw = key.partition(":")
    return int(raw) if kind == "u" and raw.isdigit() else None


def _on_presence(object_id: str, joined: dict, left: dict) -> None:
    """Attendance: a participant's first socket in opens a stay, their last one out ends it."""
    meeting_id = _int(object_id)
    if meeting_id is None:
        return
    for key, (at, lost) in sorted(left.items()):
        user_id = _user_id(key)
        if user_id is not None:
            actions.record_leave(meeting_id=meeting_id, user_id=user_id, at=at, lost=lost)
    for key, at in sorted(joined.items()):
        user_id = _user_id(key)
        if user_id is not None:
            actions.record_join(meeting_id=meeting_id, user_id=user_id, at=at)


register_stream_type(
    StreamType(
        name="meeting", can_read=_can_read, snapshot=_snapshot, exists=_exists, presence=True, on_presence=_on_presence
    )
)


def _time(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Invalid(field, _("Give a date and time with a zone, like 2026-11-28T09:00+08:00."))
    return parsed


# -- reads -------------------------------------------------------------------------------------


class ListArgs(OpArgs):
    branch: int
    from_: str | None = Field(default=None, alias="from")  # `from` on the wire
    to: str | None = None
    status: str | None = None


@register_op("meetings.list", args=ListArgs)
def list_meetings(ctx: OpContext, args: ListArgs) -> dict:
    if args.status is not None and args.status not in Meeting.Status.values:
        raise Invalid("status", _("Unknown status."))
    meetings = selectors.meetings_in_branch(
        ctx.identity, args.branch, start=_time("from", args.from_), end=_time("to", args.to), status=args.status
    )
    return {"meetings": meetings}


class MeetingArgs(OpArgs):
    meeting: int


@register_op("meetings.get", args=MeetingArgs)
def get_meeting(ctx: OpContext, args: MeetingArgs) -> dict:
    meeting = selectors.meeting_for(ctx.identity, args.meeting)
    return selectors.meeting_details(ctx.identity, meeting)


def attendance_for(identity: Identity, meeting_id: int) -> tuple[Meeting, dict]:
    """Hosts and the minute-taker at any time; everyone who may see it once it has ended."""
    meeting = selectors.meeting_for(identity, meeting_id)
    if not (
        meeting.status == Meeting.Status.ENDED
        or selectors.is_host(identity, meeting)
        or selectors.is_minute_taker(identity, meeting)
    ):
        raise Forbidden(_("The attendance report is for the hosts until the meeting has ended."))
    return meeting, selectors.attendance_report(meeting)


@register_op("meetings.attendance", args=MeetingArgs)
def attendance(ctx: OpContext, args: MeetingArgs) -> dict:
    return attendance_for(ctx.identity, args.meeting)[1]


# -- scheduling --------------------------------------------------------------------------------


class ScheduleArgs(OpArgs):
    branch: int
    kind: str
    title: str
    starts_at: str
    ends_at: str
    chair: int
    minute_taker: int | None = None
    description: str = ""
    place: str = ""
    online: bool = True
    agenda: list[str] = []
    lobby_policy: str = Meeting.LobbyPolicy.INVITED
    late_grace_minutes: int = 5


@register_op("meetings.schedule", args=ScheduleArgs, writes=True)
def schedule(ctx: OpContext, args: ScheduleArgs) -> dict:
    meeting = actions.schedule_meeting(
        identity=ctx.identity, branch_id=args.branch, kind=args.kind, title=args.title, starts_at=args.starts_at,
        ends_at=args.ends_at, chair_id=args.chair, minute_taker_id=args.minute_taker, description=args.description,
        place=args.place, online=args.online, agenda=args.agenda, lobby_policy=args.lobby_policy,
        late_grace_minutes=args.late_grace_minutes,
    )
    return {"meeting": meeting.to_dict()}


class UpdateArgs(OpArgs):
    meeting: int
    title: str | None = None
    description: str | None = None
    place: str | None = None
    online: bool | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    chair: int | None = None
    minute_taker: int | None = None
    lobby_policy: str | None = None
    late_grace_minutes: int | None = None


@register_op("meetings.update", args=UpdateArgs, writes=True)
def update(ctx: OpContext, args: UpdateArgs) -> dict:
    changes = args.model_dump(exclude={"meeting"}, exclude_unset=True)
    if changes.get("chair", 0) is None:
        raise Invalid("chair", _("A meeting needs a chair."))
    for field in ("title", "description", "place", "online", "starts_at", "ends_at", "lobby_policy",
                  "late_grace_minutes"):
        if field in changes and changes[field] is None:
            raise Invalid(field, _("This field cannot be empty."))
    meeting = actions.update_meeting(identity=ctx.identity, meeting_id=args.meeting, **changes)
    return {"meeting": meeting.to_dict()}


class CancelArgs(OpArgs):
    meeting: int
    reason: str = ""


@register_op("meetings.cancel", args=CancelArgs, writes=True)
def cancel(ctx: OpContext, args: CancelArgs) -> dict:
    return {"meeting": actions.cancel_meeting(identity=ctx.identity, meeting_id=args.meeting,
                                              reason=args.reason).to_dict()}


class AgendaEntry(OpArgs):
    id: int | None = None
    title: str
    notes: str = ""


class AgendaArgs(OpArgs):
    meeting: int
    items: list[AgendaEntry]


@register_op("meetings.agenda.set", args=AgendaArgs, writes=True)
def agenda_set(ctx: OpContext, args: AgendaArgs) -> dict:
    items = actions.set_agenda(identity=ctx.identity, meeting_id=args.meeting,
                               items=[item.model_dump() for item in args.items])
    return {"agenda": [item.to_dict() for item in items]}


# -- lifecycle, lobby, room ---------------------------------------------------------------------


@register_op("meetings.open", args=MeetingArgs, writes=True)
def open_(ctx: OpContext, args: MeetingArgs) -> dict:
    return {"meeting": actions.open_meeting(identity=ctx.identity, meeting_id=args.meeting).to_dict()}


@register_op("meetings.start", args=MeetingArgs, writes=True)
def start(ctx: OpContext, args: MeetingArgs) -> dict:
    return {"meeting": actions.start_meeting(identity=ctx.identity, meeting_id=args.meeting).to_dict()}


@register_op("meetings.end", args=MeetingArgs, writes=True)
def end(ctx: OpContext, args: MeetingArgs) -> dict:
    return {"meeting": actions.end_meeting(identity=ctx.identity, meeting_id=args.meeting).to_dict()}


@register_op("meetings.join", args=MeetingArgs, writes=True)
def join(ctx: OpContext, args: MeetingArgs) -> dict:
    p = actions.join_meeting(identity=ctx.identity, meeting_id=args.meeting)
    meeting = selectors.meeting_for(ctx.identity, args.meeting)
    return {"state": p.state, "meeting": meeting.to_dict()}


class LobbyArgs(OpArgs):
    meeting: int
    user: int
    admit: bool


@register_op("meetings.lobby.decide", args=LobbyArgs, writes=True)
def lobby_decide(ctx: OpContext, args: LobbyArgs) -> dict:
    p = actions.decide_lobby(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user, admit=args.admit)
    return {"participant": p.to_dict()}


class LockArgs(OpArgs):
    meeting: int
    locked: bool


@register_op("meetings.lock", args=LockArgs, writes=True)
def lock(ctx: OpContext, args: LockArgs) -> dict:
    return {"meeting": actions.lock_meeting(identity=ctx.identity, meeting_id=args.meeting,
                                            locked=args.locked).to_dict()}


class AdvanceArgs(OpArgs):
    meeting: int
    item: int | None = None


@register_op("meetings.agenda.advance", args=AdvanceArgs, writes=True)
def agenda_advance(ctx: OpContext, args: AdvanceArgs) -> dict:
    item = actions.advance_agenda(identity=ctx.identity, meeting_id=args.meeting, item_id=args.item)
    return {"current": item.to_dict()}


class MuteArgs(OpArgs):
    meeting: int
    user: int | None = None
    muted: bool


@register_op("meetings.mute", args=MuteArgs, writes=True)
def mute(ctx: OpContext, args: MuteArgs) -> dict:
    return actions.mute(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user, muted=args.muted)


class UserArgs(OpArgs):
    meeting: int
    user: int


@register_op("meetings.remove", args=UserArgs, writes=True)
def remove(ctx: OpContext, args: UserArgs) -> dict:
    p = actions.remove_participant(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user)
    return {"participant": p.to_dict()}


class CheckInArgs(OpArgs):
    meeting: int
    user: int
    since: str | None = Field(default=None, max_length=40)
    until: str | None = Field(default=None, max_length=40)


@register_op("meetings.room.check_in", args=CheckInArgs, writes=True)
def room_check_in(ctx: OpContext, args: CheckInArgs) -> dict:
    return actions.check_in(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user, since=args.since,
                            until=args.until)


class CheckOutArgs(OpArgs):
    meeting: int
    user: int
    mistake: bool = False
    at: str | None = Field(default=None, max_length=40)


@register_op("meetings.room.check_out", args=CheckOutArgs, writes=True)
def room_check_out(ctx: OpContext, args: CheckOutArgs) -> dict:
    return actions.check_out(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user, mistake=args.mistake,
                             at=args.at)


@register_op("meetings.hand.raise", args=MeetingArgs, writes=True)
def hand_raise(ctx: OpContext, args: MeetingArgs) -> dict:
    return {"queue": actions.raise_hand(identity=ctx.identity, meeting_id=args.meeting)}


class LowerArgs(OpArgs):
    meeting: int
    user: int | None = None


@register_op("meetings.hand.lower", args=LowerArgs, writes=True)
def hand_lower(ctx: OpContext, args: LowerArgs) -> dict:
    return {"queue": actions.lower_hand(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user)}


@register_op("meetings.floor.give", args=UserArgs, writes=True)
def floor_give(ctx: OpContext, args: UserArgs) -> dict:
    return actions.give_floor(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user)


class ReactArgs(OpArgs):
    meeting: int
    emoji: str


@register_op("meetings.react", args=ReactArgs)
def react(ctx: OpContext, args: ReactArgs) -> dict:
    actions.send_reaction(identity=ctx.identity, meeting_id=args.meeting, emoji=args.emoji)
    return {}


class ChatArgs(OpArgs):
    meeting: int
    body: str


@register_op("meetings.chat.send", args=ChatArgs, writes=True)
def chat_send(ctx: OpContext, args: ChatArgs) -> dict:
    message = actions.send_chat(identity=ctx.identity, meeting_id=args.meeting, body=args.body)
    return {"message": message.to_dict()}


class ChatHideArgs(OpArgs):
    meeting: int
    message: int


@register_op("meetings.chat.hide", args=ChatHideArgs, writes=True)
def chat_hide(ctx: OpContext, args: ChatHideArgs) -> dict:
    message = actions.hide_chat(identity=ctx.identity, meeting_id=args.meeting, message_id=args.message)
    return {"message": message.to_dict()}


class RemarkArgs(OpArgs):
    meeting: int
    text: str
    agenda_item: int | None = None


@register_op("meetings.remark.add", args=RemarkArgs, writes=True)
def remark_add(ctx: OpContext, args: RemarkArgs) -> dict:
    remark = actions.add_remark(identity=ctx.identity, meeting_id=args.meeting, text=args.text,
                                agenda_item_id=args.agenda_item)
    return {"remark": remark.to_dict()}


@register_op("meetings.minutes.sign", args=MeetingArgs, writes=True)
def minutes_sign(ctx: OpContext, args: MeetingArgs) -> dict:
    return actions.sign_minutes(identity=ctx.identity, meeting_id=args.meeting)


class ReopenArgs(OpArgs):
    meeting: int
    reason: str


@register_op("meetings.minutes.reopen", args=ReopenArgs, writes=True)
def minutes_reopen(ctx: OpContext, args: ReopenArgs) -> dict:
    return actions.reopen_minutes(identity=ctx.identity, meeting_id=args.meeting, reason=args.reason)


# -- leave and exclusions ----------------------------------------------------------------------


class LeaveArgs(OpArgs):
    meeting: int
    reason: str


@register_op("meetings.leave.request", args=LeaveArgs, writes=True)
def leave_request(ctx: OpContext, args: LeaveArgs) -> dict:
    leave = actions.request_leave(identity=ctx.identity, meeting_id=args.meeting, reason=args.reason)
    return {"leave": leave.to_dict()}


@register_op("meetings.leave.withdraw", args=MeetingArgs, writes=True)
def leave_withdraw(ctx: OpContext, args: MeetingArgs) -> dict:
    return {"leave": actions.withdraw_leave(identity=ctx.identity, meeting_id=args.meeting).to_dict()}


class LeaveDecideArgs(OpArgs):
    leave: int
    approve: bool
    note: str = ""


@register_op("meetings.leave.decide", args=LeaveDecideArgs, writes=True)
def leave_decide(ctx: OpContext, args: LeaveDecideArgs) -> dict:
    leave = actions.decide_leave(identity=ctx.identity, leave_id=args.leave, approve=args.approve, note=args.note)
    return {"leave": leave.to_dict()}


class ExclusionArgs(OpArgs):
    meeting: int
    user: int
    reason: str
    note: str = ""


@register_op("meetings.exclusion.add", args=ExclusionArgs, writes=True)
def exclusion_add(ctx: OpContext, args: ExclusionArgs) -> dict:
    exclusion = actions.add_exclusion(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user,
                                      reason=args.reason, note=args.note)
    return {"exclusion": exclusion.to_dict()}


@register_op("meetings.exclusion.remove", args=UserArgs, writes=True)
def exclusion_remove(ctx: OpContext, args: UserArgs) -> dict:
    actions.remove_exclusion(identity=ctx.identity, meeting_id=args.meeting, user_id=args.user)
    return {}


# -- votes -------------------------------------------------------------------------------------


class VoteCreateArgs(OpArgs):
    meeting: int
    kind: str
    title: str
    secret: bool
    candidates: list[int] | None = None
    seats: int = 1
    agenda_item: int | None = None


@register_op("meetings.vote.create", args=VoteCreateArgs, writes=True)
def vote_create(ctx: OpContext, args: VoteCreateArgs) -> dict:
    vote = actions.create_vote(identity=ctx.identity, meeting_id=args.meeting, kind=args.kind, title=args.title,
                               secret=args.secret, candidates=args.candidates, seats=args.seats,
                               agenda_item_id=args.agenda_item)
    return {"vote": selectors.vote_dict(vote)}


class WrittenArgs(OpArgs):
    vote: int
    user: int
    choice: str | None = None
    candidates: list[str] | None = None


@register_op("meetings.vote.written_opinion", args=WrittenArgs, writes=True)
def vote_written(ctx: OpContext, args: WrittenArgs) -> dict:
    vote = actions.enter_written_opinion(identity=ctx.identity, vote_id=args.vote, user_id=args.user,
                                         choice=args.choice, candidates=args.candidates)
    return {"vote": selectors.vote_dict(vote)}


@register_op("meetings.vote.hands", args=WrittenArgs, writes=True)
def vote_hands(ctx: OpContext, args: WrittenArgs) -> dict:
    return actions.enter_show_of_hands(identity=ctx.identity, vote_id=args.vote, user_id=args.user,
                                       choice=args.choice, candidates=args.candidates)


class PaperIssueArgs(OpArgs):
    vote: int
    users: list[int] = Field(max_length=2000)


@register_op("meetings.vote.paper_issue", args=PaperIssueArgs, writes=True)
def vote_paper_issue(ctx: OpContext, args: PaperIssueArgs) -> dict:
    return actions.issue_paper_ballots(identity=ctx.identity, vote_id=args.vote, user_ids=args.users)


class PaperTakeBackArgs(OpArgs):
    vote: int
    user: int


@register_op("meetings.vote.paper_take_back", args=PaperTakeBackArgs, writes=True)
def vote_paper_take_back(ctx: OpContext, args: PaperTakeBackArgs) -> dict:
    return actions.take_back_paper_ballot(identity=ctx.identity, vote_id=args.vote, user_id=args.user)


class PaperCountArgs(OpArgs):
    vote: int
    returned: int = Field(ge=0)
    invalid: int = Field(default=0, ge=0)
    counts: dict[str, int] = Field(default_factory=dict, max_length=60)
    scrutineers: list[int] = Field(default_factory=list, max_length=20)


@register_op("meetings.vote.paper_count", args=PaperCountArgs, writes=True)
def vote_paper_count(ctx: OpContext, args: PaperCountArgs) -> dict:
    return actions.count_paper_ballots(identity=ctx.identity, vote_id=args.vote, returned=args.returned,
                                       invalid=args.invalid, counts=args.counts, scrutineers=args.scrutineers)


class VoteArgs(OpArgs):
    vote: int


@register_op("meetings.vote.open", args=VoteArgs, writes=True)
def vote_open(ctx: OpContext, args: VoteArgs) -> dict:
    return {"vote": selectors.vote_dict(actions.open_vote(identity=ctx.identity, vote_id=args.vote))}


class CastArgs(OpArgs):
    vote: int
    choice: str | None = None
    candidates: list[str] | None = None


# Not a `writes` op on purpose: no client id is stored next to the voter (it could carry
# the choice); a retry is harmless because a second ballot is refused.
@register_op("meetings.vote.cast", args=CastArgs)
def vote_cast(ctx: OpContext, args: CastArgs) -> dict:
    return actions.cast_vote(identity=ctx.identity, vote_id=args.vote, choice=args.choice,
                             candidates=args.candidates)


@register_op("meetings.vote.close", args=VoteArgs, writes=True)
def vote_close(ctx: OpContext, args: VoteArgs) -> dict:
    return {"vote": selectors.vote_dict(actions.close_vote(identity=ctx.identity, vote_id=args.vote))}

