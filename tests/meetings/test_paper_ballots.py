"""纸质选票: at a secret ballot, members checked in in the room may vote on paper while
those away vote on the page. The chair hands the ballots out (named: holding one counts
as having voted), and enters the count of the ballot box, which joins the sealed tally;
more ballots back than handed out voids the vote. With a controlled clock."""

from __future__ import annotations

import pytest
from django.urls import reverse

from meetings import actions, minutes, sealing, selectors
from meetings.models import PaperCount, SealedTally, Vote, VoteParticipation
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden, Invalid
from realtime.models import Event
from tests.realtime.conftest import connect  # noqa: F401  the real ASGI stack fixture

from .conftest import arrive, ident
from .test_secret_ballot import all_rows, mentions_choice, mentions_voter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def hybrid(schedule, identities, people, crowd, clock):
    """A live general meeting: the chair and two more on the page, the member, the moderator
    and two more checked in in the room (7 voting members, all present)."""
    online = [people["secretary"], *crowd(2, prefix="web")]
    room = [people["member"], people["moderator"], *crowd(2, prefix="room")]
    meeting = schedule("general")
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    clock.at(1)
    for user in online:
        arrive(meeting, user, clock.now)
    for user in room:
        actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=user.pk)
    return meeting, online, room


def secret(meeting, identities, kind="motion", **extra):
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind=kind,
                               title="无记名表决", secret=True, **extra)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    return vote


def sealed(vote) -> bytes:
    return bytes(SealedTally.objects.get(vote=vote).sealed)


def ids(users) -> list[int]:
    return [u.pk for u in users]


def test_the_room_votes_on_paper_and_the_page_online(hybrid, identities):
    meeting, online, room = hybrid
    chair = identities["secretary"]
    vote = secret(meeting, identities)
    issued = actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=ids(room))
    assert issued["vote"]["paper"]["issued"] == 4 and issued["vote"]["cast"] == 4
    assert {p["id"] for p in issued["vote"]["paper"]["to"]} == set(ids(room))
    assert issued["vote"]["paper"]["counted"] is False

    # Holding a paper ballot is having voted: the page refuses a second one, and says why.
    arrive(meeting, room[0])  # the member opens the page in the room too
    with pytest.raises(Conflict, match="paper ballot"):
        actions.cast_vote(identity=ident(room[0]), vote_id=vote.pk, choice="no")
    for user, choice in zip(online, ("yes", "yes", "no")):
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice=choice)

    # The box is not counted yet: the vote does not close.
    with pytest.raises(Conflict, match="not counted"):
        actions.close_vote(identity=chair, vote_id=vote.pk)

    # 4 came back, one spoilt: 2 for, 1 against. Then a recount: 3 for, none against.
    actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=4, invalid=1,
                                counts={"yes": 2, "no": 1})
    assert sealing.open_counts(vote.pk, ["yes", "no", "abstain"], sealed(vote)) == {"yes": 4, "no": 2, "abstain": 0}
    again = actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=4, invalid=1,
                                        counts={"yes": 3, "abstain": 0})
    assert again["vote"]["paper"] == {"issued": 4, "to": again["vote"]["paper"]["to"], "counted": True,
                                      "returned": 4, "invalid": 1, "scrutineers": []}
    assert sealing.open_counts(vote.pk, ["yes", "no", "abstain"], sealed(vote)) == {"yes": 5, "no": 1, "abstain": 0}
    # After the count nothing more is handed out or taken back.
    with pytest.raises(Conflict):
        actions.take_back_paper_ballot(identity=chair, vote_id=vote.pk, user_id=room[1].pk)

    closed = actions.close_vote(identity=chair, vote_id=vote.pk)
    assert closed.result["counts"] == {"yes": 5, "no": 1, "abstain": 0}
    assert closed.result["ballots"] == 3 + 4  # the page's, and the box's (spoilt included)
    assert closed.result["paper"] == {"issued": 4, "returned": 4, "invalid": 1, "scrutineers": []}
    assert closed.passed is True and "void" not in closed.result  # 5 of 7
    assert not PaperCount.objects.filter(vote=vote).exists()  # the box's own share is gone with the close
    assert selectors.vote_dict(closed)["paper"]["returned"] == 4
    actions_logged = list(AuditEntry.objects.filter(action__startswith="meeting.vote.paper").order_by("id")
                          .values_list("action", "after"))
    assert [a for a, _ in actions_logged] == ["meeting.vote.paper_issue", "meeting.vote.paper_count",
                                              "meeting.vote.paper_count"]
    # The log says how many came back and were spoilt, never what they said.
    assert actions_logged[2][1] == {"vote": vote.pk, "returned": 4, "invalid": 1, "recount": True}
    # As for the page's ballots: no stored row links a voter to a choice.
    voters = set(ids(online + room))
    for table, stored in all_rows():
        if table not in ("django_session", "auth_user"):
            assert not (mentions_voter(stored, voters) and mentions_choice(stored)), f"{table}: {stored}"


def test_a_wrong_count_is_refused_and_changes_nothing(hybrid, identities):
    meeting, online, room = hybrid
    chair = identities["secretary"]
    vote = secret(meeting, identities)
    with pytest.raises(Conflict, match="No paper ballots"):
        actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=0, invalid=0, counts={})
    actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=ids(room[:3]))
    before = sealed(vote)
    wrong = [
        (Invalid, dict(returned=3, invalid=0, counts={"yes": 1, "no": 1})),  # adds up to 2, not 3
        (Invalid, dict(returned=2, invalid=3, counts={})),  # more spoilt than came back
        (Invalid, dict(returned=3, invalid=0, counts={"yes": 3, "maybe": 0})),  # not an option
        (Invalid, dict(returned=3, invalid=0, counts={"yes": 4, "no": -1})),
        (Invalid, dict(returned=-1, invalid=0, counts={})),
        (Forbidden, dict(returned=3, invalid=0, counts={"yes": 3}, who="moderator")),  # the chair's
    ]
    for error, args in wrong:
        who = identities[args.pop("who", "secretary")]
        with pytest.raises(error):
            actions.count_paper_ballots(identity=who, vote_id=vote.pk, **args)
    assert sealed(vote) == before and not PaperCount.objects.filter(vote=vote).exists()
    assert not AuditEntry.objects.filter(action="meeting.vote.paper_count").exists()


def test_whom_ballots_are_handed_to(hybrid, identities, people, crowd):
    meeting, online, room = hybrid
    chair = identities["secretary"]
    open_vote = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="motion", title="举手", secret=False)
    actions.open_vote(identity=chair, vote_id=open_vote.pk)
    with pytest.raises(Conflict, match="secret"):  # an open vote counts hands instead
        actions.issue_paper_ballots(identity=chair, vote_id=open_vote.pk, user_ids=ids(room))
    actions.close_vote(identity=chair, vote_id=open_vote.pk)

    draft = actions.create_vote(identity=chair, meeting_id=meeting.pk, kind="motion", title="草案", secret=True)
    with pytest.raises(Conflict, match="open"):
        actions.issue_paper_ballots(identity=chair, vote_id=draft.pk, user_ids=ids(room))
    actions.open_vote(identity=chair, vote_id=draft.pk)
    vote = draft
    probationary = people["probationary"]
    actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=probationary.pk)
    refusals = [
        (Invalid, [room[0].pk, probationary.pk], "have a vote: Probationary"),
        (Invalid, [online[1].pk], "not"),  # on the page, not in the room
        (Invalid, [], "Choose"),
        (Forbidden, ids(room), None),
    ]
    for error, users, words in refusals:
        who = identities["moderator"] if error is Forbidden else chair
        with pytest.raises(error, match=words):
            actions.issue_paper_ballots(identity=who, vote_id=vote.pk, user_ids=users)
    assert not VoteParticipation.objects.filter(vote=vote).exists()  # all or nothing

    actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=[room[0].pk, room[0].pk])  # once each
    with pytest.raises(Conflict, match="Already"):
        actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=ids(room[:1]))
    # Someone who voted on the page gets no paper ballot as well: the whole room ticked,
    # they and the holder are passed over and named.
    arrive(meeting, room[1])
    actions.cast_vote(identity=ident(room[1]), vote_id=vote.pk, choice="yes")
    with pytest.raises(Conflict, match="Already"):
        actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=[room[1].pk])
    most = actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=ids(room))
    assert [p["id"] for p in most["skipped"]] == ids(room[:2])
    assert {p["id"] for p in most["vote"]["paper"]["to"]} == {room[0].pk, room[2].pk, room[3].pk}
    issued = AuditEntry.objects.filter(action="meeting.vote.paper_issue").order_by("id").last()
    assert issued.after["users"] == ids(room[2:])
    for user in room[2:]:
        actions.take_back_paper_ballot(identity=chair, vote_id=vote.pk, user_id=user.pk)

    # One handed out by mistake is taken back, and its holder votes on the page after all.
    arrive(meeting, room[0])
    taken = actions.take_back_paper_ballot(identity=chair, vote_id=vote.pk, user_id=room[0].pk)
    assert taken["vote"]["paper"] is None and taken["vote"]["cast"] == 1
    with pytest.raises(Invalid):
        actions.take_back_paper_ballot(identity=chair, vote_id=vote.pk, user_id=room[0].pk)
    actions.cast_vote(identity=ident(room[0]), vote_id=vote.pk, choice="no")
    closed = actions.close_vote(identity=chair, vote_id=vote.pk)  # nothing on paper: no count needed
    assert "paper" not in closed.result and closed.result["ballots"] == 2


def test_more_ballots_back_than_handed_out_voids_the_vote(hybrid, identities, client):
    meeting, online, room = hybrid
    chair = identities["secretary"]
    vote = secret(meeting, identities)
    for user in online:
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice="yes")
    actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=ids(room[:2]))
    # Three in the box for two handed out: the choices are not even counted.
    actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=3, invalid=0, counts={"yes": 9})
    closed = actions.close_vote(identity=chair, vote_id=vote.pk)
    assert closed.result["void"] is True and closed.passed is False
    assert closed.result["counts"]["yes"] == 3  # the page's only
    assert closed.result["paper"] == {"issued": 2, "returned": 3, "invalid": 0, "scrutineers": []}

    # The minutes say so, in words and on the page.
    text = minutes.render_markdown(minutes.build_minutes(meeting))
    assert "Paper ballots in the room: 2 handed out, 3 back, 0 spoilt." in text
    assert "**Void: more ballots came back than were handed out. The vote is to be held again.**" in text
    assert "Not passed" not in text
    client.force_login(online[0])
    page = client.get(reverse("meetings:minutes", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "纸质选票" in page and "无效" in page


def test_an_election_on_paper(hybrid, identities, people):
    meeting, online, room = hybrid
    chair = identities["secretary"]
    vote = secret(meeting, identities, kind="election", seats=2,
                  candidates=[people["member"].pk, people["moderator"].pk, online[1].pk])
    actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=ids(room))
    for error_counts in (
        {"c1": 4, "c2": 0, "c3": 0, "abstain": 1},  # c1 on 4 ballots, but only 3 valid ones name anyone
        {"c1": 1, "c2": 0, "c3": 0, "abstain": 1},  # 3 ballots name someone, so at least 3 names
        {"c1": 3, "c2": 3, "c3": 1, "abstain": 1},  # at most 2 names on each of 3 ballots: 6
        {"abstain": 5},
    ):
        with pytest.raises(Invalid):
            actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=4, invalid=0, counts=error_counts)
    # 监票人: voting members at the meeting who are not candidates.
    for wrong in ([people["member"].pk], [people["probationary"].pk], [online[0].pk] * 1 + list(range(90, 95))):
        with pytest.raises(Invalid, match="crutineer"):
            actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=4, invalid=0,
                                        counts={"c1": 3, "c2": 2, "c3": 1, "abstain": 1}, scrutineers=wrong)
    counted = actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=4, invalid=0,
                                          counts={"c1": 3, "c2": 2, "c3": 1, "abstain": 1},
                                          scrutineers=[online[0].pk, room[2].pk])
    assert [p["id"] for p in counted["vote"]["paper"]["scrutineers"]] == sorted([online[0].pk, room[2].pk])
    for user in online:
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, candidates=["c1", "c2"])
    closed = actions.close_vote(identity=chair, vote_id=vote.pk)
    assert closed.result["counts"] == {"c1": 6, "c2": 5, "c3": 1, "abstain": 1}
    assert closed.result["elected"] == ["c1", "c2"]  # more than half of 7 each
    assert {p["id"] for p in closed.result["paper"]["scrutineers"]} == {online[0].pk, room[2].pk}
    text = minutes.render_markdown(minutes.build_minutes(meeting))
    assert "Scrutineers: Secretary、Room0." in text


def test_the_box_share_is_sealed_and_events_carry_no_counts(hybrid, identities):
    meeting, online, room = hybrid
    chair = identities["secretary"]
    vote = secret(meeting, identities)
    actions.issue_paper_ballots(identity=chair, vote_id=vote.pk, user_ids=ids(room[:2]))
    actions.count_paper_ballots(identity=chair, vote_id=vote.pk, returned=2, invalid=0, counts={"yes": 1, "no": 1})
    row = PaperCount.objects.get(vote=vote)
    blob = bytes(row.sealed)
    assert len(blob) == sealing.sealed_length(3)
    keys = ["yes", "no", "abstain"]
    assert sealing.open_counts(vote.pk, keys, blob, part="paper") == {"yes": 1, "no": 1, "abstain": 0}
    # Neither blob opens in the other's place.
    with pytest.raises(sealing.TallyUnreadable):
        sealing.open_counts(vote.pk, keys, blob)
    with pytest.raises(sealing.TallyUnreadable):
        sealing.open_counts(vote.pk, keys, sealed(vote), part="paper")
    for event in Event.objects.filter(stream_id=f"meeting:{meeting.pk}", type="vote.updated"):
        assert event.data["result"] is None and "counts" not in event.data


@pytest.mark.django_db(transaction=True)
async def test_the_ops_on_the_socket(connect, people, tree, identities):  # noqa: F811
    from channels.db import database_sync_to_async

    @database_sync_to_async
    def prepare():
        meeting = actions.schedule_meeting(
            identity=identities["secretary"], branch_id=tree["a"].pk, kind="general", title="现场会",
            starts_at="2026-11-28T09:00", ends_at="2026-11-28T11:00", chair_id=people["secretary"].pk, place="会议室")
        actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
        for name in ("secretary", "member", "moderator"):
            actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people[name].pk)
        vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                                   title="无记名", secret=True)
        actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
        return vote

    vote = await prepare()
    chair = await connect(people["secretary"])
    who = [people["member"].pk, people["moderator"].pk]
    issued = await chair.call("meetings.vote.paper_issue", {"vote": vote.pk, "users": who}, cid="paper-0001")
    assert issued["op"] == "ok" and issued["data"]["vote"]["paper"]["issued"] == 2
    for bad in ({"vote": vote.pk, "returned": True}, {"vote": vote.pk, "returned": -1},
                {"vote": vote.pk, "returned": 2, "counts": {"yes": "2"}}):
        refused = await chair.call("meetings.vote.paper_count", bad, cid=f"paper-bad-{len(str(bad))}")
        assert refused["code"] == "bad_request", bad
    counted = await chair.call("meetings.vote.paper_count",
                               {"vote": vote.pk, "returned": 2, "invalid": 0, "counts": {"yes": 2}}, cid="paper-0002")
    assert counted["data"]["vote"]["paper"]["returned"] == 2
    member = await connect(people["member"])
    refused = await member.call("meetings.vote.paper_take_back", {"vote": vote.pk, "user": who[0]}, cid="paper-0003")
    assert refused["code"] in ("forbidden", "not_found")
    late = await chair.call("meetings.vote.paper_take_back", {"vote": vote.pk, "user": who[0]}, cid="paper-0004")
    assert late["code"] == "conflict"
    assert await database_sync_to_async(Vote.objects.filter(pk=vote.pk, status="open").exists)()
