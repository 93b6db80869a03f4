"""另选他人: at an election a ballot may name, instead of a candidate, any other full
member of the branch (the election rules let whoever votes against a candidate choose
another). Each is an option of the vote from its creation, so a secret tally seals them
like the candidates; they count towards the seats, may be elected, and appear in the
result and the minutes only when a ballot named them. And the election rules around
them: who may stand, secret ballots only, nobody absent voting, and the majority of
those at the meeting. With a controlled clock."""

from __future__ import annotations

import pytest

from meetings import actions, minutes, sealing, selectors
from meetings.models import SealedTally, VoteOption
from realtime.errors import Conflict, Invalid

from .conftest import arrive, ident
from .test_paper_ballots import hybrid  # noqa: F401  the fixture: 3 voting members online, 4 in the room

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def written_in(vote) -> dict[str, str]:
    """The vote's write-in options: username -> key."""
    return {o.candidate.username: o.key for o in VoteOption.objects.filter(vote=vote, write_in=True)
            .select_related("candidate")}


def test_the_other_full_members_may_be_written_in_and_elected(hybrid, identities, people, make_user, tree):  # noqa: F811
    meeting, online, room = hybrid
    chair = identities["secretary"]
    gone = make_user("gone", branch=tree["a"], roles=("full",))
    gone.is_active = False
    gone.save()
    vote = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="选举支部委员",
                               secret=True, seats=2, candidates=[people["member"].pk, people["moderator"].pk])
    # Every active full member who is not a candidate; no probationary member, nobody gone.
    others = written_in(vote)
    assert sorted(others) == sorted(["secretary", "web0", "web1", "room0", "room1"])
    shown = selectors.vote_dict(vote)["options"]
    assert [o["key"] for o in shown if not o["write_in"]] == ["c1", "c2", "abstain"]
    assert [o["label"] for o in shown if o["write_in"]] == sorted(o["label"] for o in shown if o["write_in"])
    keys = [o["key"] for o in shown]
    assert sealing.open_counts(vote.pk, keys, bytes(SealedTally.objects.get(vote=vote).sealed)) == dict.fromkeys(
        keys, 0)

    actions.open_vote(identity=chair, vote_id=vote.pk)
    room0 = others["room0"]
    with pytest.raises(Invalid, match="at most 2"):  # the seats count those written in too
        actions.cast_vote(identity=chair, vote_id=vote.pk, candidates=["c1", "c2", room0])
    actions.cast_vote(identity=chair, vote_id=vote.pk, candidates=["c1", room0])
    actions.cast_vote(identity=ident(online[1]), vote_id=vote.pk, candidates=["c1", room0])
    actions.cast_vote(identity=ident(online[2]), vote_id=vote.pk, candidates=[room0])

    # The room on paper: 4 back, one naming nobody; room1, named by no ballot, watches the count.
    actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=[u.pk for u in room])
    with pytest.raises(Invalid):  # 3 ballots name someone, two names at most each: not 7
        actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=4, invalid=0,
                                    counts={"c1": 2, "c2": 2, room0: 3, "abstain": 1})
    actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=4, invalid=0,
                                counts={"c1": 1, "c2": 1, room0: 2, "abstain": 1},
                                scrutineers=[room[3].pk])
    closed = actions.close_vote(identity=chair, vote_id=vote.pk)
    # 7 voting members: more than half is 4. room0 has 5, the member 3, the moderator 1.
    assert closed.result["counts"] == {"c1": 3, "c2": 1, room0: 5, "abstain": 1}
    assert closed.result["elected"] == [room0] and closed.passed is True

    record = minutes.build_minutes(meeting)
    (r,) = record["resolutions"]
    assert [(c["label"], c["count"]) for c in r["counts"]] == [
        ("Member", 3), ("Moderator", 1), ("Room0 (written in)", 5), ("abstain", 1)]
    assert r["elected"] == ["Room0 (written in)"]
    text = minutes.render_markdown(record)
    assert "Room0 (written in) 5" in text and "Web0 (written in)" not in text


def test_an_election_is_secret_and_an_open_one_of_before_names_each_choice(hybrid, identities, people,  # noqa: F811
                                                                           clock):
    """选举一律采用无记名投票: an open election is refused. One recorded before that rule
    was kept still names each member's choices in the minutes, as the page does."""
    meeting, online, room = hybrid
    chair = identities["secretary"]
    with pytest.raises(Invalid, match="secret ballot") as refused:
        actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="推选代表",
                            secret=False, seats=1, candidates=[people["member"].pk])
    assert refused.value.field == "secret" and not meeting.votes.exists()
    vote = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="推选代表",
                               secret=True, seats=1, candidates=[people["member"].pk])
    type(vote).objects.filter(pk=vote.pk).update(secret=False)  # as an open election was prepared before
    actions.open_vote(identity=chair, vote_id=vote.pk)
    web0 = written_in(vote)["web0"]
    arrive(meeting, people["moderator"], clock.now)
    actions.cast_vote(identity=identities["moderator"], vote_id=vote.pk, candidates=[web0])
    actions.cast_vote(identity=chair, vote_id=vote.pk, candidates=["c1"])
    actions.close_vote(identity=chair, vote_id=vote.pk)
    text = minutes.render_markdown(minutes.build_minutes(meeting))
    # Named, in the Markdown as on the page (not by their keys).
    assert "- Moderator: Web0 (written in)" in text and "- Secretary: Member" in text


def test_a_tie_at_the_last_seat_names_those_tied(hybrid, identities, people, clock):  # noqa: F811
    """Seven voting members, two seats: one candidate has 6, two have 4 each (both more
    than half): the first is elected, the other two tie for the second seat and are named
    in the result, for the chair's vote again between them."""
    meeting, online, room = hybrid
    chair = identities["secretary"]
    vote = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="选举委员",
                               secret=True, seats=2,
                               candidates=[people["member"].pk, people["moderator"].pk, online[1].pk])
    actions.open_vote(identity=chair, vote_id=vote.pk)
    for user in room:
        arrive(meeting, user, clock.now)
    ballots = [["c1", "c2"]] * 3 + [["c1", "c3"]] * 3 + [["c2", "c3"]]
    for user, picked in zip([*online, *room], ballots):
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, candidates=picked)
    closed = actions.close_vote(identity=chair, vote_id=vote.pk)
    assert closed.result["counts"] == {"c1": 6, "c2": 4, "c3": 4, "abstain": 0}
    assert closed.result["elected"] == ["c1"] and closed.result["tie"] is True
    assert sorted(closed.result["tied"]) == ["c2", "c3"]


def test_the_majority_is_of_those_at_the_meeting_and_nobody_absent_votes(schedule, identities, people, crowd,
                                                                         clock):
    """Someone is elected with more than half of the voting members at the meeting
    (实到会有选举权的人数), not of those expected; one who came after it opened and voted
    is counted among them. Nobody votes in an election who is not at the meeting: no
    written opinion, and never a show of hands (an election is secret)."""
    chair = identities["secretary"]
    late, away = crowd(2, prefix="away")
    web = crowd(6, prefix="web")  # on the page: with the chair and the room, 9 of the 11 present (four fifths)
    meeting = schedule("general")
    clock.at(0)
    actions.start_meeting(identity=chair, meeting_id=meeting.pk)
    clock.at(1)
    for user in (people["secretary"], *web):
        arrive(meeting, user, clock.now)
    for user in (people["member"], people["moderator"]):
        actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=user.pk)
    vote = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="选举支部委员",
                               secret=True, seats=2, candidates=[people["member"].pk, people["moderator"].pk])
    other = written_in(vote)["secretary"]
    with pytest.raises(Conflict, match="cannot vote by written opinion"):
        actions.enter_written_opinion(identity=chair, vote_id=vote.pk, user_id=away.pk, candidates=["c1"])

    actions.open_vote(identity=chair, vote_id=vote.pk)
    with pytest.raises(Conflict, match="never counted by a show of hands"):
        actions.enter_show_of_hands(identity=chair, vote_id=vote.pk, user_id=people["member"].pk, candidates=["c1"])
    assert selectors.vote_dict(vote)["cast"] == 0  # refused: nothing entered
    actions.cast_vote(identity=chair, vote_id=vote.pk, candidates=["c1"])
    for i, user in enumerate(web):
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, candidates=["c1"] if i < 4 else ["c2", other])
    closed = actions.close_vote(identity=chair, vote_id=vote.pk)  # the two in the room did not vote
    assert closed.result["counts"] == {"c1": 5, "c2": 2, other: 2, "abstain": 0}
    # 9 at the meeting: 5 is more than half of them (not of the 11 expected).
    assert closed.result["voters_present"] == 9 and closed.result["elected"] == ["c1"]
    (r,) = minutes.build_minutes(meeting)["resolutions"]
    assert r["elected_of"] == "9 voting members were at the meeting: more than half of them is needed to be elected."
    assert r["elected_of"] in minutes.render_markdown(minutes.build_minutes(meeting))

    # The next one: a member comes in after it opened and votes; now 10 are at the meeting.
    again = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="另行选举",
                                secret=True, seats=1, candidates=[people["moderator"].pk, people["secretary"].pk])
    actions.open_vote(identity=chair, vote_id=again.pk)
    clock.at(2)
    arrive(meeting, late, clock.now)
    for user in (people["secretary"], *web[:4]):
        actions.cast_vote(identity=ident(user), vote_id=again.pk, candidates=["c1"])
    for user in (late, *web[4:]):
        actions.cast_vote(identity=ident(user), vote_id=again.pk, candidates=["c2"])
    closed = actions.close_vote(identity=chair, vote_id=again.pk)
    assert closed.result["counts"]["c1"] == 5 and closed.result["voters_present"] == 10
    assert closed.result["elected"] == [] and closed.passed is False  # 5 of 10 is not more than half


def test_only_full_members_of_the_branch_may_be_candidates(hybrid, identities, people):  # noqa: F811
    """党章: a probationary member has no right to vote, elect or be elected; someone of
    another branch is not the branch's to elect. Refused, nothing prepared."""
    meeting, online, room = hybrid
    chair = identities["secretary"]
    for wrong, message in ((people["probationary"], "probationary member has no right to be elected"),
                           (people["other_secretary"], "party members of this branch")):
        with pytest.raises(Invalid, match=message) as refused:
            actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="选举支部委员",
                                secret=True, seats=1, candidates=[people["member"].pk, wrong.pk])
        assert refused.value.field == "candidates"
    assert not meeting.votes.exists()
    # Nor written in: the ballot may name only full members.
    vote = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="选举支部委员",
                               secret=True, seats=1, candidates=[people["member"].pk])
    assert "probationary" not in written_in(vote)


def test_a_committee_meeting_elects_from_among_the_committee(schedule, identities, people, tree):
    """支部委员会 elects the secretary and deputy from among its members: candidates and
    those who may be written in are the committee on the meeting's roll."""
    from meetings.models import CommitteeMember

    CommitteeMember.objects.create(branch=tree["a"], user=people["member"], title="组织委员")
    meeting = schedule("committee")
    chair = identities["secretary"]
    with pytest.raises(Invalid, match="elects from among its own members") as refused:
        actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="选举支部书记",
                            secret=True, candidates=[people["moderator"].pk])
    assert refused.value.field == "candidates"
    vote = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="election", title="选举支部书记",
                               secret=True, candidates=[people["member"].pk])
    assert sorted(written_in(vote)) == ["secretary"]  # the other committee member, not the moderator
    assert selectors.electable(meeting) == {people["secretary"].pk, people["member"].pk}
