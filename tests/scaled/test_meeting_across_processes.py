"""A meeting served by two daphne processes: attendance and removal cross processes.

The demo's live party lecture; the chair on daphne 1, a member with a tab on each.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.servers import Client, new_cid

pytestmark = pytest.mark.scaled


def of_type(client: Client, stream: str, type_: str) -> list[dict]:
    return [e for e in client.events.get(stream, []) if e["type"] == type_]


async def test_attendance_and_removal_work_across_processes(doorbell_pair):
    one, two = doorbell_pair.both
    member_id = one.ids["users"]["dangyuan"]
    chair = await Client.open(one.daphne, one.cookie("shuji"), label="chair@1")
    tab2 = await Client.open(two.daphne, two.cookie("dangyuan"), label="member@2")
    tab1 = await Client.open(one.daphne, one.cookie("dangyuan"), label="member@1")
    try:
        live = (await chair.call("meetings.list", {"branch": one.b1, "status": "live"}))["meetings"]
        stream = live[0]["stream"]
        await chair.subscribe(stream)
        assert (await tab2.call("meetings.join", {"meeting": live[0]["id"]}, cid=new_cid()))["state"] == "admitted"
        await tab2.subscribe(stream)

        def joined() -> list[dict]:
            return [e for e in of_type(chair, stream, "attendance.joined") if e["data"]["user"]["id"] == member_id]

        await chair.wait_for(lambda: joined(), 15, "the member's join seen on the other process")
        # A second tab, on the chair's process; closing it leaves the member present.
        await tab1.subscribe(stream)
        await asyncio.sleep(2.5)  # both processes have flushed presence
        await tab1.close()
        await asyncio.sleep(2.5)
        assert not [e for e in of_type(chair, stream, "attendance.left") if e["data"]["user"]["id"] == member_id]
        assert len(joined()) == 1

        await chair.call("meetings.remove", {"meeting": live[0]["id"], "user": member_id}, cid=new_cid())
        # The removal is made on daphne 1; the member's socket on daphne 2 is unsubscribed.
        await tab2.wait_for(lambda: any(f.get("op") == "unsubscribed" for f in tab2.others), 10, "unsubscribed")

        def left() -> list[dict]:
            return [e for e in of_type(chair, stream, "attendance.left") if e["data"]["user"]["id"] == member_id]

        # The chair's event and the member's unsubscribe travel apart: either may come first.
        await chair.wait_for(lambda: left(), 10, "the member's leaving seen by the chair")
        assert [e["data"]["reason"] for e in left()] == ["removed"]
        refused = await tab2.request("subscribe", {"stream": stream})
        assert refused["code"] == "forbidden"
    finally:
        for client in (chair, tab1, tab2):
            await client.close()
