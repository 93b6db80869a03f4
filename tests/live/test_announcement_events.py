"""What an `announcement.posted` event carries, compared with the op's reply."""

from __future__ import annotations

import pytest

from tests.servers import Client

pytestmark = pytest.mark.live


async def test_the_posted_event_carries_the_announcements_own_seq(server):
    stream = f"announcements:{server.b1}"
    sub = await Client.open(server.daphne, server.cookie("dangyuan"), label="sub")
    writer = await Client.open(server.daphne, server.cookie("shuji"), label="writer")
    try:
        head = (await sub.subscribe(stream))["head"]
        reply = await writer.post(server.b1, "seq in the payload")
        assert reply["announcement"]["seq"] == head + 1  # the reply is right
        await sub.wait_seq(stream, head + 1)
        event = sub.events[stream][-1]
        assert event["seq"] == head + 1
        # A client marks read / pages with the announcement's seq; the event must agree
        # with the reply and the snapshot.
        assert event["data"] == reply["announcement"]
    finally:
        await sub.close()
        await writer.close()
