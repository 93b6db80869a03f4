"""Eight writers at once on one stream: every subscriber sees one gapless, ordered log."""

from __future__ import annotations

import asyncio

import pytest

from tests.servers import Client, assert_exact_seqs, db_counts

pytestmark = pytest.mark.live

WRITERS = 8
PER_WRITER = 200
IN_FLIGHT = 8  # frames a writer keeps unanswered, so the server always has work queued


@pytest.fixture(scope="module")
def busy_server(embedded_server_factory):
    """A daphne whose per-connection rate limit is out of the way (see the test's docstring)."""
    return embedded_server_factory("daphne-busy", WS_RATE_PER_SECOND=1000, WS_RATE_BURST=1000)


async def _write(client: Client, branch_id: int, n: int, writer_no: int, acked: list[int]) -> list[dict]:
    replies: list[dict] = []
    pending: set[asyncio.Future] = set()
    for i in range(n):
        ref = client.ref()
        fut = client.expect(ref)
        await client.send_frame(
            "announcements.post",
            {"branch": branch_id, "title": f"w{writer_no}-{i}", "body": f"writer {writer_no} event {i}"},
            cid=f"fanout-w{writer_no}-{i:04d}",
            ref=ref,
        )
        pending.add(fut)
        if len(pending) >= IN_FLIGHT:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED, timeout=60)
            assert done, f"writer {writer_no}: no reply within 60 s"
            for d in done:
                replies.append(d.result())
                acked[0] += 1
    if pending:
        done, still = await asyncio.wait(pending, timeout=60)
        assert not still, f"writer {writer_no}: {len(still)} replies missing"
        for d in done:
            replies.append(d.result())
            acked[0] += 1
    return replies


async def test_eight_writers_two_hundred_each_every_subscriber_sees_every_seq_once_in_order(busy_server):
    """8 secretary sockets post 200 announcements each to one stream, concurrently.

    daphne runs with WS_RATE_PER_SECOND=1000 WS_RATE_BURST=1000 so the writers are not
    paced by the per-connection limit (20/s, burst 60): this test is about ordering and
    completeness under concurrent writes, the limit has its own test in test_bad_input.
    Subscribers: one from seq 0 before the writes, one from the head before the writes
    (no since: snapshot, then live), one that joins mid-way with since=0.
    """
    server = busy_server
    stream = f"announcements:{server.b1}"
    member, secretary, moderator = server.cookie("dangyuan"), server.cookie("shuji"), server.cookie("banzhu")

    early = await Client.open(server.daphne, member, label="early")
    live_only = await Client.open(server.daphne, moderator, label="live-only")
    writers = [await Client.open(server.daphne, secretary, label=f"w{i}") for i in range(WRITERS)]
    late: Client | None = None
    try:
        head = (await early.subscribe(stream, since=0))["head"]
        live_reply = await live_only.subscribe(stream)
        assert live_reply["seq"] == head and "snapshot" in live_reply
        total = head + WRITERS * PER_WRITER

        acked = [0]
        tasks = [asyncio.create_task(_write(w, server.b1, PER_WRITER, i, acked)) for i, w in enumerate(writers)]
        # The latecomer subscribes from 0 while the writers are half done.
        await early.wait_for(lambda: acked[0] >= WRITERS * PER_WRITER // 2, 120, "half of the writes")
        late = await Client.open(server.daphne, member, label="late")
        late_reply = await late.subscribe(stream, since=0)
        assert head + WRITERS * PER_WRITER // 2 <= late_reply["head"] < total

        results = await asyncio.gather(*tasks)
        seqs_from_replies = []
        for writer_no, replies in enumerate(results):
            assert len(replies) == PER_WRITER
            errors = [r for r in replies if r["op"] != "ok"]
            assert not errors, f"writer {writer_no} got errors: {errors[:3]}"
            assert not any(r["data"].get("replayed") for r in replies)
            seqs_from_replies += [r["data"]["announcement"]["seq"] for r in replies]
            # One writer's own posts land in the order it sent them.
            own = sorted(replies, key=lambda r: r["data"]["announcement"]["seq"])
            assert [r["data"]["announcement"]["title"] for r in own] == [f"w{writer_no}-{i}" for i in range(PER_WRITER)]
        assert sorted(seqs_from_replies) == list(range(head + 1, total + 1))

        for client in (early, live_only, late):
            await client.wait_seq(stream, total, timeout=60)
        await asyncio.sleep(0.5)  # room for a duplicate or a straggler

        assert_exact_seqs("early (since=0)", early.seqs(stream), list(range(1, total + 1)))
        assert_exact_seqs("live-only (no since)", live_only.seqs(stream), list(range(head + 1, total + 1)))
        assert_exact_seqs("late (since=0, mid-way)", late.seqs(stream), list(range(1, total + 1)))
        # Everyone saw the same frames, byte for byte in content, for the seqs they share.
        assert early.events[stream] == late.events[stream]
        assert early.events[stream][head:] == live_only.events[stream]

        counts = db_counts(server.env, stream, title_prefix="w")
        assert counts["head"] == total
        assert counts["event_seqs"] == list(range(1, total + 1))
        assert counts["announcements"] == WRITERS * PER_WRITER
    finally:
        for client in (early, live_only, late, *writers):
            if client is not None:
                await client.close()
