"""Exactly which events each meeting action appends, and to which streams."""

from __future__ import annotations

import pytest

from meetings import actions
from realtime.testing import capture_events

from .conftest import T0, ident

pytestmark = pytest.mark.django_db


def published(events):
    return [(e.stream, e.type) for e in events]


def test_scheduling_and_changing_notifies_everyone_expected(identities, people, tree, schedule):
    expected = sorted(u.pk for u in (people["secretary"], people["member"], people["probationary"],
                                     people["moderator"]))
    with capture_events() as events:
        meeting = schedule("general")
    m = f"meeting:{meeting.pk}"
    assert published(events) == [(m, "meeting.scheduled"), *[(f"inbox:{u}", "meeting.scheduled") for u in expected]]
    with capture_events() as events:
        actions.update_meeting(identity=identities["secretary"], meeting_id=meeting.pk, place="党员活动室")
    assert published(events) == [(m, "meeting.updated"), *[(f"inbox:{u}", "meeting.changed") for u in expected]]
    assert events[0].data["changes"] == ["place"]
    with capture_events() as events:  # a detail members need not be told about
        actions.update_meeting(identity=identities["secretary"], meeting_id=meeting.pk, late_grace_minutes=10)
    assert published(events) == [(m, "meeting.updated")]
    with capture_events() as events:  # nothing changed, nothing published
        actions.update_meeting(identity=identities["secretary"], meeting_id=meeting.pk, late_grace_minutes=10)
    assert events == []
    with capture_events() as events:
        actions.cancel_meeting(identity=identities["secretary"], meeting_id=meeting.pk, reason="改期")
    assert published(events) == [(m, "meeting.cancelled"), *[(f"inbox:{u}", "meeting.cancelled") for u in expected]]


def test_an_agenda_change_before_the_start_reaches_members_inboxes(identities, people, schedule):
    expected = sorted(u.pk for u in (people["secretary"], people["member"], people["probationary"],
                                     people["moderator"]))
    meeting = schedule("general")
    m = f"meeting:{meeting.pk}"
    for opened in (False, True):  # scheduled, then the lobby open: members are not on the stream yet
        if opened:
            actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
        with capture_events() as events:
            actions.set_agenda(identity=identities["secretary"], meeting_id=meeting.pk,
                               items=[{"title": "学习"}, {"title": "表决"}])
        assert published(events) == [(m, "agenda.updated"), *[(f"inbox:{u}", "meeting.changed") for u in expected]]
        assert events[1].data["changes"] == ["agenda"]
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    with capture_events() as events:  # live: the participants follow the stream itself
        actions.set_agenda(identity=identities["secretary"], meeting_id=meeting.pk, items=[{"title": "学习"}])
    assert published(events) == [(m, "agenda.updated")]


def test_committee_meetings_tell_only_the_committee(identities, people, tree, schedule):
    from meetings.models import CommitteeMember

    CommitteeMember.objects.create(branch=tree["a"], user=people["moderator"], title="组织委员")
    with capture_events() as events:
        meeting = schedule("committee")
    inboxes = sorted(e.stream for e in events if e.stream.startswith("inbox:"))
    assert inboxes == sorted(f"inbox:{u.pk}" for u in (people["secretary"], people["moderator"]))
    assert meeting.kind == "committee"


def test_a_group_meeting_expects_the_groups_members(identities, people, tree, make_user):
    g1 = make_user("g1", branch=tree["a1"], roles=("full",))
    g2 = make_user("g2", branch=tree["a1"], roles=("probationary",))
    with capture_events() as events:
        actions.schedule_meeting(identity=identities["secretary"], branch_id=tree["a1"].pk, kind="group",
                                 title="党小组会", starts_at=T0, ends_at=T0.replace(hour=2),
                                 chair_id=people["secretary"].pk)
    assert sorted(e.stream for e in events if e.stream.startswith("inbox:")) == [f"inbox:{g1.pk}", f"inbox:{g2.pk}"]


def test_the_lifecycle_and_the_room(identities, people, schedule, crowd):
    (target,) = crowd(1)
    meeting = schedule("general")
    m = f"meeting:{meeting.pk}"
    with capture_events() as events:
        actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    assert published(events)[0] == (m, "meeting.opened")
    assert {s for s, t in published(events)[1:]} == {f"inbox:{u.pk}" for u in (
        people["secretary"], people["member"], people["probationary"], people["moderator"], target)}
    with capture_events() as events:
        actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    assert published(events) == [(m, "meeting.started")]
    actions.join_meeting(identity=ident(target), meeting_id=meeting.pk)
    with capture_events() as events:
        actions.record_join(meeting_id=meeting.pk, user_id=target.pk, at=T0)
        actions.raise_hand(identity=ident(target), meeting_id=meeting.pk)
        actions.raise_hand(identity=ident(target), meeting_id=meeting.pk)  # already raised: nothing new
        actions.give_floor(identity=identities["secretary"], meeting_id=meeting.pk, user_id=target.pk)
        actions.advance_agenda(identity=identities["secretary"], meeting_id=meeting.pk)
        actions.mute(identity=identities["secretary"], meeting_id=meeting.pk, user_id=None, muted=True)
        actions.mute(identity=identities["moderator"], meeting_id=meeting.pk, user_id=target.pk, muted=False)
        actions.lock_meeting(identity=identities["secretary"], meeting_id=meeting.pk, locked=True)
        actions.lock_meeting(identity=identities["secretary"], meeting_id=meeting.pk, locked=True)
        actions.add_remark(identity=identities["member"], meeting_id=meeting.pk, text="要点")
        actions.set_agenda(identity=identities["secretary"], meeting_id=meeting.pk,
                           items=[{"title": "学习"}, {"title": "表决"}, {"title": "其他"}])
        actions.remove_participant(identity=identities["secretary"], meeting_id=meeting.pk, user_id=target.pk)
    assert published(events) == [
        (m, "attendance.joined"), (m, "hand.raised"), (m, "floor.given"), (m, "agenda.advanced"),
        (m, "mute.requested"), (m, "mute.requested"), (m, "meeting.locked"), (m, "remark.added"),
        (m, "agenda.updated"), (m, "attendance.left"), (m, "participant.removed"), (f"inbox:{target.pk}", "meeting.removed"),
    ]
    assert events[4].data["user"] is None and events[4].data["muted"] is True
    with capture_events() as events:
        actions.decide_lobby(identity=identities["secretary"], meeting_id=meeting.pk, user_id=target.pk, admit=True)
    assert published(events) == [(m, "lobby.admitted"), (f"inbox:{target.pk}", "meeting.admitted")]
    with capture_events() as events:
        actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    # The chair and the minute-taker are asked to sign the minutes (记录签字).
    assert published(events) == [(m, "meeting.ended"), (f"inbox:{people['secretary'].pk}", "meeting.minutes_to_sign"),
                                 (f"inbox:{people['member'].pk}", "meeting.minutes_to_sign")]


def test_leave_and_exclusions(identities, people, schedule):
    meeting = schedule("general")
    m = f"meeting:{meeting.pk}"
    with capture_events() as events:
        leave = actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="出差")
    assert published(events) == [(m, "leave.requested"), (f"inbox:{people['secretary'].pk}", "leave.requested")]
    with capture_events() as events:
        actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=False, note="会议重要")
    assert published(events) == [(m, "leave.decided"), (f"inbox:{people['member'].pk}", "leave.decided")]
    assert events[0].data["status"] == "declined"
    with capture_events() as events:
        leave = actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="生病")
        actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
        actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk,
                              user_id=people["probationary"].pk, reason="long_illness")
        actions.remove_exclusion(identity=identities["secretary"], meeting_id=meeting.pk,
                                 user_id=people["probationary"].pk)
    assert [t for s, t in published(events) if s == m] == ["leave.requested", "leave.decided", "exclusion.added",
                                                           "exclusion.removed"]


def test_votes(identities, people, schedule):
    meeting = schedule("general")
    m = f"meeting:{meeting.pk}"
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in (people["secretary"], people["member"], people["moderator"]):
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=T0)
    with capture_events() as events:
        vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                                   title="表决", secret=False)
        actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
        actions.cast_vote(identity=identities["member"], vote_id=vote.pk, choice="yes")
        actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert published(events) == [(m, "vote.created"), (m, "vote.opened"), (m, "vote.progress"), (m, "vote.closed")]
    assert events[-1].data["result"]["counts"]["yes"] == 1 and events[-1].data["passed"] is False


def test_a_refused_action_publishes_nothing(identities, people, schedule):
    from realtime.errors import Conflict, Forbidden

    meeting = schedule("general")
    with capture_events() as events:
        with pytest.raises(Forbidden):
            actions.start_meeting(identity=identities["member"], meeting_id=meeting.pk)
        with pytest.raises(Conflict):
            actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    assert events == []
