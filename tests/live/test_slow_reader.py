"""A socket whose reader stops reading is dropped, not buffered for without end; it
resumes with nothing lost, and nobody else notices (realtime/wire.py).

Against a live daphne: the slow reader is a real client that stops reading (its
receive window small, its message queue full), so the server's writes back up
exactly as they would behind a stalled phone.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
import websockets
from websockets.asyncio.client import connect

from tests.servers import Client, assert_exact_seqs, new_cid

pytestmark = pytest.mark.live

LIMIT = 256 * 1024
BODY = "慢" * 6000  # about 18 KB of UTF-8 per event frame
POSTS = 400  # about 7 MB of frames: more than the kernel's buffers and the limit together
WINDOW = 8  # posts in flight at once


@pytest.fixture(scope="module")
def slow_server(embedded_server_factory):
    return embedded_server_factory(
        "daphne-slow-reader", WS_SEND_BUFFER_MAX=LIMIT, WS_RATE_PER_SECOND=10_000, WS_RATE_BURST=10_000
    )


async def _small_window_reader(server, stream: str, since: int | None = None, user: str = "yubei"):
    """A subscribed socket with a 4 KB receive window and a message queue of one: once
    its owner stops calling recv(), it stops reading from the network."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.daphne.port))
    conn = await connect(
        server.daphne.ws_url,
        sock=sock,
        origin=server.daphne.origin,
        additional_headers={"Cookie": server.cookie(user)},
        compression=None,
        max_queue=1,
        max_size=None,
        ping_interval=None,
    )
    args = {"stream": stream} if since is None else {"stream": stream, "since": since}
    await conn.send(json.dumps({"op": "subscribe", "ref": 1, "args": args}))
    while True:
        frame = json.loads(await asyncio.wait_for(conn.recv(), 10))
        if frame.get("ref") == 1:
            assert frame["op"] == "ok", frame
            return conn, frame["data"]["head"]


async def test_a_reader_that_stops_reading_is_dropped_and_resumes_with_nothing_lost(slow_server):
    server = slow_server
    stream = f"announcements:{server.b1}"
    stalled, head = await _small_window_reader(server, stream)
    bystander = await Client.open(server.daphne, server.cookie("dangyuan"), label="bystander")
    await bystander.subscribe(stream)
    writer = await Client.open(server.daphne, server.cookie("shuji"), label="writer")

    # Pipelined, as a busy branch would, WINDOW posts in flight: far faster than the
    # stalled reader reads (it reads nothing), but not so far ahead of the bystander,
    # which shares this process with the writer and one core with the clients, that a
    # reader keeping up would be mistaken for a stalled one (unbounded, the burst let the
    # server queue over the limit for the bystander too on a busy machine).
    replies, in_flight = [], []
    for i in range(POSTS):
        in_flight.append(await writer.send_frame(
            "announcements.post", {"branch": server.b1, "title": f"慢读者 {i}", "body": BODY}, cid=new_cid()
        ))
        if len(in_flight) >= WINDOW:
            replies.append(await asyncio.wait_for(writer.expect(in_flight.pop(0)), 60))
    replies += [await asyncio.wait_for(writer.expect(ref), 60) for ref in in_flight]
    assert all(reply["op"] == "ok" for reply in replies), [r for r in replies if r["op"] != "ok"][:1]
    last = replies[-1]["data"]["announcement"]["seq"]
    expected = list(range(head + 1, last + 1))
    assert len(expected) == POSTS

    # Everyone else was served in full and in order, while the slow one backed up.
    await bystander.wait_seq(stream, last, timeout=60)
    assert_exact_seqs("bystander", bystander.seqs(stream), expected)
    assert "server_time" in await bystander.call("ping")

    # The stalled reader now reads what reached it before the server gave up on it.
    got: list[int] = []
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            frame = json.loads(await asyncio.wait_for(stalled.recv(), 20))
            if frame.get("op") == "event" and frame["stream"] == stream:
                got.append(frame["seq"])
    assert closed.value.rcvd is None, "the server should drop the socket, not close it politely"
    assert got == expected[: len(got)], "what arrived before the drop must be a gapless prefix"
    assert len(got) < POSTS, "the socket was never dropped: the server buffered everything for it"
    # The server let go of it as of a lost connection: its owner left the stream.
    gone = f"u:{server.ids['users']['yubei']}"
    await bystander.wait_for(
        lambda: any(f.get("op") == "presence" and gone in f.get("left", ()) for f in bystander.others),
        timeout=10,
        what=f"{gone} to leave the stream's presence (frames: {[f for f in bystander.others][:5]})",
    )

    # It comes back where it stopped and gets the rest, exactly once and in order, read
    # at its own pace from a backlog far larger than the limit (catch-up waits for it).
    since = got[-1] if got else head
    resumed = await Client.open(server.daphne, server.cookie("dangyuan"), label="resumed")
    await resumed.subscribe(stream, since=since)
    await resumed.wait_seq(stream, last, timeout=60)
    assert_exact_seqs("resumed", resumed.seqs(stream), expected[len(got) :])
    assert resumed.is_open

    # A reader that is slow but keeps reading is never dropped: catching up on the whole
    # backlog, many times the limit, through a small window and a little work per
    # frame, it gets all of it (catch-up waits while it reads).
    slow, _ = await _small_window_reader(server, stream, since=head)
    caught_up: list[int] = []
    while len(caught_up) < len(expected):
        frame = json.loads(await asyncio.wait_for(slow.recv(), 20))
        if frame.get("op") == "event" and frame["stream"] == stream:
            caught_up.append(frame["seq"])
            await asyncio.sleep(0.002)
    assert_exact_seqs("slow but reading", caught_up, expected)
    await slow.close()

    assert server.daphne.log_text().count("dropping a socket that stopped reading") == 1
    for client in (bystander, writer, resumed):
        await client.close()
