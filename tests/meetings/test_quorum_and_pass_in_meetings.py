"""Quorum and pass rules at the action level, table-driven at the boundaries.

Voting members expected are counted from the branch's real memberships; presence is
what the server recorded from the meeting stream; the vote actions refuse or accept.
"""

from __future__ import annotations

import pytest

from meetings import actions, selectors
from meetings.models import Vote
from realtime.errors import Conflict, Forbidden

from .conftest import arrive, depart, ident

pytestmark = pytest.mark.django_db


def live_meeting(schedule, identities, people):
    meeting = schedule("general")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    return meeting


def setup_branch(people, crowd, voting_expected: int):
    """Branch A already has secretary, member, moderator as full members (3 voting) + 1 probationary."""
    extra = crowd(voting_expected - 3)
    return [people["secretary"], people["member"], people["moderator"], *extra]


@pytest.mark.parametrize("present, opens", [(5, True), (4, False)])
def test_a_motion_with_nine_voting_expected_needs_five_present(schedule, identities, people, crowd, present, opens):
    voters = setup_branch(people, crowd, 9)
    crowd(3, role="probationary", prefix="p")  # never counted
    meeting = live_meeting(schedule, identities, people)
    for user in voters[:present]:
        arrive(meeting, user)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="接收预备党员", secret=False)
    if opens:
        opened = actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
        assert (opened.voting_expected, opened.present_at_open, opened.required_present) == (9, 5, 5)
    else:
        with pytest.raises(Conflict) as refused:
            actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
        assert refused.value.details == {"present": 4, "expected": 9, "required": 5}
        assert "4" in refused.value.message and "9" in refused.value.message and "5" in refused.value.message
        assert Vote.objects.get(pk=vote.pk).status == "draft"


@pytest.mark.parametrize("present, opens", [(8, True), (7, False)])
def test_an_election_with_ten_voting_expected_needs_eight_present(schedule, identities, people, crowd, present, opens):
    voters = setup_branch(people, crowd, 10)
    meeting = live_meeting(schedule, identities, people)
    for user in voters[:present]:
        arrive(meeting, user)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="election",
                               title="选举支部委员", secret=True, candidates=[voters[1].pk, voters[2].pk], seats=1)
    if opens:
        assert actions.open_vote(identity=identities["secretary"], vote_id=vote.pk).status == "open"
    else:
        with pytest.raises(Conflict) as refused:
            actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
        assert refused.value.details == {"present": 7, "expected": 10, "required": 8}


@pytest.mark.parametrize("yes, passes", [(5, True), (4, False)])
def test_a_motion_passes_on_more_than_half_of_the_nine_expected(schedule, identities, people, crowd, yes, passes):
    voters = setup_branch(people, crowd, 9)
    meeting = live_meeting(schedule, identities, people)
    for user in voters:
        arrive(meeting, user)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="表决", secret=False)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    for i, user in enumerate(voters):
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice="yes" if i < yes else "abstain")
    closed = actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert closed.passed is passes
    assert closed.result["counts"]["yes"] == yes and closed.result["ballots"] == 9


def test_yes_votes_are_measured_against_expected_not_present(schedule, identities, people, crowd):
    voters = setup_branch(people, crowd, 9)
    meeting = live_meeting(schedule, identities, people)
    for user in voters[:6]:
        arrive(meeting, user)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="表决", secret=True)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    for user in voters[:4]:  # 4 of 6 present say yes: a majority of those present, not of the 9 expected
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice="yes")
    assert actions.close_vote(identity=identities["secretary"], vote_id=vote.pk).passed is False


def test_written_opinions_of_absent_members_count_as_votes(schedule, identities, people, crowd):
    voters = setup_branch(people, crowd, 9)
    meeting = live_meeting(schedule, identities, people)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="表决", secret=True)
    for user in voters[7:]:  # two absent members sent written opinions
        actions.enter_written_opinion(identity=identities["secretary"], vote_id=vote.pk, user_id=user.pk, choice="yes")
    for user in voters[:5]:
        arrive(meeting, user)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    for user in voters[:3]:
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice="yes")
    closed = actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert closed.result["counts"]["yes"] == 5 and closed.result["written"] == 2
    assert closed.passed is True  # 3 in person + 2 written > 9 / 2
    # A member whose written opinion was counted cannot vote again in person.
    vote2 = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                                title="again", secret=False)
    actions.enter_written_opinion(identity=identities["secretary"], vote_id=vote2.pk, user_id=voters[8].pk,
                                  choice="no")
    arrive(meeting, voters[8])
    actions.open_vote(identity=identities["secretary"], vote_id=vote2.pk)
    with pytest.raises(Conflict):
        actions.cast_vote(identity=ident(voters[8]), vote_id=vote2.pk, choice="yes")


def test_probationary_members_are_never_counted_and_never_vote(schedule, identities, people, crowd):
    setup_branch(people, crowd, 3)
    probationary = crowd(5, role="probationary", prefix="p")
    meeting = live_meeting(schedule, identities, people)
    arrive(meeting, people["secretary"])
    for user in [*probationary, people["probationary"]]:
        arrive(meeting, user)
    state = selectors.summary(meeting)
    assert state["quorum"]["voting_expected"] == 3 and state["quorum"]["voting_present"] == 1
    assert state["counts"]["expected"] == 3 + 6 and state["counts"]["present"] == 7
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="表决", secret=False)
    with pytest.raises(Conflict):  # 1 of 3 voting members present; 6 probationary do not help
        actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    arrive(meeting, people["member"])
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    with pytest.raises(Forbidden):
        actions.cast_vote(identity=ident(probationary[0]), vote_id=vote.pk, choice="yes")


def test_leave_does_not_reduce_the_expected_count_but_an_exclusion_does(schedule, identities, people, crowd):
    voters = setup_branch(people, crowd, 10)
    meeting = schedule("general")
    leave = actions.request_leave(identity=ident(voters[9]), meeting_id=meeting.pk, reason="出差")
    actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
    assert selectors.summary(meeting)["quorum"]["voting_expected"] == 10
    actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk, user_id=voters[8].pk,
                          reason="abroad", note="出国一年")
    state = selectors.summary(meeting)
    assert state["quorum"]["voting_expected"] == 9
    assert state["counts"]["expected"] == 10  # 10 voting + 1 probationary - 1 excluded
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in voters[:5]:
        arrive(meeting, user)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="表决", secret=False)
    assert actions.open_vote(identity=identities["secretary"], vote_id=vote.pk).voting_expected == 9
    report = selectors.attendance_report(meeting)
    statuses = {row["user"]["id"]: row["status"] for row in report["rows"]}
    assert statuses[voters[9].pk] == "excused" and statuses[voters[8].pk] == "excluded"


def test_a_member_who_left_no_longer_counts_toward_quorum(schedule, identities, people, crowd):
    voters = setup_branch(people, crowd, 3)
    meeting = live_meeting(schedule, identities, people)
    for user in voters[:2]:
        arrive(meeting, user)
    depart(meeting, voters[1])
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="表决", secret=False)
    with pytest.raises(Conflict) as refused:
        actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert refused.value.details == {"present": 1, "expected": 3, "required": 2}
