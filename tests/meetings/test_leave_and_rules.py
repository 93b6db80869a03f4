"""Leave requests, exclusions, agenda and lifecycle rules at the action level."""

from __future__ import annotations

import pytest

from meetings import actions, selectors
from meetings.models import LeaveRequest, Meeting
from realtime.errors import Conflict, Forbidden, Invalid, NotFound

from .conftest import T0, ident

pytestmark = pytest.mark.django_db


def test_leave_is_requested_before_the_meeting_and_decided_by_the_secretary(schedule, identities, people):
    meeting = schedule("general")
    leave = actions.request_leave(identity=identities["probationary"], meeting_id=meeting.pk, reason="  出差  ")
    assert leave.reason == "出差" and leave.status == "pending"
    with pytest.raises(Forbidden):  # the chair of another branch, the moderator: not the secretary
        actions.decide_leave(identity=identities["moderator"], leave_id=leave.pk, approve=True)
    with pytest.raises(NotFound):
        actions.decide_leave(identity=identities["other_secretary"], leave_id=leave.pk, approve=True)
    actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=False, note="请参会")
    with pytest.raises(Conflict):
        actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
    # A declined request may be made again, and then approved.
    again = actions.request_leave(identity=identities["probationary"], meeting_id=meeting.pk, reason="生病")
    assert again.pk == leave.pk and again.status == "pending" and again.decided_by is None
    actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
    with pytest.raises(Conflict):
        actions.request_leave(identity=identities["probationary"], meeting_id=meeting.pk, reason="again")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    with pytest.raises(Conflict):
        actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="too late")
    with pytest.raises(Conflict):
        actions.withdraw_leave(identity=identities["probationary"], meeting_id=meeting.pk)


def test_only_expected_members_ask_for_leave_and_reasons_are_required(schedule, identities, people, tree):
    from meetings.models import CommitteeMember

    meeting = schedule("committee")
    with pytest.raises(Forbidden):  # not on the committee
        actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="x")
    CommitteeMember.objects.create(branch=tree["a"], user=people["member"], title="宣传委员")
    with pytest.raises(Invalid):
        actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="   ")
    actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="出差")
    actions.withdraw_leave(identity=identities["member"], meeting_id=meeting.pk)
    assert LeaveRequest.objects.get(meeting=meeting).status == "withdrawn"


def test_exclusions_need_a_recognised_reason_and_an_expected_person(schedule, identities, people):
    meeting = schedule("general")
    with pytest.raises(Invalid):
        actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk,
                              reason="busy")
    with pytest.raises(Invalid):
        actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk,
                              user_id=people["other_secretary"].pk, reason="abroad")
    exclusion = actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk,
                                      user_id=people["member"].pk, reason="sentence", note="")
    assert exclusion.approved_by == people["secretary"] and exclusion.approved_at is not None
    with pytest.raises(Conflict):
        actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk,
                              reason="abroad")
    assert not selectors.is_expected(meeting, people["member"].pk)


def test_the_roll_is_frozen_when_the_meeting_starts(schedule, identities, people, make_user, tree):
    meeting = schedule("general")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    make_user("newcomer", branch=tree["a"], roles=("full",))
    meeting.refresh_from_db()
    assert selectors.summary(meeting)["counts"]["expected"] == 4


def test_lifecycle_rules(schedule, identities, people):
    meeting = schedule("general")
    with pytest.raises(Conflict):
        actions.join_meeting(identity=identities["member"], meeting_id=meeting.pk)  # not open yet
    with pytest.raises(Conflict):
        actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    with pytest.raises(Conflict):
        actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    with pytest.raises(Conflict):
        actions.cancel_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in (people["secretary"], people["member"]):
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=T0)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion", title="t",
                               secret=False)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    other = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion", title="u",
                                secret=False)
    with pytest.raises(Conflict):  # one vote at a time
        actions.open_vote(identity=identities["secretary"], vote_id=other.pk)
    with pytest.raises(Conflict):
        actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    assert Meeting.objects.get(pk=meeting.pk).status == "ended"
    with pytest.raises(Conflict):
        actions.join_meeting(identity=identities["member"], meeting_id=meeting.pk)


def test_the_agenda_moves_in_order_and_can_be_rewritten(schedule, identities):
    meeting = schedule("general", agenda=["一", "二"])
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    first, second = meeting.agenda.order_by("position")
    assert meeting.current_item_id == first.pk
    assert actions.advance_agenda(identity=identities["secretary"], meeting_id=meeting.pk).pk == second.pk
    with pytest.raises(Conflict):
        actions.advance_agenda(identity=identities["secretary"], meeting_id=meeting.pk)
    agenda = actions.set_agenda(identity=identities["secretary"], meeting_id=meeting.pk,
                                items=[{"id": second.pk, "title": "二（修改）"}, {"title": "三"}])
    assert [(i.position, i.title) for i in agenda] == [(1, "二（修改）"), (2, "三")]
    with pytest.raises(Invalid):
        actions.set_agenda(identity=identities["secretary"], meeting_id=meeting.pk, items=[{"id": first.pk,
                                                                                             "title": "gone"}])
    assert actions.advance_agenda(identity=identities["secretary"], meeting_id=meeting.pk,
                                  item_id=agenda[1].pk).title == "三"


def test_schedule_reads_times_in_the_branch_time_zone(identities, people, tree):
    tree["a"].time_zone = "Asia/Urumqi"
    tree["a"].save()
    meeting = actions.schedule_meeting(identity=identities["secretary"], branch_id=tree["a"].pk, kind="general",
                                       title="t", starts_at="2026-11-28T09:00", ends_at="2026-11-28T10:00",
                                       chair_id=people["secretary"].pk)
    assert meeting.starts_at.isoformat() == "2026-11-28T03:00:00+00:00"
    assert meeting.to_dict()["starts_local"] == "2026-11-28T09:00:00+06:00"


def test_hosts_see_the_lobby_and_whom_they_removed(schedule, identities, people):
    meeting = schedule("committee")
    actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    actions.join_meeting(identity=identities["probationary"], meeting_id=meeting.pk)  # not on the committee: waits
    actions.join_meeting(identity=identities["moderator"], meeting_id=meeting.pk)
    actions.decide_lobby(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["moderator"].pk,
                         admit=False)
    meeting.refresh_from_db()
    seen_by_host = {p["user"]["id"]: p["state"] for p in selectors.participants(meeting, include_waiting=True)}
    assert seen_by_host == {people["probationary"].pk: "waiting", people["moderator"].pk: "denied"}
    snapshot = selectors.snapshot(identities["probationary"], meeting)
    assert snapshot["participants"] == [] and snapshot["you"]["state"] == "waiting"
