"""Who may do what in a meeting: every control and op, for every kind of person.

outsider (no branch), citizen, probationary member, member, chair/secretary, forum
moderator, the secretary of another branch, and the secretary of the committee above.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.identity import Identity
from accounts.models import Citizen
from meetings import actions, selectors
from meetings.models import Meeting
from meetings.streams import attendance_for
from realtime.errors import OpError

from .conftest import T0, ident

pytestmark = pytest.mark.django_db

ROLES = ["outsider", "citizen", "probationary", "member", "secretary", "moderator", "other_secretary",
         "committee_secretary"]


class Ctx:
    pass


@pytest.fixture
def ctx(schedule, identities, people, crowd, tree):
    c = Ctx()
    (c.target,) = crowd(1, prefix="target")
    (c.absent,) = crowd(1, prefix="absent")  # a voting member who stays away (written opinion)
    c.meeting = schedule("general", minute_taker_id=None)
    c.later = schedule("general", starts_at=T0 + timedelta(days=7), minute_taker_id=None)
    c.leave = actions.request_leave(identity=ident(c.target), meeting_id=c.later.pk, reason="出差")
    actions.start_meeting(identity=identities["secretary"], meeting_id=c.meeting.pk)
    for user in (people["secretary"], people["member"], people["moderator"], people["probationary"], c.target):
        actions.join_meeting(identity=ident(user), meeting_id=c.meeting.pk)
        actions.record_join(meeting_id=c.meeting.pk, user_id=user.pk, at=T0)
    actions.raise_hand(identity=ident(c.target), meeting_id=c.meeting.pk)
    c.vote = actions.create_vote(identity=identities["secretary"], meeting_id=c.meeting.pk, kind="motion",
                                 title="表决", secret=True)
    c.message = actions.send_chat(identity=ident(c.target), meeting_id=c.meeting.pk, body="大家好")
    c.citizen = Citizen.objects.create(token_hash="x" * 64, display_name="老李")
    return c


def identity_of(role, people, c) -> Identity:
    if role == "citizen":
        return Identity(kind="citizen", citizen_id=c.citizen.pk, name="老李")
    return ident(people[role])


def as_present(role, people, c):
    """The actor joins (if they may) and is seen on the stream: participant controls need it."""
    if role in ("outsider", "citizen", "other_secretary"):
        return
    user = people[role]
    try:
        actions.join_meeting(identity=ident(user), meeting_id=c.meeting.pk)
    except OpError:
        return
    actions.record_join(meeting_id=c.meeting.pk, user_id=user.pk, at=T0)


def open_the_vote(c, identities):
    actions.open_vote(identity=identities["secretary"], vote_id=c.vote.pk)


# control -> (what it does, who may do it). Outsiders and other branches' secretaries get
# not_found (the meeting is not revealed), citizens unauthenticated, the rest forbidden.
HOSTS = {"secretary", "committee_secretary"}
CONTROLS = {
    "update": (lambda i, c, ids: actions.update_meeting(identity=i, meeting_id=c.meeting.pk, place="党员活动室"), HOSTS),
    "cancel": (lambda i, c, ids: actions.cancel_meeting(identity=i, meeting_id=c.later.pk), HOSTS),
    "agenda.set": (lambda i, c, ids: actions.set_agenda(identity=i, meeting_id=c.meeting.pk,
                                                        items=[{"title": "一"}]), HOSTS),
    "open": (lambda i, c, ids: actions.open_meeting(identity=i, meeting_id=c.later.pk), HOSTS),
    "start": (lambda i, c, ids: actions.start_meeting(identity=i, meeting_id=c.later.pk), HOSTS),
    "end": (lambda i, c, ids: actions.end_meeting(identity=i, meeting_id=c.meeting.pk), HOSTS),
    "lock": (lambda i, c, ids: actions.lock_meeting(identity=i, meeting_id=c.meeting.pk, locked=True), HOSTS),
    "agenda.advance": (lambda i, c, ids: actions.advance_agenda(identity=i, meeting_id=c.meeting.pk), HOSTS),
    "mute.one": (lambda i, c, ids: actions.mute(identity=i, meeting_id=c.meeting.pk, user_id=c.target.pk,
                                                muted=True), HOSTS | {"moderator"}),
    "mute.all": (lambda i, c, ids: actions.mute(identity=i, meeting_id=c.meeting.pk, user_id=None, muted=True),
                 HOSTS | {"moderator"}),
    "remove": (lambda i, c, ids: actions.remove_participant(identity=i, meeting_id=c.meeting.pk,
                                                            user_id=c.target.pk), HOSTS),
    "lobby.decide": (lambda i, c, ids: actions.decide_lobby(identity=i, meeting_id=c.meeting.pk,
                                                            user_id=c.target.pk, admit=True), HOSTS),
    "floor.give": (lambda i, c, ids: actions.give_floor(identity=i, meeting_id=c.meeting.pk, user_id=c.target.pk),
                   HOSTS),
    "hand.lower.other": (lambda i, c, ids: actions.lower_hand(identity=i, meeting_id=c.meeting.pk,
                                                              user_id=c.target.pk), HOSTS),
    "hand.raise": (lambda i, c, ids: actions.raise_hand(identity=i, meeting_id=c.meeting.pk),
                   HOSTS | {"member", "moderator", "probationary"}),
    "react": (lambda i, c, ids: actions.send_reaction(identity=i, meeting_id=c.meeting.pk, emoji="👍"),
              HOSTS | {"member", "moderator", "probationary"}),
    "chat.send": (lambda i, c, ids: actions.send_chat(identity=i, meeting_id=c.meeting.pk, body="同意"),
                  HOSTS | {"member", "moderator", "probationary"}),
    "chat.hide": (lambda i, c, ids: actions.hide_chat(identity=i, meeting_id=c.meeting.pk, message_id=c.message.pk),
                  HOSTS | {"moderator"}),
    "remark.add": (lambda i, c, ids: actions.add_remark(identity=i, meeting_id=c.meeting.pk, text="要点"), HOSTS),
    "leave.request": (lambda i, c, ids: actions.request_leave(identity=i, meeting_id=c.later.pk, reason="病假"),
                      {"secretary", "member", "moderator", "probationary"}),
    "leave.decide": (lambda i, c, ids: actions.decide_leave(identity=i, leave_id=c.leave.pk, approve=True), HOSTS),
    "exclusion.add": (lambda i, c, ids: actions.add_exclusion(identity=i, meeting_id=c.later.pk, user_id=c.target.pk,
                                                              reason="abroad"), HOSTS),
    "vote.create": (lambda i, c, ids: actions.create_vote(identity=i, meeting_id=c.meeting.pk, kind="motion",
                                                          title="t", secret=False), HOSTS),
    "vote.written_opinion": (lambda i, c, ids: actions.enter_written_opinion(
        identity=i, vote_id=c.vote.pk, user_id=c.absent.pk, choice="yes"), HOSTS),
    "vote.open": (lambda i, c, ids: actions.open_vote(identity=i, vote_id=c.vote.pk), HOSTS),
    "vote.cast": (lambda i, c, ids: (open_the_vote(c, ids),
                                     actions.cast_vote(identity=i, vote_id=c.vote.pk, choice="yes")),
                  {"secretary", "member", "moderator"}),
    "vote.close": (lambda i, c, ids: (open_the_vote(c, ids), actions.close_vote(identity=i, vote_id=c.vote.pk)),
                   HOSTS),
    "schedule": (lambda i, c, ids: actions.schedule_meeting(
        identity=i, branch_id=c.meeting.branch_id, kind="general", title="t", starts_at=T0, ends_at=T0 + timedelta(hours=1),
        chair_id=c.meeting.chair_id), HOSTS),
    "attendance": (lambda i, c, ids: attendance_for(i, c.meeting.pk), HOSTS),
    "get": (lambda i, c, ids: selectors.meeting_details(i, selectors.meeting_for(i, c.meeting.pk)),
            HOSTS | {"member", "moderator", "probationary"}),
}


READS = {"attendance", "get"}  # selectors: a citizen is just someone who may not see it


def expected_outcome(role: str, allowed: set[str], control: str) -> str:
    if role in allowed:
        return "ok"
    if role == "citizen":
        return "not_found" if control in READS else "unauthenticated"
    if role in ("outsider", "other_secretary"):
        return "not_found"
    return "forbidden"


@pytest.mark.parametrize("control", sorted(CONTROLS))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(control, role, ctx, people, identities):
    do, allowed = CONTROLS[control]
    as_present(role, people, ctx)
    try:
        do(identity_of(role, people, ctx), ctx, identities)
        outcome = "ok"
    except OpError as exc:
        outcome = exc.code
    assert outcome == expected_outcome(role, allowed, control), f"{role} {control}"


@pytest.mark.parametrize("role", ROLES)
def test_who_may_subscribe_before_and_after_joining_and_after_the_end(role, ctx, people, identities):
    ident_ = identity_of(role, people, ctx)
    meeting = Meeting.objects.get(pk=ctx.meeting.pk)
    assert selectors.can_subscribe(ident_, meeting) is (role in HOSTS or role in ("member", "moderator",
                                                                                   "probationary"))
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    # Once over, the transcript is for everyone who may see the meeting, and for nobody else.
    may_see = role in ("probationary", "member", "secretary", "moderator", "committee_secretary")
    assert selectors.can_subscribe(ident_, meeting) is may_see


def test_the_minute_taker_adds_remarks_and_edits_the_agenda_but_does_not_run_the_meeting(schedule, identities,
                                                                                            people):
    from realtime.errors import Forbidden

    meeting = schedule("general", minute_taker_id=people["member"].pk)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    actions.add_remark(identity=identities["member"], meeting_id=meeting.pk, text="会议传达了上级精神")
    actions.set_agenda(identity=identities["member"], meeting_id=meeting.pk, items=[{"title": "学习"}])
    assert attendance_for(identities["member"], meeting.pk)[1]["counts"]["expected"] == 4
    with pytest.raises(Forbidden):
        actions.end_meeting(identity=identities["member"], meeting_id=meeting.pk)
