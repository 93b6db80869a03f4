"""A subscriber that loses its server comes back with `since` and misses nothing."""

from __future__ import annotations

import asyncio

import pytest

from tests.servers import Client, assert_exact_seqs, post_via_shell

pytestmark = pytest.mark.live


async def test_it_resumes_exactly_the_missed_seqs_after_a_daphne_restart(server, ensure_running):
    stream = f"announcements:{server.b1}"
    member, secretary = server.cookie("dangyuan"), server.cookie("shuji")

    sub = await Client.open(server.daphne, member, label="sub")
    writer = await Client.open(server.daphne, secretary, label="writer")
    try:
        reply = await sub.subscribe(stream, since=0)
        head = reply["head"]
        assert head >= 2, "seed_demo posts two announcements to 第一党支部"
        # Two live events before the outage, so `last` is something the client saw live.
        for i in range(2):
            await writer.post(server.b1, f"before restart {i}")
        await sub.wait_seq(stream, head + 2)
        assert_exact_seqs("before restart", sub.seqs(stream), list(range(1, head + 3)))
        last = sub.seqs(stream)[-1]
        await writer.close()

        server.daphne.stop()
        await sub.wait_for(lambda: not sub.is_open, 10, "the socket to close when daphne stops")

        # Written while no daphne runs: only the log knows about these.
        down = post_via_shell(server.env, server.b1, [f"while down {i}" for i in range(3)])
        assert down == [last + 1, last + 2, last + 3]

        server.daphne.start()
        # Written after the restart by someone else, before the subscriber is back.
        writer = await Client.open(server.daphne, secretary, label="writer2")
        for i in range(2):
            await writer.post(server.b1, f"after restart {i}")

        sub2 = await Client.open(server.daphne, member, label="sub-resumed")
        try:
            reply = await sub2.subscribe(stream, since=last)
            assert reply["head"] == last + 5
            assert "snapshot" not in reply, "a resume with since gets events, not a snapshot"
            await sub2.wait_seq(stream, last + 5)
            # Then a live one.
            await writer.post(server.b1, "live after resume")
            await sub2.wait_seq(stream, last + 6)
            await asyncio.sleep(0.5)  # room for a duplicate to show up
            assert_exact_seqs("resumed", sub2.seqs(stream), list(range(last + 1, last + 7)))
            titles = [e["data"]["title"] for e in sub2.events[stream]]
            assert titles == [
                "while down 0",
                "while down 1",
                "while down 2",
                "after restart 0",
                "after restart 1",
                "live after resume",
            ]
            # Frames from the log and live frames have the same shape.
            for event in sub2.events[stream]:
                assert set(event) == {"op", "stream", "seq", "type", "data", "at"}
                assert event["type"] == "announcement.posted"
        finally:
            await sub2.close()
    finally:
        await sub.close()
        await writer.close()


async def test_a_resume_from_the_head_sends_nothing_old(server):
    stream = f"announcements:{server.b1}"
    sub = await Client.open(server.daphne, server.cookie("dangyuan"), label="sub")
    writer = await Client.open(server.daphne, server.cookie("shuji"), label="writer")
    try:
        head = (await sub.subscribe(stream))["head"]
        await sub.close()
        sub = await Client.open(server.daphne, server.cookie("dangyuan"), label="sub-again")
        assert (await sub.subscribe(stream, since=head))["head"] == head
        await writer.post(server.b1, "one after the head")
        await sub.wait_seq(stream, head + 1)
        await asyncio.sleep(0.3)
        assert_exact_seqs("from head", sub.seqs(stream), [head + 1])
    finally:
        await sub.close()
        await writer.close()
