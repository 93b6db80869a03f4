"""Two daphne processes, one PostgreSQL, one Redis: events cross processes in order.

The pair runs with WS_HEAD_CHECK_SECONDS=3600, so the periodic head check cannot
paper over a broken doorbell: an event reaches the other process's sockets only
through Redis pub/sub (plus a gap fill that a later doorbell triggers).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.servers import Client, assert_exact_seqs, db_counts, new_cid

pytestmark = pytest.mark.scaled


@pytest.fixture
def pair(doorbell_pair):
    return doorbell_pair


async def test_events_written_through_either_daphne_reach_subscribers_on_both_in_order(pair):
    one, two = pair.both
    stream = f"announcements:{one.b1}"
    sub1 = await Client.open(one.daphne, one.cookie("dangyuan"), label="sub@1")
    sub2 = await Client.open(two.daphne, two.cookie("dangyuan"), label="sub@2")
    w1 = await Client.open(one.daphne, one.cookie("shuji"), label="writer@1")
    w2 = await Client.open(two.daphne, two.cookie("shuji"), label="writer@2")
    try:
        head = (await sub1.subscribe(stream, since=0))["head"]
        assert (await sub2.subscribe(stream, since=0))["head"] == head

        # One direction at a time first: 2 -> 1, then 1 -> 2.
        await w2.post(one.b1, "written on daphne 2")
        await sub1.wait_seq(stream, head + 1, timeout=10)
        await w1.post(one.b1, "written on daphne 1")
        await sub2.wait_seq(stream, head + 2, timeout=10)

        # Then both at once, interleaving in the log.
        async def burst(client: Client, tag: str) -> None:
            for i in range(25):
                await client.post(one.b1, f"{tag}-{i}")

        await asyncio.gather(burst(w1, "via1"), burst(w2, "via2"))
        total = head + 2 + 50
        for sub in (sub1, sub2):
            await sub.wait_seq(stream, total, timeout=15)
        await asyncio.sleep(0.3)
        for sub in (sub1, sub2):
            assert_exact_seqs(sub.label, sub.seqs(stream), list(range(1, total + 1)))
        assert sub1.events[stream] == sub2.events[stream], "both processes must send identical frames"
        # Each writer's posts keep their order within the one log.
        titles = [e["data"]["title"] for e in sub1.events[stream][head + 2 :]]
        for tag in ("via1", "via2"):
            assert [t for t in titles if t.startswith(tag)] == [f"{tag}-{i}" for i in range(25)]
    finally:
        for client in (sub1, sub2, w1, w2):
            await client.close()


async def test_an_idle_socket_stays_connected_and_still_gets_live_events_after_15_seconds(pair):
    """The redis-py 5 s socket-timeout trap: an idle pub/sub connection must survive."""
    one, two = pair.both
    stream = f"announcements:{one.b1}"
    # No client pings either: the socket and both processes' Redis links sit idle.
    sub1 = await Client.open(one.daphne, one.cookie("dangyuan"), label="idle@1", ping_interval=None)
    sub2 = await Client.open(two.daphne, two.cookie("dangyuan"), label="idle@2", ping_interval=None)
    try:
        head = (await sub1.subscribe(stream))["head"]
        await sub2.subscribe(stream)
        await asyncio.sleep(15)
        assert sub1.is_open and sub2.is_open, (sub1.close_code, sub2.close_code)

        w2 = await Client.open(two.daphne, two.cookie("shuji"), label="writer@2")
        w1 = await Client.open(one.daphne, one.cookie("shuji"), label="writer@1")
        try:
            await w2.post(one.b1, "after a quiet 15 s, via 2")
            await sub1.wait_seq(stream, head + 1, timeout=10)
            await w1.post(one.b1, "after a quiet 15 s, via 1")
            await sub2.wait_seq(stream, head + 2, timeout=10)
        finally:
            await w1.close()
            await w2.close()
        for sub in (sub1, sub2):
            await sub.wait_seq(stream, head + 2, timeout=10)
            assert_exact_seqs(sub.label, sub.seqs(stream), [head + 1, head + 2])
        for server in (one, two):
            status, body = server.daphne.healthz()
            assert status == 200, body
    finally:
        await sub1.close()
        await sub2.close()


async def test_the_same_cid_sent_through_both_daphnes_at_once_writes_once(pair):
    one, two = pair.both
    stream = f"announcements:{one.b1}"
    sub = await Client.open(one.daphne, one.cookie("dangyuan"), label="sub@1")
    w1 = await Client.open(one.daphne, one.cookie("shuji"), label="writer@1")
    w2 = await Client.open(two.daphne, two.cookie("shuji"), label="writer@2")
    rounds = 10
    try:
        head = (await sub.subscribe(stream))["head"]
        prefix = f"race {new_cid()}"
        for i in range(rounds):
            cid = new_cid()
            args = {"branch": one.b1, "title": f"{prefix} {i}", "body": "raced"}
            a, b = await asyncio.gather(
                w1.call("announcements.post", args, cid=cid), w2.call("announcements.post", args, cid=cid)
            )
            assert a["announcement"] == b["announcement"], (a, b)
            assert sorted([bool(a.get("replayed")), bool(b.get("replayed"))]) == [False, True], (a, b)
            assert a["announcement"]["seq"] == head + i + 1
        await sub.wait_seq(stream, head + rounds, timeout=10)
        await asyncio.sleep(0.3)
        assert_exact_seqs("subscriber", sub.seqs(stream), list(range(head + 1, head + rounds + 1)))
        counts = db_counts(one.env, stream, title_prefix=prefix)
        assert counts["announcements"] == rounds
        assert counts["head"] == head + rounds
    finally:
        for client in (sub, w1, w2):
            await client.close()


def _publishes(redis) -> int:
    stats = redis.command("INFO", "commandstats")
    return int((stats.get("cmdstat_publish") or {}).get("calls", 0))


async def test_a_pipelined_burst_crosses_in_bundles_complete_and_in_order(pair):
    """Writes pipelined on one socket commit in shared batches; each batch's events
    cross Redis in one message (realtime/events.py), which the other hub unpacks."""
    one, two = pair.both
    stream = f"announcements:{one.b1}"
    sub2 = await Client.open(two.daphne, two.cookie("dangyuan"), label="sub@2")
    w1 = await Client.open(one.daphne, one.cookie("shuji"), label="writer@1")
    burst = 60
    try:
        head = (await sub2.subscribe(stream))["head"]
        await asyncio.sleep(1.5)  # the subscribe's presence flush goes out before we count
        before = _publishes(pair.redis)
        replies = await asyncio.gather(*(w1.post(one.b1, f"bundled-{i}") for i in range(burst)))
        assert sorted(r["announcement"]["seq"] for r in replies) == list(range(head + 1, head + burst + 1))
        # The last events are in the last bundle: with the head check off, only that
        # message can bring them to the other process.
        await sub2.wait_seq(stream, head + burst, timeout=10)
        published = _publishes(pair.redis) - before
        await asyncio.sleep(0.3)
        assert_exact_seqs("subscriber", sub2.seqs(stream), list(range(head + 1, head + burst + 1)))
        assert [e["data"]["title"] for e in sub2.events[stream]] == [f"bundled-{i}" for i in range(burst)]
        assert published < burst, f"{published} publishes for {burst} events: the batches' events were not bundled"
    finally:
        for client in (sub2, w1):
            await client.close()
