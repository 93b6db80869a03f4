"""GET /healthz: database and channel-layer round trips, 503 when either fails."""

from __future__ import annotations

import asyncio
import time
import uuid

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse


def _database_ok() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


# One reply channel per process, reused: a pub/sub layer keeps a channel subscribed
# after a receive, so a fresh channel per check would leak subscriptions.
_HEALTH_CHANNEL = f"health.{uuid.uuid4().hex}"


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    token = uuid.uuid4().hex
    deadline = time.monotonic() + 3
    receiver = asyncio.ensure_future(layer.receive(_HEALTH_CHANNEL))
    try:
        await asyncio.sleep(0)  # let a pub/sub layer subscribe before the first send
        while time.monotonic() < deadline:
            await layer.send(_HEALTH_CHANNEL, {"type": "health.ping", "token": token})
            done, _ = await asyncio.wait({receiver}, timeout=0.2)
            if done:
                if receiver.result().get("token") == token:
                    return
                receiver = asyncio.ensure_future(layer.receive(_HEALTH_CHANNEL))  # a stale ping
        raise TimeoutError("no round trip through the channel layer within 3 s")
    finally:
        if not receiver.done():
            receiver.cancel()


async def healthz(request):
    report: dict = {}
    healthy = True
    for name, check in (
        ("database", database_sync_to_async(_database_ok)),
        ("channel_layer", _layer_round_trip),
    ):
        started = time.perf_counter()
        try:
            await asyncio.wait_for(check(), timeout=5)
            report[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
        except Exception as exc:  # report, never raise: this page exists to say what is down
            healthy = False
            report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    report["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(report, status=200 if healthy else 503)
