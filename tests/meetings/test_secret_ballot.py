"""Secret ballots: nothing stored or logged lets anyone (a database admin included) link a voter to a choice.

The test casts distinct choices, then reads every row of every table (raw SQL, as an
admin would), the event log, the audit log, the client-write records and the log
output, and checks that no row holds both a voter and a choice of the secret vote.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.db import connection

from meetings import actions
from meetings.models import OpenBallot, SecretTally, VoteParticipation
from moderation.models import AuditEntry
from realtime.models import ClientWrite, Event
from realtime.testing import capture_events

from .conftest import T0, ident

pytestmark = pytest.mark.django_db

# A row naming some but not all of a motion's options says which one somebody chose; a
# row naming all of them is an option list or an aggregate.
CHOICE_SETS = (("yes", "no", "abstain"), ("赞成", "反对", "弃权"))


@pytest.fixture
def secret_vote(schedule, identities, people, crowd):
    voters = [people["secretary"], people["member"], people["moderator"], *crowd(4)]
    absent = crowd(1, prefix="away")[0]
    meeting = schedule("general")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in voters:
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=T0)
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

    # The tables themselves: a participation has no choice and no time; a tally has no user and no time.
    with connection.cursor() as cursor:
        participation = {c.name for c in connection.introspection.get_table_description(
            cursor, VoteParticipation._meta.db_table)}
        tally = {c.name for c in connection.introspection.get_table_description(cursor, SecretTally._meta.db_table)}
    assert participation == {"id", "vote_id", "user_id", "via"}
    assert tally == {"id", "vote_id", "key", "count"}
    # No per-ballot rows to line up with participations: one aggregated row per option, random keys.
    rows = list(SecretTally.objects.filter(vote=vote))
    assert len(rows) == 3 and all(isinstance(r.id, uuid.UUID) and r.id.version == 4 for r in rows)
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


def test_every_tally_row_is_rewritten_by_each_ballot(secret_vote):
    """So even which rows a ballot's transaction touched does not tell its choice."""
    meeting, vote, voters, absent, choices = secret_vote
    if connection.vendor == "postgresql":
        actions.cast_vote(identity=ident(voters[0]), vote_id=vote.pk, choice="yes")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT xmin::text FROM {SecretTally._meta.db_table} WHERE vote_id = %s",
                           [vote.pk])
            assert len(cursor.fetchall()) == 1
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT key, count FROM {SecretTally._meta.db_table} WHERE vote_id = %s", [vote.pk])
            before = dict(cursor.fetchall())
        statements = []

        def spy(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(spy):
            actions.cast_vote(identity=ident(voters[0]), vote_id=vote.pk, choice="yes")
        updates = [s for s in statements if s.startswith(f'UPDATE "{SecretTally._meta.db_table}"')]
        assert len(updates) == 1 and "WHERE" in updates[0] and '"key" IN' not in updates[0].split("WHERE")[1]
        assert dict(SecretTally.objects.filter(vote=vote).values_list("key", "count")) == {**before, "yes": 1}


def test_an_open_vote_records_who_chose_what(schedule, identities, people):
    meeting = schedule("general")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in (people["secretary"], people["member"]):
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=T0)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion", title="举手表决",
                               secret=False)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    actions.cast_vote(identity=identities["member"], vote_id=vote.pk, choice="no")
    assert OpenBallot.objects.get(vote=vote).choices == ["no"]
    assert not SecretTally.objects.filter(vote=vote).exists()


def test_a_secret_election_counts_candidates_without_ballot_rows(schedule, identities, people, crowd):
    voters = [people["secretary"], people["member"], people["moderator"], *crowd(2)]
    meeting = schedule("general")
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in voters:
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=T0)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="election",
                               title="选举支部委员", secret=True, candidates=[voters[1].pk, voters[2].pk, voters[3].pk],
                               seats=2)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    picks = [["c1", "c2"], ["c1"], ["c1", "c3"], ["c2"], []]
    for user, pick in zip(voters, picks):
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, candidates=pick)
    with pytest.raises(Exception):
        actions.cast_vote(identity=ident(voters[0]), vote_id=vote.pk, candidates=["c1"])
    closed = actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert closed.result["counts"] == {"c1": 3, "c2": 2, "c3": 1, "abstain": 1}
    assert closed.result["elected"] == ["c1"]  # c2 has 2 of 5 expected: not more than half
    assert SecretTally.objects.filter(vote=vote).count() == 4
