"""Pipelined and concurrent writes share transactions (realtime/batching.py) without
changing what each write sees: its own reply, in order, its own error, once."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction

from announcements.models import Announcement
from realtime.batching import get_batcher
from realtime.errors import Forbidden
from realtime.models import ClientWrite, Event, Stream
from realtime.ops import OpArgs, register_op

pytestmark = pytest.mark.django_db(transaction=True)


def post(branch, title: str) -> dict:
    return {"branch": branch.pk, "title": title, "body": "正文"}


@database_sync_to_async
def stored() -> tuple[list[str], list[int], int]:
    titles = list(Announcement.objects.order_by("seq").values_list("title", flat=True))
    seqs = list(Event.objects.filter(type="announcement.posted").order_by("seq").values_list("seq", flat=True))
    return titles, seqs, ClientWrite.objects.count()


def handed_ops(socket) -> list[str]:
    """The ops of the frames the server hands this socket from now on, in order."""
    handed: list[str] = []
    put = socket.c.output_queue.put_nowait

    def put_nowait(message):
        if message.get("type") == "websocket.send":
            handed.append(json.loads(message["text"])["op"])
        put(message)

    socket.c.output_queue.put_nowait = put_nowait
    return handed


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
    """Writes have their own connection (the event loop's on SQLite, the writer thread's
    on PostgreSQL): a slow read, snapshot or periodic job on the thread
    database_sync_to_async shares does not hold them up."""
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


async def test_on_sqlite_a_batch_runs_on_the_event_loop(connect, people, tree):
    """No thread hop there and back on SQLite (realtime/batching.py); on PostgreSQL the
    writer thread, whose round trips must not stall the loop."""
    secretary = await connect(people["secretary"])
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    batcher = get_batcher()
    before = batcher.on_loop
    reply = await secretary.call("announcements.post", post(tree["a"], "就地"), cid="onloop-0000001")
    assert reply["op"] == "ok"
    frames = await member.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["data"]["title"] == "就地"
    assert batcher.on_loop - before == (1 if connection.vendor == "sqlite" else 0)


async def test_a_write_lock_held_elsewhere_never_stalls_the_event_loop(connect, people, tree):
    """Another connection holds the lock a write needs (SQLite's write lock, the stream
    head's row on PostgreSQL): the write waits for it off the loop, everyone else's
    frames are answered meanwhile, and the write goes through once the lock is free."""
    secretary = await connect(people["secretary"])
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    await member.call("subscribe", {"stream": stream})
    first = await secretary.call("announcements.post", post(tree["a"], "一"), cid="locked-0000001")
    assert first["data"]["announcement"]["seq"] == 1
    await member.recv_until(lambda f: f.get("seq") == 1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():  # BEGIN IMMEDIATE on SQLite: the write lock
                Stream.objects.select_for_update().get(key=stream)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert await asyncio.get_running_loop().run_in_executor(None, locked.wait, 5)
        ref = await secretary.send("announcements.post", post(tree["a"], "二"), cid="locked-0000002")
        for _ in range(3):
            pong = await member.call("ping", {}, timeout=1)
            assert pong["op"] == "ok", "another socket went unanswered while a write waited for the lock"
        assert await secretary.nothing(0.2), "the write went through while the lock was held"
    finally:
        release.set()
        await asyncio.get_running_loop().run_in_executor(None, holder.join, 10)
    got, _order = await replies(secretary, [ref])
    assert got[ref]["op"] == "ok" and got[ref]["data"]["announcement"]["seq"] == 2
    events = [f for f in await member.recv_until(lambda f: f.get("seq") == 2, timeout=5) if f["op"] == "event"]
    assert [f["seq"] for f in events] == [2]
    titles, seqs, records = await stored()
    assert titles == ["一", "二"] and seqs == [1, 2] and records == 2


class _RefusedArgs(OpArgs):
    branch: int


_refused_runs: list[int] = []


@register_op("test.always_refused", args=_RefusedArgs, writes=True)
def _always_refused(ctx, args):
    _refused_runs.append(args.branch)
    raise Forbidden("never")


async def test_a_refused_write_is_run_once_optimistically_and_once_alone(connect, people, tree):
    """The optimistic pass that failed is not run again (on SQLite it ran on the loop;
    the writer thread goes straight to the careful pass)."""
    secretary = await connect(people["secretary"])
    _refused_runs.clear()
    reply = await secretary.call("test.always_refused", {"branch": tree["a"].pk}, cid="refused-0000001")
    assert reply["op"] == "error" and reply["code"] == "forbidden"
    assert len(_refused_runs) == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the scaled shape's writer thread (PostgreSQL)")
async def test_on_postgresql_the_writer_thread_takes_the_next_batch_without_the_loop():
    """Writes queued while a batch runs are taken by the writer thread as soon as it
    commits, even while the loop is busy (here: blocked outright)."""
    import time

    batcher = get_batcher()
    ran: dict[str, float] = {}

    def write(name: str, pause: float = 0.0):
        def run() -> dict:
            time.sleep(pause)
            ran[name] = time.monotonic()
            return {"name": name}

        return run

    first = asyncio.ensure_future(batcher.run(write("a", 0.3)))
    await asyncio.sleep(0.05)  # "a" is in the writer thread
    later = [asyncio.ensure_future(batcher.run(write(name))) for name in "bc"]
    await asyncio.sleep(0)  # "b" and "c" are queued
    time.sleep(0.8)  # the loop does nothing meanwhile
    unblocked = time.monotonic()
    assert [r["name"] for r in await asyncio.gather(first, *later)] == ["a", "b", "c"]
    assert ran["a"] < ran["b"] < unblocked and ran["c"] < unblocked


async def test_a_writer_gets_its_reply_first_even_when_the_writer_thread_is_slow_to_hand_it_over(
        connect, people, tree, monkeypatch):
    """On PostgreSQL the batch runs in the writer thread. However long that thread takes
    between the commit and handing the outcomes over, the loop does not fan the event
    out before the reply is ready: the batch's doorbells wait for its outcomes (on
    SQLite the batch runs on the loop, and this holds by construction)."""
    import time

    from realtime import batching

    slow = batching.close_old_connections

    def slow_in_the_writer_thread():
        slow()
        if threading.current_thread().name.startswith("branchline-writes"):
            time.sleep(0.05)  # after the commit, before the outcomes go to the loop

    monkeypatch.setattr(batching, "close_old_connections", slow_in_the_writer_thread)
    stream = f"announcements:{tree['a'].pk}"
    secretary = await connect(people["secretary"])
    await secretary.call("subscribe", {"stream": stream})
    handed = handed_ops(secretary)
    for n in range(3):
        handed.clear()
        await secretary.send("announcements.post", post(tree["a"], f"慢{n}"), cid=f"slow-writer-{n:04d}")
        await secretary.recv_until(lambda f: f.get("op") == "event")
        await asyncio.sleep(0.1)
        assert handed == ["ok", "event"]


async def test_a_batch_is_fanned_out_before_its_replies_but_a_writer_gets_its_reply_first(connect, people, tree):
    """Subscribers wait less: a batch's events go out before its writers' replies. On the
    writer's own socket the reply to its write still comes before the event it made."""
    from realtime.hub import get_hub

    stream = f"announcements:{tree['a'].pk}"
    secretary = await connect(people["secretary"])
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": stream})
    hub = await get_hub()
    steps: list[str] = []
    dispatch = hub._dispatch

    async def recording_dispatch(*args):
        steps.append("fan-out")
        await dispatch(*args)

    hub._dispatch = recording_dispatch
    (writer,) = [c for c in hub.connections if c.identity.user_id == people["secretary"].pk]
    reply = writer._reply_to_write

    def recording_reply(*args):
        steps.append("reply")
        reply(*args)

    writer._reply_to_write = recording_reply
    await secretary.send("announcements.post", post(tree["a"], "一"), cid="order-00000001")
    await member.recv_until(lambda f: f.get("op") == "event")
    await secretary.recv_until(lambda f: f.get("op") == "ok")
    assert steps == ["fan-out", "reply"]

    handed = handed_ops(secretary)
    await secretary.call("subscribe", {"stream": stream})
    handed.clear()
    await secretary.send("announcements.post", post(tree["a"], "二"), cid="order-00000002")
    await secretary.recv_until(lambda f: f.get("op") == "event")
    assert handed == ["ok", "event"]
