"""A real daphne drops a meeting participant whose client stopped answering pings, and the
stay ends at the participant's last sign of life, not when the drop was noticed.

The silent client is a raw socket: it completes the WebSocket handshake, sends its
frames, then never reads again, so it never answers daphne's pings (a phone that lost
its network looks like this to the server).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import subprocess
import time

import pytest

from tests.servers import DAPHNE, REPO, STARTED, Client, Daphne, ServerHandle, new_cid

pytestmark = pytest.mark.live

PING_INTERVAL, PING_TIMEOUT = 1, 2


class PingingDaphne(Daphne):
    """daphne with short ping settings (the production ones are 20 s and 30 s)."""

    def start(self, timeout: float = 30, *, healthy: bool = True) -> None:
        self.starts += 1
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "--ping-interval", str(PING_INTERVAL),
                 "--ping-timeout", str(PING_TIMEOUT), "server.asgi:application"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self.wait_healthy(timeout, any_status=not healthy)


def frame(payload: dict) -> bytes:
    data = json.dumps(payload).encode()
    mask = os.urandom(4)
    header = bytes([0x81]) + (bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) +
                              struct.pack("!H", len(data)))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def silent_client(server: Daphne, cookie: str, frames: list[dict]):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Origin: {server.origin}\r\nCookie: {cookie}\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status
    for payload in frames:
        writer.write(frame(payload))
    await writer.drain()
    return reader, writer  # and never read again


async def test_a_silent_participant_is_dropped_and_their_stay_ends_at_their_last_frame(sqlite_template, tmp_path):
    import shutil

    from tests.servers import server_env

    template, ids = sqlite_template
    db = tmp_path / "heartbeat.sqlite3"
    shutil.copyfile(template, db)
    env = server_env(SQLITE_PATH=db, WS_HEARTBEAT_SILENCE_SECONDS=PING_INTERVAL + PING_TIMEOUT)
    daphne = PingingDaphne(env, name="daphne-heartbeat", log_dir=tmp_path)
    daphne.start()
    server = ServerHandle(daphne=daphne, env=env, ids=ids)
    member_id = ids["users"]["dangyuan"]
    chair = await Client.open(daphne, server.cookie("shuji"), label="chair")
    try:
        live = (await chair.call("meetings.list", {"branch": server.b1, "status": "live"}))["meetings"][0]
        stream = live["stream"]
        await chair.subscribe(stream)
        joiner = await Client.open(daphne, server.cookie("dangyuan"), label="joiner")
        await joiner.call("meetings.join", {"meeting": live["id"]}, cid=new_cid())
        await joiner.close()
        before = time.time()
        _reader, writer = await silent_client(daphne, server.cookie("dangyuan"),
                                              [{"op": "subscribe", "ref": 1, "args": {"stream": stream}}])
        sent = time.time()

        def events(type_: str) -> list[dict]:
            return [e for e in chair.events.get(stream, [])
                    if e["type"] == type_ and e["data"]["user"]["id"] == member_id]

        await chair.wait_for(lambda: events("attendance.joined"), 10, "the silent member's join")
        await chair.wait_for(lambda: events("attendance.left"), 20, "the silent member dropped")
        left = events("attendance.left")[-1]
        assert left["data"]["reason"] == "heartbeat"
        from datetime import datetime

        ended = datetime.fromisoformat(left["data"]["at"].replace("Z", "+00:00")).timestamp()
        noticed = datetime.fromisoformat(left["at"].replace("Z", "+00:00")).timestamp()
        # Ended at the last frame, or at most a ping interval (plus daphne's 1 s timer) after it:
        # the server cannot know the exact moment a silent peer died; and well before the
        # server noticed the drop and published it.
        assert before - 0.5 <= ended <= sent + PING_INTERVAL + 1.5, (before, ended, sent)
        assert noticed - ended >= PING_TIMEOUT, (noticed, ended)
        writer.close()
    finally:
        await chair.close()
        daphne.stop()
        if daphne in STARTED:
            STARTED.remove(daphne)
