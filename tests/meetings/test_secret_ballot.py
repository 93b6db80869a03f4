"""Secret ballots: nothing stored or logged lets anyone (a database admin included) link a voter to a choice.

The first test casts distinct choices, then reads every row of every table (raw SQL, as
an admin would), the event log, the audit log, the client-write records and the log
output, and checks that no row holds both a voter and a choice of the secret vote.

The running counts are sealed (meetings/sealing.py), because old row versions, the WAL
and backups keep every version of them: the others check that no row holds a clear
count while a vote is open, that each ballot reseals the tally into bytes of one length
that open only with the server's key and only for their vote, and what closing does
when SECRET_KEY has been rotated or lost.
"""

from __future__ import annotations

import json
import logging
import struct

import pytest
from django.core.management import call_command
from django.db import connection

from meetings import actions, sealing
from meetings.models import Meeting, OpenBallot, SealedTally, Vote, VoteParticipation
from moderation.models import AuditEntry
from realtime.errors import Conflict
from realtime.models import ClientWrite, Event
from realtime.testing import capture_events

from .conftest import T0, ident

pytestmark = pytest.mark.django_db

# A row naming some but not all of a motion's options says which one somebody chose; a
# row naming all of them is an option list or an aggregate.
CHOICE_SETS = (("yes", "no", "abstain"), ("赞成", "反对", "弃权"))


def live_meeting_with(schedule, identities, present) -> Meeting:
    """A live general meeting with `present` admitted and in the room since T0."""
    meeting = schedule("general")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in present:
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=T0)
    return meeting


@pytest.fixture
def secret_vote(schedule, identities, people, crowd):
    voters = [people["secretary"], people["member"], people["moderator"], *crowd(4)]
    absent = crowd(1, prefix="away")[0]
    meeting = live_meeting_with(schedule, identities, voters)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="无记名表决", secret=True)
    actions.enter_written_opinion(identity=identities["secretary"], vote_id=vote.pk, user_id=absent.pk, choice="no")
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    choices = dict(zip([u.pk for u in voters], ["yes", "no", "abstain", "yes", "no", "yes", "abstain"]))
    return meeting, vote, voters, absent, choices


def cast_all(vote, voters, choices):
    for user in voters:
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice=choices[user.pk])


def all_rows():
    """Every row of every table, as (table, {column: value}): what a database admin can read."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                yield table, dict(zip(columns, row))


def mentions_voter(row: dict, voter_ids: set[int]) -> set[int]:
    found = set()
    for column, value in row.items():
        if column in ("user_id", "author_id", "candidate_id", "decided_by_id", "created_by_id", "approved_by_id") \
                and value in voter_ids:
            found.add(value)
        text = value if isinstance(value, str) else json.dumps(value, default=str) if value is not None else ""
        for uid in voter_ids:
            if f"u:{uid}" in text or f'"id": {uid},' in text and '"name"' in text:
                found.add(uid)
    return found


def mentions_choice(row: dict) -> bool:
    texts = [v for v in row.values() if isinstance(v, str)]
    for words in CHOICE_SETS:
        found = {w for w in words for t in texts if t == w or f'"{w}"' in t}
        if 0 < len(found) < len(words):
            return True
    return False


def test_no_stored_row_links_a_voter_to_a_choice(secret_vote, caplog):
    meeting, vote, voters, absent, choices = secret_vote
    caplog.set_level(logging.DEBUG)
    with capture_events() as events:
        cast_all(vote, voters, choices)
    closed = actions.close_vote(identity=ident(voters[0]), vote_id=vote.pk)
    assert closed.result["counts"] == {"yes": 3, "no": 3, "abstain": 2} and closed.result["ballots"] == 8

    ids = {u.pk for u in voters} | {absent.pk}
    for table, row in all_rows():
        if table in ("django_session", "auth_user"):
            continue
        linked = mentions_voter(row, ids)
        assert not (linked and mentions_choice(row)), f"{table} links voter(s) {linked} to a choice: {row}"

    # The tables themselves: a participation has no choice and no time; a tally has no user, no time and
    # nothing but the sealed counts.
    with connection.cursor() as cursor:
        participation = {c.name for c in connection.introspection.get_table_description(
            cursor, VoteParticipation._meta.db_table)}
        tally = {c.name for c in connection.introspection.get_table_description(cursor, SealedTally._meta.db_table)}
    assert participation == {"id", "vote_id", "user_id", "via"}
    assert tally == {"vote_id", "sealed"}
    # No per-ballot rows to line up with participations; the sealed tally went with the close.
    assert not SealedTally.objects.filter(vote=vote).exists()
    assert not OpenBallot.objects.filter(vote=vote).exists()

    # Events: each ballot published only a count, with no actor.
    progress = [e for e in events if e.type == "vote.progress"]
    assert len(progress) == len(voters) and all(set(e.data) == {"vote", "cast", "of"} for e in progress)
    assert not {e.type for e in events} - {"vote.progress"}
    assert set(Event.objects.filter(type="vote.progress").values_list("actor", flat=True)) == {""}
    # Nothing was recorded under a client id (the cast op takes none), nor audited, nor logged.
    assert not ClientWrite.objects.filter(op__contains="cast").exists()
    assert not AuditEntry.objects.filter(action__contains="cast").exists()
    for entry in AuditEntry.objects.filter(action="meeting.vote.written_opinion"):
        assert set(entry.after) == {"vote", "user"}
    for record in caplog.records:
        message = record.getMessage()
        assert not record.name.startswith("meetings"), message
        assert not any(f"u:{uid}" in message for uid in ids), message


def sealed_blob(vote) -> bytes:
    return bytes(SealedTally.objects.get(vote=vote).sealed)


def holds_counts(value) -> bool:
    """A mapping of all three motion options to numbers, anywhere in a (JSON) value: a clear tally."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if isinstance(value, dict):
        if {"yes", "no", "abstain"} <= set(value) and all(isinstance(value[k], int) for k in ("yes", "no", "abstain")):
            return True
        return any(holds_counts(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_counts(v) for v in value)
    return False


def test_no_row_holds_a_clear_count_while_the_vote_is_open(secret_vote):
    meeting, vote, voters, absent, choices = secret_vote
    cast_all(vote, voters, choices)  # yes 3, no 3 (one written), abstain 2

    assert Vote.objects.get(pk=vote.pk).result is None
    for table, row in all_rows():
        if row.get("vote_id") == vote.pk:
            # Rows of this vote hold ids, a position, text and the sealed bytes: no number that could be a count.
            numbers = {c for c, v in row.items() if isinstance(v, int) and not isinstance(v, bool)
                       and c != "id" and not c.endswith("_id") and c != "position"}
            assert not numbers, f"{table} holds numbers {numbers} for the open vote: {row}"
        assert not any(holds_counts(v) for v in row.values()), f"{table} holds a clear tally: {row}"
    blob = sealed_blob(vote)
    for clear in (struct.pack(">3I", 3, 3, 2), struct.pack("<3I", 3, 3, 2), b'"yes": 3', b"3,3,2"):
        assert clear not in blob
    # Only the key opens it.
    assert sealing.open_counts(vote.pk, ["yes", "no", "abstain"], blob) == {"yes": 3, "no": 3, "abstain": 2}


def test_each_ballot_reseals_the_tally_into_new_bytes_of_the_same_length(schedule, identities, people, crowd):
    voters = [people["secretary"], people["member"], people["moderator"], *crowd(9)]
    meeting = live_meeting_with(schedule, identities, voters)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="无记名表决", secret=True)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    blobs = [sealed_blob(vote)]
    statements: list[str] = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        actions.cast_vote(identity=ident(voters[0]), vote_id=vote.pk, choice="yes")
    blobs.append(sealed_blob(vote))
    for user in voters[1:]:  # 12 ballots for "yes": the count gains a digit
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice="yes")
        blobs.append(sealed_blob(vote))

    # A ballot writes the one sealed row of the vote, once, and no other tally row.
    table = SealedTally._meta.db_table
    writes = [s for s in statements if table in s and not s.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith(f'UPDATE "{table}" SET "sealed"')
    assert len(set(blobs)) == len(blobs) == 13
    assert {len(b) for b in blobs} == {sealing.sealed_length(3)}
    for before, after in zip(blobs, blobs[1:]):
        # Nonce and ciphertext are new: about 1 in 256 bytes match by chance, never most of them.
        assert sum(a == b for a, b in zip(before[1:], after[1:])) <= 8
    assert sealing.open_counts(vote.pk, ["yes", "no", "abstain"], blobs[-1]) == {"yes": 12, "no": 0, "abstain": 0}
    closed = actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert closed.result["counts"] == {"yes": 12, "no": 0, "abstain": 0} and closed.passed is True


def test_sealing_the_same_counts_twice_gives_different_bytes():
    keys, counts = ["yes", "no", "abstain"], {"yes": 2, "no": 1}
    first, second = sealing.seal_counts(1, keys, counts), sealing.seal_counts(1, keys, counts)
    assert first != second and first[1:13] != second[1:13]  # a fresh nonce each time
    assert sealing.open_counts(1, keys, first) == sealing.open_counts(1, keys, second) == {**counts, "abstain": 0}


def test_a_sealed_tally_opens_only_with_the_key_and_for_its_vote(settings):
    keys = ["c1", "c2", "abstain"]
    blob = sealing.seal_counts(7, keys, {"c1": 4, "c2": 1, "abstain": 0})
    assert sealing.open_counts(7, keys, blob) == {"c1": 4, "c2": 1, "abstain": 0}
    with pytest.raises(sealing.TallyUnreadable):
        sealing.open_counts(8, keys, blob)  # moved onto another vote
    with pytest.raises(sealing.TallyUnreadable):
        sealing.open_counts(7, ["c2", "c1", "abstain"], blob)  # options reordered under it
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(sealing.TallyUnreadable):
        sealing.open_counts(7, keys, bytes(tampered))
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "another-server-" + "k" * 40, []
    with pytest.raises(sealing.TallyUnreadable):
        sealing.open_counts(7, keys, blob)


def rotate_key(settings, *, keep_old: bool) -> None:
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "rotated-" + "r" * 50
    settings.SECRET_KEY_FALLBACKS = [old] if keep_old else []


def test_a_vote_closes_after_a_key_rotation_with_the_old_key_as_fallback(secret_vote, settings):
    meeting, vote, voters, absent, choices = secret_vote
    cast_all(vote, voters, choices)
    rotate_key(settings, keep_old=True)
    closed = actions.close_vote(identity=ident(voters[0]), vote_id=vote.pk)
    assert closed.result["counts"] == {"yes": 3, "no": 3, "abstain": 2} and closed.result["ballots"] == 8


def test_a_ballot_after_a_key_rotation_reseals_under_the_new_key(secret_vote, settings):
    meeting, vote, voters, absent, choices = secret_vote
    cast_all(vote, voters[:-1], choices)
    rotate_key(settings, keep_old=True)
    actions.cast_vote(identity=ident(voters[-1]), vote_id=vote.pk, choice=choices[voters[-1].pk])
    settings.SECRET_KEY_FALLBACKS = []  # the old key is no longer needed
    closed = actions.close_vote(identity=ident(voters[0]), vote_id=vote.pk)
    assert closed.result["counts"] == {"yes": 3, "no": 3, "abstain": 2}


def test_closing_is_refused_and_nothing_written_when_the_key_is_gone(secret_vote, settings):
    meeting, vote, voters, absent, choices = secret_vote
    cast_all(vote, voters, choices)
    blob = sealed_blob(vote)
    old = settings.SECRET_KEY
    rotate_key(settings, keep_old=False)
    with capture_events() as events, pytest.raises(Conflict) as refused:
        actions.close_vote(identity=ident(voters[0]), vote_id=vote.pk)
    assert "SECRET_KEY_FALLBACKS" in refused.value.message  # what to ask the server's administrator for
    vote.refresh_from_db()
    assert vote.status == Vote.Status.OPEN and vote.result is None and vote.closed_at is None
    assert sealed_blob(vote) == blob and not events
    assert not AuditEntry.objects.filter(action="meeting.vote.close").exists()
    # Putting the old key back as a fallback is enough.
    settings.SECRET_KEY_FALLBACKS = [old]
    closed = actions.close_vote(identity=ident(voters[0]), vote_id=vote.pk)
    assert closed.result["counts"] == {"yes": 3, "no": 3, "abstain": 2}


def test_a_ballot_is_refused_and_not_recorded_when_the_key_is_gone(secret_vote, settings):
    meeting, vote, voters, absent, choices = secret_vote
    cast_all(vote, voters[:-1], choices)
    blob = sealed_blob(vote)
    rotate_key(settings, keep_old=False)
    with capture_events() as events, pytest.raises(Conflict):
        actions.cast_vote(identity=ident(voters[-1]), vote_id=vote.pk, choice="yes")
    assert not VoteParticipation.objects.filter(vote=vote, user=voters[-1]).exists()
    assert sealed_blob(vote) == blob and not events

def test_an_open_vote_records_who_chose_what(schedule, identities, people):
    meeting = live_meeting_with(schedule, identities, (people["secretary"], people["member"]))
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion", title="举手表决",
                               secret=False)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    actions.cast_vote(identity=identities["member"], vote_id=vote.pk, choice="no")
    assert OpenBallot.objects.get(vote=vote).choices == ["no"]
    assert not SealedTally.objects.filter(vote=vote).exists()


def test_a_secret_election_counts_candidates_without_ballot_rows(schedule, identities, people, crowd):
    voters = [people["secretary"], people["member"], people["moderator"], *crowd(2)]
    meeting = live_meeting_with(schedule, identities, voters)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="election",
                               title="选举支部委员", secret=True, candidates=[voters[1].pk, voters[2].pk, voters[3].pk],
                               seats=2)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    picks = [["c1", "c2"], ["c1"], ["c1", "c3"], ["c2"], []]
    for user, pick in zip(voters, picks):
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, candidates=pick)
    with pytest.raises(Conflict):
        actions.cast_vote(identity=ident(voters[0]), vote_id=vote.pk, candidates=["c1"])
    # One sealed row for the whole vote, none per ballot.
    assert SealedTally.objects.filter(vote=vote).count() == 1 and not OpenBallot.objects.filter(vote=vote).exists()
    closed = actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert closed.result["counts"] == {"c1": 3, "c2": 2, "c3": 1, "abstain": 1}
    assert closed.result["elected"] == ["c1"]  # c2 has 2 of 5 expected: not more than half


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_clear_counts_of_votes_not_yet_closed(schedule, identities, people, crowd):
    """Votes made now, taken back to clear SecretTally rows (0002 reversed), then sealed again going forward."""
    voters = [people["secretary"], people["member"], people["moderator"], *crowd(2)]
    absent = crowd(1, prefix="away")[0]
    meeting = live_meeting_with(schedule, identities, voters)

    def motion(title: str, picks: list[str], *, close: bool) -> Vote:
        vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                                   title=title, secret=True)
        actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
        for user, pick in zip(voters, picks):
            actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice=pick)
        if close:
            actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
        return vote

    closed = motion("已结束", ["yes", "yes", "no"], close=True)
    running = motion("进行中", ["no", "yes", "no", "abstain"], close=False)
    draft = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                                title="草案", secret=True)
    actions.enter_written_opinion(identity=identities["secretary"], vote_id=draft.pk, user_id=absent.pk,
                                  choice="abstain")
    try:
        call_command("migrate", "meetings", "0001", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute('SELECT vote_id, "key", "count" FROM meetings_secrettally')
            clear = {(v, k): n for v, k, n in cursor.fetchall()}
        assert clear == {(running.pk, "yes"): 1, (running.pk, "no"): 2, (running.pk, "abstain"): 1,
                         (draft.pk, "yes"): 0, (draft.pk, "no"): 0, (draft.pk, "abstain"): 1}
    finally:
        call_command("migrate", verbosity=0)  # every app, should one depend on meetings' later migrations

    assert set(SealedTally.objects.values_list("vote_id", flat=True)) == {running.pk, draft.pk}
    assert {len(bytes(b)) for b in SealedTally.objects.values_list("sealed", flat=True)} == {sealing.sealed_length(3)}
    result = actions.close_vote(identity=identities["secretary"], vote_id=running.pk).result
    assert result["counts"] == {"yes": 1, "no": 2, "abstain": 1}
    assert Vote.objects.get(pk=closed.pk).result["counts"] == {"yes": 2, "no": 1, "abstain": 0}
    actions.open_vote(identity=identities["secretary"], vote_id=draft.pk)
    actions.cast_vote(identity=ident(voters[0]), vote_id=draft.pk, choice="yes")
    result = actions.close_vote(identity=identities["secretary"], vote_id=draft.pk).result
    assert result["counts"] == {"yes": 1, "no": 0, "abstain": 1}
