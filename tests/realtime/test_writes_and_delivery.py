"""Client-tagged writes over /ws/, ordered delivery, gap filling and presence."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.sessions.models import Session

from accounts.identity import identity_for_user
from announcements.actions import post_announcement
from announcements.models import Announcement
from realtime import hub as hub_module
from realtime.events import publish
from realtime.models import ClientWrite, Event
from realtime.ops import OpArgs, register_op
from realtime.streams import StreamType, group_name, register_stream_type
from realtime.testing import capture_events

pytestmark = pytest.mark.django_db(transaction=True)


def post_args(branch, title="通知", body="正文"):
    return {"branch": branch.pk, "title": title, "body": body}


@database_sync_to_async
def announcement_titles() -> list[str]:
    return list(Announcement.objects.order_by("id").values_list("title", flat=True))


async def test_secretary_posts_and_members_see_it_live(connect, people, tree):
    secretary = await connect(people["secretary"])
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    await member.call("subscribe", {"stream": stream})
    reply = await secretary.call("announcements.post", post_args(tree["a"], "支部大会"), cid="cid-00000001")
    assert reply["op"] == "ok"
    assert reply["data"]["announcement"]["title"] == "支部大会"
    assert reply["data"]["announcement"]["seq"] == 1
    frames = await member.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["data"]["title"] == "支部大会"


async def test_a_retried_write_returns_the_first_result_and_writes_once(connect, people, tree):
    secretary = await connect(people["secretary"])
    first = await secretary.call("announcements.post", post_args(tree["a"]), cid="retry-0000001")
    second = await secretary.call("announcements.post", post_args(tree["a"]), cid="retry-0000001")
    assert second["data"]["replayed"] is True
    assert second["data"]["announcement"] == first["data"]["announcement"]
    assert await announcement_titles() == ["通知"]
    # also across a new connection
    again = await connect(people["secretary"])
    third = await again.call("announcements.post", post_args(tree["a"]), cid="retry-0000001")
    assert third["data"]["announcement"]["id"] == first["data"]["announcement"]["id"]
    assert await announcement_titles() == ["通知"]


async def test_a_client_id_reused_for_another_op_is_a_conflict(connect, people, tree):
    secretary = await connect(people["secretary"])
    await secretary.call("announcements.post", post_args(tree["a"]), cid="shared-000001")
    # Register nothing new: reuse the cid through a recorded row for another op.
    await database_sync_to_async(ClientWrite.objects.filter(client_id="shared-000001").update)(op="other.op")
    reply = await secretary.call("announcements.post", post_args(tree["a"]), cid="shared-000001")
    assert reply["code"] == "conflict"


@pytest.mark.parametrize("cid", [None, "short", "has spaces in it", 12345678, "x" * 65])
async def test_writes_need_a_well_formed_client_id(connect, people, tree, cid):
    secretary = await connect(people["secretary"])
    reply = await secretary.call("announcements.post", post_args(tree["a"]), cid=cid)
    assert reply["code"] == "bad_request" and reply["details"]["field"] == "cid"
    assert await announcement_titles() == []


@pytest.mark.parametrize("who, code", [("member", "forbidden"), ("probationary", "forbidden"),
                                       ("moderator", "forbidden"), ("other_secretary", "forbidden"),
                                       ("outsider", "forbidden")])
async def test_only_secretaries_post_announcements(connect, people, tree, who, code):
    sock = await connect(people[who])
    reply = await sock.call("announcements.post", post_args(tree["a"]), cid="perm-0000001")
    assert reply["code"] == code
    assert await announcement_titles() == []


async def test_committee_secretary_may_post_to_a_branch_below(connect, people, tree):
    sock = await connect(people["committee_secretary"])
    reply = await sock.call("announcements.post", post_args(tree["a"]), cid="perm-0000002")
    assert reply["op"] == "ok"


async def test_anonymous_writes_are_unauthenticated(connect, tree):
    sock = await connect()
    reply = await sock.call("announcements.post", post_args(tree["a"]), cid="anon-0000001")
    assert reply["code"] == "unauthenticated"


async def test_a_spoofed_user_id_in_the_payload_is_refused(connect, people, tree):
    member = await connect(people["member"])
    args = {**post_args(tree["a"]), "user_id": people["secretary"].pk}
    reply = await member.call("announcements.post", args, cid="spoof-000001")
    assert reply["code"] == "bad_request" and "user_id" in reply["message"]
    assert await announcement_titles() == []


@pytest.mark.parametrize(
    "args, field",
    [
        ({"title": "", "body": "x"}, "title"),
        ({"title": "   ", "body": "x"}, "title"),
        ({"title": "t" * 201, "body": "x"}, "title"),
        ({"title": "t", "body": ""}, "body"),
        ({"title": 5, "body": "x"}, "title"),
        ({"body": "x"}, "title"),
    ],
)
async def test_invalid_announcements_are_refused_naming_the_field(connect, people, tree, args, field):
    secretary = await connect(people["secretary"])
    reply = await secretary.call("announcements.post", {"branch": tree["a"].pk, **args}, cid="bad-00000001")
    assert reply["code"] == "bad_request"
    assert reply["details"]["field"] == field
    assert await announcement_titles() == []


async def test_missing_branch_is_not_found(connect, people):
    secretary = await connect(people["secretary"])
    reply = await secretary.call("announcements.post", {"branch": 987654, "title": "t", "body": "b"}, cid="nf-000000001")
    assert reply["code"] == "not_found"


async def test_post_appends_exactly_one_event_to_the_branch_stream(people, tree, db):
    def run():
        with capture_events() as captured:
            post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, title="t", body="b")
        return captured

    captured = await database_sync_to_async(run)()
    assert [(e.stream, e.seq, e.type) for e in captured] == [(f"announcements:{tree['a'].pk}", 1, "announcement.posted")]


async def test_mark_read_moves_forward_only_and_reports_unread(connect, people, tree):
    secretary = await connect(people["secretary"])
    for i in range(3):
        await secretary.call("announcements.post", post_args(tree["a"], f"t{i}"), cid=f"mr-000000{i}")
    member = await connect(people["member"])
    reply = await member.call("announcements.mark_read", {"branch": tree["a"].pk, "seq": 2})
    assert reply["data"] == {"read_seq": 2, "unread": 1}
    reply = await member.call("announcements.mark_read", {"branch": tree["a"].pk, "seq": 1})
    assert reply["data"] == {"read_seq": 2, "unread": 1}
    outsider = await connect(people["outsider"])
    assert (await outsider.call("announcements.mark_read", {"branch": tree["a"].pk, "seq": 1}))["code"] == "forbidden"


async def test_list_pages_older_announcements(connect, people, tree):
    secretary = await connect(people["secretary"])
    for i in range(4):
        await secretary.call("announcements.post", post_args(tree["a"], f"t{i}"), cid=f"ls-000000{i}")
    reply = await secretary.call("announcements.list", {"branch": tree["a"].pk, "before": 3, "limit": 10})
    assert [a["title"] for a in reply["data"]["announcements"]] == ["t1", "t0"]


@pytest.fixture
def doorbells_only(monkeypatch):
    """Events reach the hub through the channel layer only, as they do from another
    process (a process's own events also take a local shortcut)."""
    monkeypatch.setattr(hub_module.Hub, "offer_local", lambda self, message: False)


async def test_a_lost_doorbell_is_recovered_by_the_head_check(connect, people, tree, doorbells_only):
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    await member.call("subscribe", {"stream": stream})
    hub = await hub_module.get_hub()
    layer = get_channel_layer()
    await layer.group_discard(group_name(stream), hub.channel)  # the doorbell will not ring
    await database_sync_to_async(post_announcement)(
        identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, title="lost", body="b"
    )
    assert await member.nothing(0.3)
    await hub.check_heads()
    frames = await member.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["seq"] == 1 and frames[-1]["data"]["title"] == "lost"


async def test_doorbells_out_of_order_are_delivered_in_seq_order_once(connect, people, tree, doorbells_only):
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    await member.call("subscribe", {"stream": stream})
    hub = await hub_module.get_hub()
    layer = get_channel_layer()
    await layer.group_discard(group_name(stream), hub.channel)

    def write_two():
        with capture_events() as captured:
            for title in ("first", "second", "third"):
                post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, title=title, body="b")
        return captured

    captured = await database_sync_to_async(write_two)()
    await layer.group_add(group_name(stream), hub.channel)
    for event in (captured[2], captured[0], captured[1], captured[2]):
        await database_sync_to_async(publish)(event)
    seqs = []
    while len(seqs) < 3:
        frame = await member.recv()
        if frame["op"] == "event":
            seqs.append(frame["seq"])
    assert seqs == [1, 2, 3]
    assert await member.nothing(0.3)


async def test_writes_during_a_resume_are_neither_lost_nor_duplicated(connect, people, tree):
    stream = f"announcements:{tree['a'].pk}"
    secretary = await connect(people["secretary"])
    for i in range(30):
        await secretary.call("announcements.post", post_args(tree["a"], f"before{i}"), cid=f"rs-before-{i:03}")

    async def keep_writing():
        for i in range(30):
            await secretary.call("announcements.post", post_args(tree["a"], f"during{i}"), cid=f"rs-during-{i:03}")

    member = await connect(people["member"])
    writer = asyncio.create_task(keep_writing())
    await member.send("subscribe", {"stream": stream, "since": 0})
    seqs = []
    while len(seqs) < 60:
        frame = await member.recv(timeout=10)
        if frame["op"] == "event":
            seqs.append(frame["seq"])
    await writer
    assert seqs == list(range(1, 61))
    # Nothing more of the log (the member's own presence join may still arrive).
    extra = []
    while not await member.nothing(0.3):
        frame = await member.recv()
        if frame["op"] != "presence":
            extra.append(frame)
    assert extra == []


async def test_presence_shows_who_is_here_and_who_leaves(connect, people, tree):
    stream = f"announcements:{tree['a'].pk}"
    first = await connect(people["member"])
    reply = await first.call("subscribe", {"stream": stream})
    assert reply["data"]["presence"] == [{"id": f"u:{people['member'].pk}", "name": "Member"}]
    second = await connect(people["secretary"])
    reply = await second.call("subscribe", {"stream": stream})
    assert {p["id"] for p in reply["data"]["presence"]} == {f"u:{people['member'].pk}", f"u:{people['secretary'].pk}"}
    # Joins are batched once a second, so the member's own join may share the frame.
    joined = await first.recv_until(lambda f: f["op"] == "presence", timeout=4)
    assert {"id": f"u:{people['secretary'].pk}", "name": "Secretary"} in joined[-1]["joined"]
    await second.call("unsubscribe", {"stream": stream})
    left = await first.recv_until(lambda f: f["op"] == "presence" and f["left"], timeout=4)
    assert left[-1]["left"] == [f"u:{people['secretary'].pk}"]


async def test_someone_who_leaves_before_their_join_was_announced_is_seen_leaving(connect, people, tree):
    """Joins and leaves go out once a second; a subscribe reply lists this process's
    people at once. Someone listed that way who leaves within the same second was never
    announced as joining, but the reply showed them: their leave must still be told."""
    stream = f"announcements:{tree['a'].pk}"
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": stream})
    await member.recv_until(lambda f: f["op"] == "presence", timeout=4)  # the member's own join, flushed
    brief = await connect(people["secretary"])
    await brief.call("subscribe", {"stream": stream})
    watcher = await connect(people["moderator"])
    reply = await watcher.call("subscribe", {"stream": stream})
    secretary = f"u:{people['secretary'].pk}"
    assert secretary in {p["id"] for p in reply["data"]["presence"]}
    await brief.close()
    frames = await watcher.recv_until(lambda f: f["op"] == "presence" and secretary in f["left"], timeout=4)
    assert all(secretary not in [p["id"] for p in f.get("joined", ())] for f in frames if f["op"] == "presence")


async def test_past_the_list_limit_a_stream_is_told_only_how_many_are_here(connect, people, tree, settings):
    """A crowd's comings and goings sent to the whole crowd grow with its size squared:
    past WS_PRESENCE_LIST_MAX people, replies and frames carry the count alone."""
    settings.BRANCHLINE_REALTIME = {**settings.BRANCHLINE_REALTIME, "PRESENCE_LIST_MAX": 2}
    stream = f"announcements:{tree['a'].pk}"
    ids = {name: f"u:{people[name].pk}" for name in ("member", "secretary", "moderator")}
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": stream})
    assert reply["data"]["presence"] == [{"id": ids["member"], "name": "Member"}]
    assert reply["data"]["presence_count"] == 1
    secretary = await connect(people["secretary"])
    reply = await secretary.call("subscribe", {"stream": stream})
    assert {p["id"] for p in reply["data"]["presence"]} == {ids["member"], ids["secretary"]}
    assert reply["data"]["presence_count"] == 2

    moderator = await connect(people["moderator"])
    reply = await moderator.call("subscribe", {"stream": stream})
    assert reply["data"]["presence"] == [] and reply["data"]["presence_count"] == 3
    crowded = await member.recv_until(lambda f: f["op"] == "presence" and f["count"] == 3, timeout=4)
    assert "joined" not in crowded[-1] and "left" not in crowded[-1]

    await moderator.close()
    listed = await member.recv_until(lambda f: f["op"] == "presence" and f["count"] == 2, timeout=4)
    assert listed[-1]["left"] == [ids["moderator"]] and listed[-1]["joined"] == []
    # A client whose list lapsed asks for it again.
    reply = await member.call("presence", {"stream": stream})
    assert reply["data"]["stream"] == stream and reply["data"]["presence_count"] == 2
    assert sorted(reply["data"]["presence"], key=lambda p: p["name"]) == [
        {"id": ids["member"], "name": "Member"},
        {"id": ids["secretary"], "name": "Secretary"},
    ]


async def test_the_presence_op_answers_only_for_a_subscribed_stream_with_presence(connect, people, tree):
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    reply = await member.call("presence", {"stream": stream})
    assert reply["op"] == "error" and reply["code"] == "not_found"
    reply = await member.call("presence", {"stream": "nonsense"})
    assert reply["op"] == "error" and reply["code"] == "bad_request"
    inbox = f"inbox:{people['member'].pk}"
    await member.call("subscribe", {"stream": inbox})
    reply = await member.call("presence", {"stream": inbox})
    assert reply["op"] == "error" and reply["code"] == "bad_request"


async def test_a_second_tab_leaving_keeps_the_member_present(connect, people, tree):
    stream = f"announcements:{tree['a'].pk}"
    watcher = await connect(people["secretary"])
    await watcher.call("subscribe", {"stream": stream})
    tab1 = await connect(people["member"])
    tab2 = await connect(people["member"])
    await tab1.call("subscribe", {"stream": stream})
    await tab2.call("subscribe", {"stream": stream})
    await watcher.recv_until(lambda f: f["op"] == "presence", timeout=4)
    await tab2.close()
    await asyncio.sleep(1.5)
    assert await watcher.nothing(0.2)


async def test_logged_out_users_sockets_are_closed(connect, people, tree):
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    await database_sync_to_async(Session.objects.all().delete)()
    hub = await hub_module.get_hub()
    await hub.check_sessions()
    closing = await member.recv()
    assert closing["op"] == "closing" and closing["code"] == "unauthenticated"
    output = await member.c.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4401}


async def test_deactivated_users_sockets_are_closed_by_the_periodic_check(connect, people, tree, settings):
    settings.BRANCHLINE_REALTIME = {**settings.BRANCHLINE_REALTIME, "SESSION_CHECK_SECONDS": 1}
    member = await connect(people["member"])
    other = await connect(people["secretary"])
    people["member"].is_active = False
    await database_sync_to_async(people["member"].save)()
    closing = await member.recv(timeout=4)
    assert closing["op"] == "closing"
    assert (await other.call("ping"))["op"] == "ok"


def test_session_check_interval_is_within_a_minute(settings):
    assert settings.BRANCHLINE_REALTIME["SESSION_CHECK_SECONDS"] <= 60


async def test_own_subscribers_get_events_without_the_channel_layer(connect, people, tree, monkeypatch):
    """A process's own events reach its own sockets even while the layer fails."""
    from channels.layers import InMemoryChannelLayer

    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    await member.call("subscribe", {"stream": stream})

    async def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(InMemoryChannelLayer, "group_send", broken)
    secretary = await connect(people["secretary"])
    for i in range(3):
        await secretary.call("announcements.post", post_args(tree["a"], f"本进程{i}"), cid=f"local-{i:07d}")
    seqs = []
    while len(seqs) < 3:
        frame = await member.recv()
        if frame["op"] == "event":
            seqs.append(frame["seq"])
    assert seqs == [1, 2, 3]


async def test_events_are_kept_when_the_channel_layer_fails(people, tree, db, monkeypatch):
    from channels.layers import InMemoryChannelLayer

    async def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(InMemoryChannelLayer, "group_send", broken)
    announcement = await database_sync_to_async(post_announcement)(
        identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, title="t", body="b"
    )
    assert await database_sync_to_async(Event.objects.filter(seq=announcement.seq).exists)()


async def test_the_event_carries_the_announcements_own_seq(connect, people, tree):
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    secretary = await connect(people["secretary"])
    await secretary.call("announcements.post", post_args(tree["a"]), cid="seq-00000001")
    frames = await member.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["data"]["seq"] == frames[-1]["seq"] == 1


async def test_authors_do_not_see_their_own_announcements_as_unread(connect, people, tree):
    secretary = await connect(people["secretary"])
    await secretary.call("announcements.post", post_args(tree["a"]), cid="own-00000001")
    mine = await secretary.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    assert mine["data"]["snapshot"]["unread"] == 0
    member = await connect(people["member"])
    theirs = await member.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    assert theirs["data"]["snapshot"]["unread"] == 1


async def test_marking_read_in_one_tab_updates_the_others(connect, people, tree):
    secretary = await connect(people["secretary"])
    for i in range(2):
        await secretary.call("announcements.post", post_args(tree["a"], f"t{i}"), cid=f"tab-000000{i}")
    tab1 = await connect(people["member"])
    tab2 = await connect(people["member"])
    reply = await tab2.call("subscribe", {"stream": f"inbox:{people['member'].pk}"})
    assert reply["op"] == "ok"
    await tab1.call("announcements.mark_read", {"branch": tree["a"].pk, "seq": 2})
    frames = await tab2.recv_until(lambda f: f["op"] == "event")
    assert frames[-1]["type"] == "announcements.read"
    assert frames[-1]["data"] == {"branch": tree["a"].pk, "read_seq": 2, "unread": 0}
    # marking an older seq again changes nothing and publishes nothing
    await tab1.call("announcements.mark_read", {"branch": tree["a"].pk, "seq": 1})
    assert await tab2.nothing(0.3)


async def test_an_inbox_is_readable_only_by_its_owner(connect, people):
    other = await connect(people["secretary"])
    reply = await other.call("subscribe", {"stream": f"inbox:{people['member'].pk}"})
    assert reply["code"] == "forbidden"
    anonymous = await connect()
    assert (await anonymous.call("subscribe", {"stream": f"inbox:{people['member'].pk}"}))["code"] == "forbidden"


class RingArgs(OpArgs):
    branch: int


@register_op("test.ring_on_commit", args=RingArgs, writes=True)
def _ring_on_commit(ctx, args):
    """A write whose commit sends a frame that is not an event (as a meeting removal's
    eviction does)."""
    from django.db import transaction

    from realtime.ephemeral import broadcast

    transaction.on_commit(lambda: broadcast(f"announcements:{args.branch}", {"op": "rang"}))
    return {}


async def test_a_frame_sent_on_a_writes_commit_goes_out_on_the_servers_loop(connect, people, tree):
    """Writes run on the writer thread, or on SQLite on the loop with the loop hidden
    from Django. asgiref's async_to_sync finds the server's loop only from its own
    worker thread; from either place it would send on a new loop of its own, where the
    in-memory layer's queues and Redis connections do not belong."""
    stream = f"announcements:{tree['a'].pk}"
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": stream})
    layer = get_channel_layer()
    loops = []
    real_send = layer.group_send

    async def spy(group, message):
        if message.get("type") == "bl.ephemeral":
            loops.append(asyncio.get_running_loop())
        await real_send(group, message)

    layer.group_send = spy
    try:
        secretary = await connect(people["secretary"])
        reply = await secretary.call("test.ring_on_commit", {"branch": tree["a"].pk}, cid="ring-00000001")
        assert reply["op"] == "ok"
        rang = await member.recv_until(lambda f: f["op"] == "rang", timeout=3)
        assert rang[-1]["stream"] == stream
    finally:
        del layer.group_send
    assert loops == [asyncio.get_running_loop()]


async def test_following_with_here_false_gets_events_without_being_listed(connect, people, tree):
    """A page that only counts new announcements follows the stream quietly: it gets
    every event after `since`, and nobody sees it as here."""
    stream = f"announcements:{tree['a'].pk}"
    watcher = await connect(people["secretary"])
    await watcher.call("subscribe", {"stream": stream})
    quiet = await connect(people["member"])
    reply = await quiet.call("subscribe", {"stream": stream, "since": 0, "here": False})
    assert reply["op"] == "ok" and "snapshot" not in reply["data"]
    assert [p["id"] for p in reply["data"]["presence"]] == [f"u:{people['secretary'].pk}"]
    # Joins go out once a second (the watcher's own may come): the member is never among them.
    heard = []
    while not await watcher.nothing(timeout=1.6):
        heard.append(await watcher.recv())
    member_key = f"u:{people['member'].pk}"
    assert not [f for f in heard if member_key in json.dumps(f)], heard
    listed = await watcher.call("presence", {"stream": stream})
    assert [p["id"] for p in listed["data"]["presence"]] == [f"u:{people['secretary'].pk}"]
    await watcher.call("announcements.post", post_args(tree["a"], "悄悄收到"), cid="cid-quiet-0001")
    event = (await quiet.recv_until(lambda f: f["op"] == "event"))[-1]
    assert event["type"] == "announcement.posted" and event["data"]["title"] == "悄悄收到"


register_stream_type(StreamType(name="testroom", can_read=lambda identity, object_id: True, presence=True))


@pytest.mark.parametrize(
    "stream, here, field",
    [("announcements:{a}", "no", "here"), ("announcements:{a}", None, "here"), ("announcements:{a}", 0, "here"),
     # Where being on the stream is a record or a courtesy (a meeting, a room), no one follows unseen.
     ("testroom:1", False, "here")],
)
async def test_here_false_only_where_the_stream_type_allows_it(connect, people, tree, stream, here, field):
    member = await connect(people["member"])
    reply = await member.call("subscribe", {"stream": stream.format(a=tree["a"].pk), "here": here})
    assert reply["op"] == "error" and reply["code"] == "bad_request" and reply["details"]["field"] == field


async def test_a_member_whose_name_was_corrected_is_asked_to_reconnect_and_comes_back_renamed(connect, people, tree):
    stream = f"announcements:{tree['a'].pk}"
    member = await connect(people["member"])
    await member.call("subscribe", {"stream": stream})
    other = await connect(people["secretary"])
    await other.call("subscribe", {"stream": stream})
    hub = await hub_module.get_hub()
    await hub.check_sessions()
    assert await member.nothing(0.2)  # nothing changed: left alone

    people["member"].first_name, people["member"].last_name = "张", "党员"
    await database_sync_to_async(people["member"].save)()
    await hub.check_sessions()
    output = await member.c.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4012}  # reconnect now; not a session end
    assert (await other.call("ping"))["op"] == "ok"
    again = await connect(people["member"])
    hello = await again.call("hello")
    assert hello["data"]["identity"]["name"] == "张 党员"


async def test_a_name_corrected_by_the_secretary_reconnects_the_members_sockets_at_once(connect, people, tree):
    from accounts import members
    from accounts.identity import identity_for_user

    member = await connect(people["member"])
    await member.call("subscribe", {"stream": f"inbox:{people['member'].pk}"})  # as every member page does
    await database_sync_to_async(members.correct_name)(
        identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, user_id=people["member"].pk,
        name="张党员")
    output = await member.c.receive_output(timeout=2)  # no session check ran: the recheck did it
    assert output == {"type": "websocket.close", "code": 4012}
