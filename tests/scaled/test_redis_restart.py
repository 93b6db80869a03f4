"""Redis dies mid-session and comes back: the database log makes sure nothing is lost.

The pair runs with WS_HEAD_CHECK_SECONDS=2, so each process notices events whose
doorbell never rang (Redis was down) within about two seconds.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.live.test_metrics import scrape
from tests.realtime.test_metrics import value
from tests.servers import Client, assert_exact_seqs, db_counts, health_becomes

pytestmark = pytest.mark.scaled


@pytest.fixture(scope="module")
def pair(pair_factory):
    return pair_factory(WS_HEAD_CHECK_SECONDS=2)


async def _subscribers(pair, stream: str, numsub: int, timeout: float) -> None:
    channel = pair.group_channel(stream)
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = pair.redis.command("PUBSUB", "NUMSUB", channel)[1]
            if seen == numsub:
                return
        except Exception as exc:  # Redis still starting
            seen = exc
        await asyncio.sleep(0.2)
    raise AssertionError(f"{channel}: {seen!r} subscribers in Redis, expected {numsub}")


async def test_a_redis_restart_loses_nothing_for_clients_on_either_daphne(pair):
    one, two = pair.both
    stream = f"announcements:{one.b1}"
    sub1 = await Client.open(one.daphne, one.cookie("dangyuan"), label="sub@1")
    sub2 = await Client.open(two.daphne, two.cookie("dangyuan"), label="sub@2")
    w1 = await Client.open(one.daphne, one.cookie("shuji"), label="writer@1")
    w2 = await Client.open(two.daphne, two.cookie("shuji"), label="writer@2")
    subs = (sub1, sub2)
    try:
        head = (await sub1.subscribe(stream, since=0))["head"]
        await sub2.subscribe(stream, since=0)
        await _subscribers(pair, stream, 2, timeout=5)

        # Before: both directions work.
        for i in range(3):
            await w1.post(one.b1, f"before {i} via 1")
            await w2.post(one.b1, f"before {i} via 2")
        seq = head + 6
        for sub in subs:
            await sub.wait_seq(stream, seq, timeout=10)

        failed_before = [value(scrape(server.daphne), "branchline_doorbells_failed_total") for server in (one, two)]
        pair.redis.kill()
        for server in (one, two):
            body = await health_becomes(server.daphne, 503, timeout=15)
            assert body["database"]["ok"] is True and body["channel_layer"]["ok"] is False, body

        # While Redis is down: writes still succeed (the database is the source of
        # truth), and the head check delivers them from the log.
        for i in range(4):
            started = time.monotonic()
            assert (await w1.post(one.b1, f"down {i} via 1"))["announcement"]["seq"] == seq + 1
            assert (await w2.post(one.b1, f"down {i} via 2"))["announcement"]["seq"] == seq + 2
            seq += 2
            assert time.monotonic() - started < 10, "a write must not hang on the dead channel layer"
        for sub in subs:
            await sub.wait_seq(stream, seq, timeout=15)
            assert sub.is_open
        # Each process counted the doorbells it could not ring (/metrics).
        for server, before in zip((one, two), failed_before):
            assert value(scrape(server.daphne), "branchline_doorbells_failed_total") >= before + 4
        # Stay down a while longer: the layer's reconnect attempts keep failing, and
        # the sockets must ride it out.
        await asyncio.sleep(3)
        assert (await w2.post(one.b1, "down, late, via 2"))["announcement"]["seq"] == seq + 1
        seq += 1
        for sub in subs:
            await sub.wait_seq(stream, seq, timeout=15)
            assert sub.is_open

        pair.redis.start()
        for server in (one, two):
            await health_becomes(server.daphne, 200, timeout=30)
        # The doorbell is back: both processes subscribed to the stream's group again.
        await _subscribers(pair, stream, 2, timeout=15)

        for i in range(3):
            await w1.post(one.b1, f"after {i} via 1")
            await w2.post(one.b1, f"after {i} via 2")
        seq += 6
        for sub in subs:
            await sub.wait_seq(stream, seq, timeout=15)
        await asyncio.sleep(0.5)

        expected = list(range(1, seq + 1))
        for sub in subs:
            assert_exact_seqs(sub.label, sub.seqs(stream), expected)
        assert sub1.events[stream] == sub2.events[stream]
        counts = db_counts(one.env, stream)
        assert counts["head"] == seq and counts["event_seqs"] == expected
    finally:
        for client in (sub1, sub2, w1, w2):
            await client.close()
