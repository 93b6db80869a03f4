"""Pipelined and concurrent writes share transactions (realtime/batching.py) without
changing what each write sees: its own reply, in order, its own error, once."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from announcements.models import Announcement
from realtime.batching import get_batcher
from realtime.models import ClientWrite, Event

pytestmark = pytest.mark.django_db(transaction=True)


def post(branch, title: str) -> dict:
    return {"branch": branch.pk, "title": title, "body": "正文"}


@database_sync_to_async
def stored() -> tuple[list[str], list[int], int]:
    titles = list(Announcement.objects.order_by("seq").values_list("title", flat=True))
    seqs = list(Event.objects.filter(type="announcement.posted").order_by("seq").values_list("seq", flat=True))
    return titles, seqs, ClientWrite.objects.count()


async def replies(socket, refs: list) -> dict:
    """Read until every ref has its reply; returns ref -> frame, and checks their order."""
    got: dict = {}
    order = []
    while len(got) < len(refs):
        frame = await socket.recv(timeout=10)
        if frame.get("ref") in refs and frame["op"] in ("ok", "error"):
            got[frame["ref"]] = frame
            order.append(frame["ref"])
    return got, order


async def test_pipelined_writes_are_grouped_and_answered_in_order(connect, people, tree):
    secretary = await connect(people["secretary"])
    await secretary.call("hello", {})
    batcher = get_batcher()
    before = (batcher.batches, batcher.writes)
    refs = [await secretary.send("announcements.post", post(tree["a"], f"第{i}条"), cid=f"pipe-{i:08d}") for i in range(30)]
    got, order = await replies(secretary, refs)
    assert order == refs
    assert [got[r]["data"]["announcement"]["seq"] for r in refs] == list(range(1, 31))
    titles, seqs, records = await stored()
    assert titles == [f"第{i}条" for i in range(30)]
    assert seqs == list(range(1, 31))
    assert records == 30
    batches, writes = batcher.batches - before[0], batcher.writes - before[1]
    assert writes == 30
    assert batches < writes, "pipelined writes should have shared transactions"


async def test_a_refused_write_in_a_batch_fails_alone(connect, people, tree):
    secretary = await connect(people["secretary"])
    await secretary.call("hello", {})
    refs = [
        await secretary.send("announcements.post", post(tree["a"], "一"), cid="mixed-00000001"),
        await secretary.send("announcements.post", post(tree["a"], "   "), cid="mixed-00000002"),  # no title
        await secretary.send("announcements.post", post(tree["b"], "别的支部"), cid="mixed-00000003"),  # not theirs
        await secretary.send("announcements.post", post(tree["a"], "二"), cid="mixed-00000004"),
    ]
    got, order = await replies(secretary, refs)
    assert order == refs
    assert [got[r]["op"] for r in refs] == ["ok", "error", "error", "ok"]
    assert got[refs[1]]["code"] == "bad_request"
    assert got[refs[2]]["code"] == "forbidden"
    assert [got[r]["data"]["announcement"]["seq"] for r in (refs[0], refs[3])] == [1, 2]
    titles, seqs, records = await stored()
    assert titles == ["一", "二"]
    assert seqs == [1, 2]  # the refused writes left no event and no hole
    assert records == 2


async def test_a_retry_inside_the_same_batch_runs_once(connect, people, tree):
    secretary = await connect(people["secretary"])
    await secretary.call("hello", {})
    refs = [await secretary.send("announcements.post", post(tree["a"], "只一次"), cid="twice-00000001") for _ in range(3)]
    got, _order = await replies(secretary, refs)
    first = got[refs[0]]["data"]
    assert "replayed" not in first
    for ref in refs[1:]:
        assert got[ref]["data"]["replayed"] is True
        assert got[ref]["data"]["announcement"] == first["announcement"]
    titles, seqs, records = await stored()
    assert titles == ["只一次"] and seqs == [1] and records == 1


async def test_writers_on_many_connections_share_batches_and_lose_nothing(connect, people, tree):
    sockets = [await connect(people["secretary"]) for _ in range(6)]
    reader = await connect(people["member"])
    await reader.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})

    async def write_all(n: int, socket) -> None:
        refs = [await socket.send("announcements.post", post(tree["a"], f"{n}-{i}"), cid=f"many-{n}-{i:06d}") for i in range(10)]
        got, order = await replies(socket, refs)
        assert order == refs and all(got[r]["op"] == "ok" for r in refs)

    await asyncio.gather(*(write_all(n, s) for n, s in enumerate(sockets)))
    seen = []
    while len(seen) < 60:
        frame = await reader.recv(timeout=10)
        if frame["op"] == "event":
            seen.append(frame["seq"])
    assert seen == list(range(1, 61))
    _titles, seqs, records = await stored()
    assert seqs == list(range(1, 61)) and records == 60


async def test_a_read_after_pipelined_writes_sees_them(connect, people, tree):
    secretary = await connect(people["secretary"])
    await secretary.call("hello", {})
    stream = f"announcements:{tree['a'].pk}"
    for i in range(5):
        await secretary.send("announcements.post", post(tree["a"], f"先写{i}"), cid=f"rw-{i:08d}")
    ref = await secretary.send("subscribe", {"stream": stream, "since": 0})
    frames = await secretary.recv_until(lambda f: f.get("ref") == ref and f["op"] in ("ok", "error"), timeout=10)
    assert [f["op"] for f in frames] == ["ok"] * 6, "every write is answered before the read that follows it"
    assert frames[-1]["data"]["head"] == 5
    seen = [f["seq"] for f in await secretary.recv_until(lambda f: f.get("seq") == 5, timeout=5)]
    assert seen == [1, 2, 3, 4, 5]


async def test_a_write_does_not_wait_behind_other_database_work(connect, people, tree):
    """Writes have their own thread and connection: a slow read, snapshot or periodic job
    on the thread database_sync_to_async shares does not hold them up."""
    secretary = await connect(people["secretary"])
    await secretary.call("hello", {})
    released = asyncio.Event()

    def slow_read() -> None:
        Announcement.objects.count()
        import time

        time.sleep(2)

    busy = asyncio.ensure_future(database_sync_to_async(slow_read)())
    busy.add_done_callback(lambda _: released.set())
    await asyncio.sleep(0.1)  # the shared thread is now inside slow_read
    reply = await secretary.call("announcements.post", post(tree["a"], "不等"), cid="beside-0000001", timeout=1.5)
    assert reply["op"] == "ok"
    assert not released.is_set(), "the write was answered only after the other database work"
    await busy
    titles, seqs, _ = await stored()
    assert titles == ["不等"] and seqs == [1]
