"""/metrics of a real daphne process: its own figures, read over HTTP from the machine
itself, moving with real sockets (the fan-out's fast path counts the frames it writes)."""

from __future__ import annotations

import urllib.request

import pytest

from tests.realtime.test_metrics import value
from tests.servers import Client

pytestmark = pytest.mark.live


def scrape(daphne, headers: dict | None = None) -> str:
    request = urllib.request.Request(daphne.base_url + "/metrics", headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        return response.read().decode()


async def test_a_daphne_process_counts_its_sockets_events_and_deliveries(server):
    stream = f"announcements:{server.b1}"
    before = scrape(server.daphne)
    subs = [await Client.open(server.daphne, server.cookie("dangyuan"), label=f"sub{i}") for i in range(3)]
    writer = await Client.open(server.daphne, server.cookie("shuji"), label="writer")
    try:
        head = None
        for sub in subs:
            head = (await sub.subscribe(stream))["head"]
        await writer.post(server.b1, "metrics")
        for sub in subs:
            await sub.wait_seq(stream, head + 1)
        during = scrape(server.daphne)
        assert value(during, "branchline_ws_connections", 'kind="user"') >= 4
        assert value(during, "branchline_ws_subscriptions") >= 3
        assert value(during, "branchline_events_delivered_total") >= value(
            before, "branchline_events_delivered_total") + 3  # the fast path, counted once per event
        assert value(during, "branchline_events_appended_total", 'stream_type="announcements"') >= value(
            before, "branchline_events_appended_total", 'stream_type="announcements"') + 1
        assert value(during, "process_resident_memory_bytes") > 10_000_000
    finally:
        for client in (*subs, writer):
            await client.close()

