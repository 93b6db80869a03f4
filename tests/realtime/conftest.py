"""Drive the real ASGI application (Origin check, sessions, consumer, hub) in-process."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from realtime import hub as hub_module

ORIGIN = (b"origin", b"http://127.0.0.1")


class Socket:
    """A thin client over WebsocketCommunicator speaking the /ws/ envelope."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.c = communicator
        self._ref = 0

    async def send(self, op: str, args: dict | None = None, *, cid: str | None = None, ref=None) -> object:
        self._ref += 1
        ref = self._ref if ref is None else ref
        frame: dict = {"op": op, "ref": ref}
        if args is not None:
            frame["args"] = args
        if cid is not None:
            frame["cid"] = cid
        await self.c.send_to(text_data=json.dumps(frame))
        return ref

    async def recv(self, timeout: float = 3) -> dict:
        return json.loads(await self.c.receive_from(timeout=timeout))

    async def call(self, op: str, args: dict | None = None, *, cid: str | None = None, timeout: float = 3) -> dict:
        """Send and return the reply with our ref (frames before it are kept in .other)."""
        ref = await self.send(op, args, cid=cid)
        self.other = []
        while True:
            frame = await self.recv(timeout)
            if frame.get("ref") == ref and frame["op"] in ("ok", "error"):
                return frame
            self.other.append(frame)

    async def recv_until(self, predicate, timeout: float = 3) -> list[dict]:
        frames = []
        while True:
            frame = await self.recv(timeout)
            frames.append(frame)
            if predicate(frame):
                return frames

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.c.receive_nothing(timeout=timeout)

    async def close(self):
        await self.c.disconnect()


@database_sync_to_async
def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@pytest.fixture
async def connect():
    """connect(user=None, headers=...) -> Socket; all closed and the hub stopped after the test."""
    from server.asgi import application

    opened: list[Socket] = []

    async def open_socket(user=None, *, cookie: bytes | None = None, origin=ORIGIN, expect_accept=True):
        headers = [origin] if origin else []
        if user is not None:
            cookie = await session_cookie_for(user)
        if cookie:
            headers.append((b"cookie", cookie))
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, code = await communicator.connect(timeout=5)
        if expect_accept:
            assert connected, f"handshake refused ({code})"
        socket = Socket(communicator)
        socket.accepted = connected
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        try:
            await socket.c.disconnect()
        except Exception:
            pass
    loop = asyncio.get_running_loop()
    hub = hub_module._hubs.pop(loop, None)
    if hub is not None:
        await hub.stop()
    await get_channel_layer().flush()
