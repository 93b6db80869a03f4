"""Every core op and every error code of /ws/, against the real ASGI stack."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from accounts.actions import create_citizen
from accounts.identity import identity_for_user
from announcements.actions import post_announcement
from announcements.models import Announcement
from realtime.errors import OpError
from realtime.ops import OpArgs, register_op

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def post(user, branch, title="通知", body="正文"):
    return post_announcement(identity=identity_for_user(user), branch_id=branch.pk, title=title, body=body)


@database_sync_to_async
def count_announcements() -> int:
    return Announcement.objects.count()


class BoomArgs(OpArgs):
    pass


@register_op("test.boom", args=BoomArgs, audience="any")
def _boom(ctx, args):
    raise RuntimeError("unexpected failure inside an op")


async def test_hello_reports_identity_time_and_limits(connect, people):
    anonymous = await connect()
    reply = await anonymous.call("hello")
    assert reply["op"] == "ok"
    assert reply["data"]["identity"] == {"kind": "anonymous", "id": None, "name": ""}
    assert reply["data"]["limits"]["max_frame_bytes"] == 65536
    assert reply["data"]["server_time"].endswith("Z")

    member = await connect(people["member"])
    reply = await member.call("hello")
    assert reply["data"]["identity"]["kind"] == "user"
    assert reply["data"]["identity"]["id"] == people["member"].pk


async def test_hello_with_citizen_token_identifies_the_citizen(connect, db):
    citizen, token = await database_sync_to_async(create_citizen)(display_name="老李")
    sock = await connect()
    reply = await sock.call("hello", {"citizen_token": token})
    assert reply["data"]["identity"] == {"kind": "citizen", "id": citizen.pk, "name": "老李"}


async def test_citizen_cookie_identifies_the_citizen(connect, db):
    citizen, token = await database_sync_to_async(create_citizen)(display_name="王阿姨")
    sock = await connect(cookie=f"branchline_citizen={token}".encode())
    reply = await sock.call("hello")
    assert reply["data"]["identity"]["kind"] == "citizen"


async def test_hello_with_unknown_citizen_token_is_forbidden(connect, db):
    sock = await connect()
    reply = await sock.call("hello", {"citizen_token": "not-a-real-token"})
    assert (reply["op"], reply["code"]) == ("error", "forbidden")
    assert (await sock.call("hello"))["data"]["identity"]["kind"] == "anonymous"


async def test_ping_answers_with_server_time(connect, db):
    sock = await connect()
    reply = await sock.call("ping")
    assert reply["op"] == "ok" and "server_time" in reply["data"]


async def test_fresh_subscribe_gets_snapshot_then_live_events(connect, people, tree):
    await post(people["secretary"], tree["a"], title="旧通知")
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    assert reply["op"] == "ok"
    assert reply["data"]["seq"] == 1
    assert [a["title"] for a in reply["data"]["snapshot"]["announcements"]] == ["旧通知"]
    assert reply["data"]["snapshot"]["unread"] == 1

    await post(people["secretary"], tree["a"], title="新通知")
    frames = await member.recv_until(lambda f: f["op"] == "event")
    event = frames[-1]
    assert (event["stream"], event["seq"], event["type"]) == (f"announcements:{tree['a'].pk}", 2, "announcement.posted")
    assert event["data"]["title"] == "新通知"


async def test_subscribe_since_delivers_exactly_what_was_missed(connect, people, tree):
    for i in range(5):
        await post(people["secretary"], tree["a"], title=f"第{i + 1}条")
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}", "since": 2})
    assert reply["op"] == "ok" and reply["data"]["head"] == 5
    assert "snapshot" not in reply["data"]
    seqs = [(await member.recv())["seq"] for _ in range(3)]
    assert seqs == [3, 4, 5]
    assert await member.nothing()
    await post(people["secretary"], tree["a"], title="live")
    frames = await member.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["seq"] == 6


async def test_subscribe_since_the_head_sends_nothing_old(connect, people, tree):
    await post(people["secretary"], tree["a"])
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}", "since": 1})
    assert reply["op"] == "ok"
    assert await member.nothing()


async def test_subscribe_past_retention_gets_a_resync_frame(connect, people, tree, settings):
    settings.BRANCHLINE_REALTIME = {**settings.BRANCHLINE_REALTIME, "RETENTION_EVENTS": 3}
    for i in range(6):
        await post(people["secretary"], tree["a"], title=f"n{i}")
    from realtime.events import prune_stream

    await database_sync_to_async(prune_stream)(f"announcements:{tree['a'].pk}")
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}", "since": 1})
    assert reply["op"] == "ok"
    resync = await member.recv()
    assert resync["op"] == "resync" and resync["seq"] == 6
    assert len(resync["snapshot"]["announcements"]) == 6
    await post(people["secretary"], tree["a"], title="after")
    frames = await member.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["seq"] == 7


async def test_subscribe_since_beyond_head_gets_a_resync_frame(connect, people, tree):
    await post(people["secretary"], tree["a"])
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}", "since": 40})
    assert (await member.recv())["op"] == "resync"


async def test_unsubscribe_stops_delivery(connect, people, tree):
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    await member.call("subscribe", {"stream": stream})
    reply = await member.call("unsubscribe", {"stream": stream})
    assert reply["op"] == "ok"
    await post(people["secretary"], tree["a"])
    assert await member.nothing(0.5)
    again = await member.call("unsubscribe", {"stream": stream})
    assert again["code"] == "not_found"


@pytest.mark.parametrize(
    "stream, code",
    [
        ("no-colon", "bad_request"),
        ("announcements:", "bad_request"),
        (17, "bad_request"),
        ("nosuchtype:1", "not_found"),
        ("announcements:999999", "not_found"),
    ],
)
async def test_subscribe_to_a_bad_stream_is_refused(connect, people, stream, code):
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": stream})
    assert (reply["op"], reply["code"]) == ("error", code)


async def test_another_branchs_stream_is_forbidden(connect, people, tree):
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": f"announcements:{tree['b'].pk}"})
    assert reply["code"] == "forbidden"


async def test_no_session_cannot_read_a_member_stream(connect, people, tree):
    anonymous = await connect()
    reply = await anonymous.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    assert reply["code"] == "forbidden"


async def test_committee_secretary_reads_branches_below(connect, people, tree):
    sock = await connect(people["committee_secretary"])
    reply = await sock.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    assert reply["op"] == "ok"


@pytest.mark.parametrize(
    "raw, message_part",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"hello"', "JSON object"),
        ('{"ref": 1}', "missing 'op'"),
        ('{"op": 5}', "missing 'op'"),
        ('{"op": "subscribe", "args": [1]}', "args must be a JSON object"),
        ('{"op": "subscribe", "args": {"stream": "announcements:1", "since": "3"}}', "since"),
        ('{"op": "subscribe", "args": {"stream": "announcements:1", "since": -1}}', "since"),
    ],
)
async def test_malformed_frames_get_bad_request_and_the_socket_stays_open(connect, db, raw, message_part):
    sock = await connect()
    await sock.c.send_to(text_data=raw)
    frame = await sock.recv()
    assert frame["op"] == "error" and frame["code"] == "bad_request"
    assert message_part in frame["message"]
    assert (await sock.call("ping"))["op"] == "ok"


async def test_binary_frames_are_refused(connect, db):
    sock = await connect()
    await sock.c.send_to(bytes_data=b"\x00\x01")
    frame = await sock.recv()
    assert frame["code"] == "bad_request"


async def test_unknown_op(connect, db):
    sock = await connect()
    reply = await sock.call("no.such.op")
    assert (reply["code"], reply["ref"]) == ("unknown_op", 1)


async def test_ref_is_echoed_on_errors(connect, db):
    sock = await connect()
    await sock.c.send_to(text_data=json.dumps({"op": "nope", "ref": "abc-1"}))
    assert (await sock.recv())["ref"] == "abc-1"


async def test_oversized_frame_is_refused_with_too_large(connect, db):
    sock = await connect()
    await sock.c.send_to(text_data=json.dumps({"op": "ping", "args": {"pad": "x" * (65 * 1024)}}))
    frame = await sock.recv()
    assert frame["code"] == "too_large"
    assert (await sock.call("ping"))["op"] == "ok"


async def test_flood_past_the_rate_limit_is_refused_then_recovers(connect, people, settings):
    settings.BRANCHLINE_REALTIME = {**settings.BRANCHLINE_REALTIME, "RATE_PER_SECOND": 5, "RATE_BURST": 10}
    flooder = await connect(people["member"])
    bystander = await connect(people["secretary"])
    for _ in range(30):
        await flooder.send("ping")
    frames = [await flooder.recv() for _ in range(30)]
    codes = [f.get("code") for f in frames if f["op"] == "error"]
    assert codes and set(codes) == {"rate_limited"}
    assert sum(1 for f in frames if f["op"] == "ok") <= 11
    assert (await bystander.call("ping"))["op"] == "ok"
    import asyncio

    await asyncio.sleep(0.5)
    assert (await flooder.call("ping"))["op"] == "ok"


async def test_subscription_cap(connect, people, tree, settings):
    settings.BRANCHLINE_REALTIME = {**settings.BRANCHLINE_REALTIME, "MAX_SUBSCRIPTIONS": 1}
    sock = await connect(people["committee_secretary"])
    assert (await sock.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"}))["op"] == "ok"
    reply = await sock.call("subscribe", {"stream": f"announcements:{tree['b'].pk}"})
    assert reply["code"] == "too_large"


async def test_unexpected_exception_becomes_internal_and_others_are_served(connect, people):
    sock = await connect()
    reply = await sock.call("test.boom")
    assert reply["code"] == "internal"
    assert "RuntimeError" not in reply["message"]
    assert (await sock.call("ping"))["op"] == "ok"


async def test_op_error_subclass_carries_its_code():
    assert OpError("x").code == "internal"


async def test_foreign_origin_is_refused(connect, db):
    sock = await connect(origin=(b"origin", b"http://evil.example"), expect_accept=False)
    assert not sock.accepted


async def test_missing_origin_is_refused(connect, db):
    sock = await connect(origin=None, expect_accept=False)
    assert not sock.accepted


def test_prune_events_command_applies_retention_to_every_stream(people, tree, settings):
    from django.core.management import call_command

    from realtime.models import Stream

    settings.BRANCHLINE_REALTIME = {**settings.BRANCHLINE_REALTIME, "RETENTION_EVENTS": 2}
    for branch in (tree["a"], tree["b"]):
        for i in range(4):
            post_announcement(identity=identity_for_user(
                people["secretary"] if branch == tree["a"] else people["other_secretary"]),
                branch_id=branch.pk, title=f"t{i}", body="b")
    call_command("prune_events", stdout=open("/dev/null", "w"))
    assert dict(Stream.objects.values_list("key", "trimmed_through")) == {
        f"announcements:{tree['a'].pk}": 2, f"announcements:{tree['b'].pk}": 2}


async def test_messages_speak_chinese_by_default_and_english_when_chosen(connect, people, tree):
    chinese = await connect(people["member"])
    reply = await chinese.call("announcements.post", {"branch": tree["a"].pk, "title": "t", "body": "b"}, cid="lang-0000001")
    assert reply["message"] == "只有支部书记可以发布通知。"

    from tests.realtime.conftest import session_cookie_for

    cookie = await session_cookie_for(people["member"]) + b"; django_language=en"
    english = await connect(cookie=cookie)
    reply = await english.call("announcements.post", {"branch": tree["a"].pk, "title": "t", "body": "b"}, cid="lang-0000002")
    assert reply["message"] == "Only the branch secretary may post announcements."


def test_a_stream_type_may_keep_its_events_longer_than_the_retention(people, tree):
    """The inbox keeps notifications 90 days where other streams keep 7: a member back
    from a few weeks away still finds them."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from accounts.streams import NOTIFICATIONS_KEEP_DAYS, inbox_stream
    from realtime.events import append_event, prune_stream
    from realtime.models import Event

    inbox, branch = inbox_stream(people["member"].pk), f"announcements:{tree['a'].pk}"
    with transaction.atomic():
        for key in (inbox, branch):
            for _ in range(3):
                append_event(key, "mention" if key == inbox else "announcement.posted", {})
    now = timezone.now()
    for key in (inbox, branch):  # seqs 1, 2, 3: 100, 30 and 1 days old
        for seq, days in ((1, 100), (2, 30), (3, 1)):
            Event.objects.filter(stream_id=key, seq=seq).update(created_at=now - timedelta(days=days))
    assert NOTIFICATIONS_KEEP_DAYS == 90
    assert prune_stream(inbox) == 1 and prune_stream(branch) == 2
    assert list(Event.objects.filter(stream_id=inbox).values_list("seq", flat=True).order_by("seq")) == [2, 3]
    assert list(Event.objects.filter(stream_id=branch).values_list("seq", flat=True)) == [3]
