"""The optimistic pass of a batch of writes (realtime/batching.py, realtime/sql.py):
no savepoints, held rows and stream heads written in one statement, permission reads
asked once; and whenever it cannot vouch for a write, the careful pass decides."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from announcements.actions import post_announcement
from announcements.models import Announcement
from realtime import events
from realtime.batching import run_batch
from realtime.errors import Forbidden
from realtime.idempotency import run_once
from realtime.models import ClientWrite, Event, Stream

pytestmark = pytest.mark.django_db(transaction=True)


def posting(identity, branch, title: str, cid: str):
    def write() -> dict:
        item = post_announcement(identity=identity, branch_id=branch.pk, title=title, body="正文")
        return {"id": item.pk, "seq": item.seq}

    return lambda: run_once(identity, cid, "announcements.post", write)


def statements(queries, fragment: str) -> list[str]:
    return [q["sql"] for q in queries if fragment in q["sql"]]


def test_good_writes_share_one_head_update_and_one_flush_without_savepoints(identities, tree):
    me = identities["secretary"]
    Stream.objects.create(key=f"announcements:{tree['a'].pk}")  # a first append would create it
    writes = [posting(me, tree["a"], f"第{i}条", f"opt-good-{i:04d}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        outcomes = run_batch(writes)
    assert [ok for ok, _ in outcomes] == [True, True, True]
    assert [value["seq"] for _, value in outcomes] == [1, 2, 3]
    sql = [q["sql"] for q in queries]
    assert not [s for s in sql if "SAVEPOINT" in s.upper()]
    assert len(statements(queries, "last_seq + 1")) == 1, "later appends count on the locked head"
    assert len([s for s in sql if "realtime_event" in s and "INSERT" in s]) == 1, "events are written in one statement"
    assert len(statements(queries, "accounts_membership")) == 1, "the same permission question is asked once"
    assert list(Event.objects.filter(stream_id=f"announcements:{tree['a'].pk}").values_list("seq", flat=True)) == [1, 2, 3]
    assert Stream.objects.get(key=f"announcements:{tree['a'].pk}").last_seq == 3
    assert ClientWrite.objects.count() == 3


def test_two_streams_in_one_batch_each_stay_gapless(identities, tree):
    writes = [
        posting(identities["secretary"], tree["a"], "甲1", "opt-two-0001"),
        posting(identities["other_secretary"], tree["b"], "乙1", "opt-two-0002"),
        posting(identities["secretary"], tree["a"], "甲2", "opt-two-0003"),
        posting(identities["other_secretary"], tree["b"], "乙2", "opt-two-0004"),
    ]
    with CaptureQueriesContext(connection) as queries:
        outcomes = run_batch(writes)
    assert [value["seq"] for _, value in outcomes] == [1, 1, 2, 2]
    assert len(statements(queries, "accounts_membership")) == 2, "one question per person and branch"
    for branch in (tree["a"], tree["b"]):
        key = f"announcements:{branch.pk}"
        assert list(Event.objects.filter(stream_id=key).values_list("seq", flat=True)) == [1, 2]
        assert Stream.objects.get(key=key).last_seq == 2


def test_a_refused_write_is_answered_alone_and_leaves_no_hole(identities, tree):
    outcomes = run_batch(
        [
            posting(identities["secretary"], tree["a"], "一", "opt-ref-0001"),
            posting(identities["secretary"], tree["b"], "别的支部", "opt-ref-0002"),
            posting(identities["secretary"], tree["a"], "二", "opt-ref-0003"),
        ]
    )
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert isinstance(outcomes[1][1], Forbidden)
    assert [outcomes[0][1]["seq"], outcomes[2][1]["seq"]] == [1, 2]
    assert list(Announcement.objects.order_by("seq").values_list("title", flat=True)) == ["一", "二"]
    assert list(Event.objects.values_list("seq", flat=True)) == [1, 2]
    assert sorted(ClientWrite.objects.values_list("client_id", flat=True)) == ["opt-ref-0001", "opt-ref-0003"]


def test_a_replayed_client_id_gets_the_first_result_once_written(identities, tree):
    me = identities["secretary"]
    first = run_batch([posting(me, tree["a"], "只一次", "opt-replay-01")])[0][1]
    outcomes = run_batch([posting(me, tree["a"], "只一次", "opt-replay-01"), posting(me, tree["a"], "新的", "opt-replay-02")])
    assert outcomes[0] == (True, {**first, "replayed": True})
    assert outcomes[1][1]["seq"] == 2
    assert list(Announcement.objects.order_by("seq").values_list("title", flat=True)) == ["只一次", "新的"]
    assert list(Event.objects.values_list("seq", flat=True)) == [1, 2]


def test_a_failure_a_write_swallows_is_never_committed_as_a_success(identities, tree):
    """Without savepoints an inner atomic block that fails marks the whole transaction
    for rollback; the pass notices and lets the careful pass (with savepoints) decide."""
    me = identities["secretary"]
    ClientWrite.objects.create(identity="u:0", client_id="taken-0001", op="x", result={})

    def swallowing() -> dict:
        try:
            with transaction.atomic():
                ClientWrite.objects.create(identity="u:0", client_id="taken-0001", op="x", result={})
        except IntegrityError:
            pass  # get_or_create does the same
        item = post_announcement(identity=me, branch_id=tree["a"].pk, title="照样发布", body="正文")
        return {"seq": item.seq}

    outcomes = run_batch([lambda: run_once(me, "opt-swallow-1", "test.swallow", swallowing)])
    assert outcomes == [(True, {"seq": 1})]
    assert list(Announcement.objects.values_list("title", flat=True)) == ["照样发布"]
    assert list(Event.objects.values_list("seq", flat=True)) == [1]
    assert ClientWrite.objects.filter(client_id="opt-swallow-1").count() == 1


def test_retention_inside_a_batch_sees_the_held_events(identities, tree, settings, monkeypatch):
    monkeypatch.setattr(events, "PRUNE_EVERY", 4)
    settings.BRANCHLINE_REALTIME = {**settings.BRANCHLINE_REALTIME, "RETENTION_EVENTS": 3}
    me = identities["secretary"]
    outcomes = run_batch([posting(me, tree["a"], f"第{i}条", f"opt-prune-{i:04d}") for i in range(8)])
    assert all(ok for ok, _ in outcomes)
    stream = Stream.objects.get(key=f"announcements:{tree['a'].pk}")
    assert (stream.last_seq, stream.trimmed_through) == (8, 5)
    assert list(Event.objects.filter(stream=stream).values_list("seq", flat=True)) == [6, 7, 8]


def test_a_commit_that_fails_fails_its_batch_alone_and_the_next_batch_commits(identities, tree):
    """A foreign key is checked at COMMIT (deferred): on PostgreSQL that COMMIT travels
    with the flush of the held rows, so its failure must roll back like any other."""
    me = identities["secretary"]

    def dangling() -> dict:
        from realtime.sql import insert_row
        from django.utils import timezone

        insert_row(Event, hold=True, stream="no-such:stream", seq=1, type="x", data={}, actor="", created_at=timezone.now())
        return {}

    outcomes = run_batch([lambda: run_once(me, "opt-fk-000001", "test.dangling", dangling)])
    assert outcomes[0][0] is False and isinstance(outcomes[0][1], IntegrityError)
    assert not Event.objects.exists() and not ClientWrite.objects.exists()
    assert run_batch([posting(me, tree["a"], "之后", "opt-fk-000002")])[0] == (True, {"id": Announcement.objects.get().pk, "seq": 1})
    assert list(Event.objects.values_list("seq", flat=True)) == [1]


def test_announcement_ids_come_with_the_head_and_their_rows_with_the_flush(identities, tree):
    """On PostgreSQL a batch's posts do not each wait for an INSERT … RETURNING: their ids
    are drawn by the head's UPDATE and their rows written by the one flush. Ids follow
    the seqs; SQLite, in the process, inserts each row at once."""
    me = identities["secretary"]
    writes = [posting(me, tree["a"], f"第{i}条", f"opt-ids-{i:04d}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        outcomes = run_batch(writes)
    returning = [s for s in statements(queries, "INSERT INTO") if "announcements_announcement" in s and "RETURNING" in s]
    assert len(returning) == (0 if connection.vendor == "postgresql" else 3)
    stored = list(Announcement.objects.order_by("seq").values_list("id", "seq", "title"))
    assert [(value["id"], value["seq"]) for _, value in outcomes] == [(pk, seq) for pk, seq, _ in stored]
    assert [title for _, _, title in stored] == ["第0条", "第1条", "第2条"]
    assert [pk for pk, _, _ in stored] == sorted(pk for pk, _, _ in stored)
    # A later post, alone, takes an id after them all.
    later = run_batch([posting(me, tree["a"], "后来", "opt-ids-9999")])
    assert later[0][1]["id"] > stored[-1][0] and later[0][1]["seq"] == 4


def test_a_read_in_the_batch_sees_the_rows_it_holds(identities, tree):
    """Held rows are written before any statement that names their table: here an unread
    count, in the same optimistic pass as the posts it counts."""
    from announcements.selectors import unread_count

    me, reader = identities["secretary"], identities["member"]
    writes = [
        posting(me, tree["a"], "一", "opt-read-0001"),
        posting(me, tree["a"], "二", "opt-read-0002"),
        lambda: {"unread": unread_count(reader, tree["a"].pk)},
    ]
    with CaptureQueriesContext(connection) as queries:
        outcomes = run_batch(writes)
    assert [ok for ok, _ in outcomes] == [True, True, True]
    assert outcomes[2][1] == {"unread": 2}
    assert not [s for s in (q["sql"] for q in queries) if "SAVEPOINT" in s.upper()], "it stayed in the optimistic pass"


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="heads ride with BEGIN on PostgreSQL")


def declaring(write, stream: str, model=Announcement):
    write.appends = (stream, model)
    return write


@postgres_only
def test_the_heads_a_batch_declared_move_with_its_begin(identities, tree):
    """A lone post: its head's UPDATE and its keys go in the message that opens the
    transaction (with the permission read), so the post takes two round trips."""
    me = identities["secretary"]
    stream = f"announcements:{tree['a'].pk}"
    run_batch([posting(me, tree["a"], "先有", "ride-0000")])  # the head row exists
    with CaptureQueriesContext(connection) as queries:
        outcomes = run_batch([declaring(posting(me, tree["a"], "一", "ride-0001"), stream)])
    assert outcomes[0][0] and outcomes[0][1]["seq"] == 2
    # psycopg reports each message as sent: BEGIN, the head's UPDATE and the permission
    # read in the first (both prepared by the post before: the log adds their texts),
    # the held rows with COMMIT in the second.
    sent = [q["sql"] for q in queries if q["sql"].upper() not in ("BEGIN", "COMMIT")]
    assert len(sent) == 2, sent
    assert sent[0].startswith("BEGIN; EXECUTE bl_"), sent[0]
    assert sent[0].index("UPDATE realtime_stream SET last_seq = last_seq + 1") < sent[0].index("accounts_membership")
    assert not [s for s in sent if 'INSERT INTO "announcements_announcement"' in s and 'RETURNING "id"' in s], "the key came with the head"
    assert "COMMIT" in sent[1].upper()
    assert list(Event.objects.filter(stream_id=stream).values_list("seq", flat=True)) == [1, 2]
    assert Announcement.objects.get(seq=2).pk == outcomes[0][1]["id"]
    assert Stream.objects.get(key=stream).last_seq == 2


@postgres_only
def test_a_head_moved_with_begin_and_not_appended_to_leaves_no_hole(identities, tree):
    me = identities["secretary"]
    stream_a, stream_b = f"announcements:{tree['a'].pk}", f"announcements:{tree['b'].pk}"
    run_batch([posting(identities["other_secretary"], tree["b"], "乙", "ride-1000")])
    run_batch([posting(me, tree["a"], "甲", "ride-1001")])
    outcomes = run_batch(
        [
            declaring(posting(me, tree["a"], "对", "ride-1002"), stream_a),
            declaring(posting(me, tree["a"], "说错了流", "ride-1003"), stream_b),  # appends to a, not b
        ]
    )
    assert [ok for ok, _ in outcomes] == [True, True]
    assert Stream.objects.get(key=stream_b).last_seq == 1, "b's head moved with BEGIN, then rolled back"
    outcomes = run_batch(
        [
            declaring(posting(me, tree["a"], "又对", "ride-1004"), stream_a),
            declaring(posting(me, tree["b"], "无权", "ride-1005"), stream_b),  # refused: not their branch
        ]
    )
    assert [ok for ok, _ in outcomes] == [True, False]
    assert isinstance(outcomes[1][1], Forbidden)
    assert list(Event.objects.filter(stream_id=stream_a).values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert list(Event.objects.filter(stream_id=stream_b).values_list("seq", flat=True)) == [1]
    assert Stream.objects.get(key=stream_b).last_seq == 1
    later = run_batch([declaring(posting(identities["other_secretary"], tree["b"], "乙2", "ride-1006"), stream_b)])
    assert later[0][1]["seq"] == 2


@postgres_only
def test_a_head_is_moved_once_when_its_update_is_the_first_statement(tree):
    """Nothing went out before the append: the ride is dropped and the head moved by the
    append itself, once."""
    stream = f"announcements:{tree['a'].pk}"
    Stream.objects.create(key=stream, last_seq=5)

    def append_only() -> dict:
        return {"seq": events.append_event(stream, "test.noted", {}).seq}

    outcomes = run_batch([declaring(append_only, stream, None)])
    assert outcomes == [(True, {"seq": 6})]
    assert Stream.objects.get(key=stream).last_seq == 6


@postgres_only
def test_rides_never_go_out_with_a_later_transaction(identities, tree):
    stream = f"announcements:{tree['a'].pk}"
    Stream.objects.create(key=stream, last_seq=3)

    def fails_at_once() -> dict:
        raise RuntimeError("before any statement")

    outcomes = run_batch([declaring(fails_at_once, stream)])
    assert not outcomes[0][0]
    with transaction.atomic():
        assert ClientWrite.objects.count() == 0  # a transaction's first statement
    assert Stream.objects.get(key=stream).last_seq == 3
