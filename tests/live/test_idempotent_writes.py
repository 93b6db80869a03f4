"""A write retried with the same client id (`cid`) runs once, over the wire."""

from __future__ import annotations

import asyncio

import pytest

from tests.servers import Client, assert_exact_seqs, db_counts, new_cid

pytestmark = pytest.mark.live


async def test_the_same_cid_twice_and_after_a_reconnect_writes_one_announcement(server):
    stream = f"announcements:{server.b1}"
    title = f"idempotent {new_cid()}"
    cid = new_cid()
    secretary = server.cookie("shuji")
    sub = await Client.open(server.daphne, server.cookie("dangyuan"), label="sub")
    writer = await Client.open(server.daphne, secretary, label="writer")
    try:
        head = (await sub.subscribe(stream))["head"]
        args = {"branch": server.b1, "title": title, "body": "once"}

        first = await writer.call("announcements.post", args, cid=cid)
        assert first.get("replayed") is not True
        assert first["announcement"]["seq"] == head + 1

        second = await writer.call("announcements.post", args, cid=cid)
        assert second["replayed"] is True
        assert second["announcement"] == first["announcement"]

        # A client that lost its socket retries on a new one.
        await writer.close()
        writer = await Client.open(server.daphne, secretary, label="writer-reconnected")
        third = await writer.call("announcements.post", args, cid=cid)
        assert third["replayed"] is True
        assert third["announcement"] == first["announcement"]

        # A different cid is a different write: the stream moves on by exactly one.
        other = await writer.post(server.b1, title + " (other)")
        assert other["announcement"]["seq"] == head + 2

        await sub.wait_seq(stream, head + 2)
        await asyncio.sleep(0.3)
        assert_exact_seqs("subscriber", sub.seqs(stream), [head + 1, head + 2])

        counts = db_counts(server.env, stream, title_prefix=title)
        assert counts["titles"] == [title, title + " (other)"]
        assert counts["head"] == head + 2
    finally:
        await sub.close()
        await writer.close()


async def test_a_cid_belongs_to_one_person_so_another_person_using_it_writes_anew(server):
    writer = await Client.open(server.daphne, server.cookie("shuji"), label="writer")
    try:
        cid = new_cid()
        await writer.call("announcements.post", {"branch": server.b1, "title": "cid reuse", "body": "b"}, cid=cid)
        other = await Client.open(server.daphne, server.cookie("shuji2"), label="other-secretary")
        try:
            data = await other.call(
                "announcements.post", {"branch": server.b2, "title": "same cid, other user", "body": "b"}, cid=cid
            )
            assert data.get("replayed") is not True
            assert data["announcement"]["branch"] == server.b2
        finally:
            await other.close()
    finally:
        await writer.close()


async def test_a_write_without_a_cid_is_refused_and_writes_nothing(server):
    stream = f"announcements:{server.b1}"
    writer = await Client.open(server.daphne, server.cookie("shuji"), label="writer")
    try:
        before = (await writer.subscribe(stream))["head"]
        reply = await writer.request("announcements.post", {"branch": server.b1, "title": "no cid", "body": "b"})
        assert reply["op"] == "error" and reply["code"] == "bad_request"
        assert reply["details"] == {"field": "cid"}
        reply = await writer.request(
            "announcements.post", {"branch": server.b1, "title": "short cid", "body": "b"}, cid="short"
        )
        assert reply["op"] == "error" and reply["code"] == "bad_request"
        # Re-subscribing reads the head from the database again: nothing was appended.
        assert (await writer.subscribe(stream))["head"] == before
        assert stream not in writer.events
    finally:
        await writer.close()
