"""Meetings over /ws/ through the real ASGI stack: ops, the meeting stream, attendance from presence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from meetings import actions
from meetings.models import AttendanceInterval, Meeting
from tests.realtime.conftest import connect  # noqa: F401  the real ASGI stack fixture

pytestmark = pytest.mark.django_db(transaction=True)


async def events(socket, type_: str, timeout: float = 4) -> dict:
    """The next event of this type, including one that arrived before the last call's reply."""
    for i, frame in enumerate(getattr(socket, "other", [])):
        if frame.get("op") == "event" and frame["type"] == type_:
            del socket.other[: i + 1]
            return frame
    socket.other = []
    frames = await socket.recv_until(lambda f: f.get("op") == "event" and f["type"] == type_, timeout=timeout)
    return frames[-1]


async def scheduled(connect, people, tree, *, kind="general"):  # noqa: F811
    chair = await connect(people["secretary"])
    now = timezone.now()
    reply = await chair.call("meetings.schedule", {
        "branch": tree["a"].pk, "kind": kind, "title": "十一月支部党员大会",
        "starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat(),
        "chair": people["secretary"].pk, "minute_taker": people["member"].pk, "agenda": ["学习", "表决"],
    }, cid="sched-0001")
    assert reply["op"] == "ok", reply
    return chair, reply["data"]["meeting"]


async def test_a_meeting_runs_end_to_end_over_the_socket(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    mid = meeting["id"]
    assert meeting["starts_local"].endswith("+08:00")
    assert (await chair.call("meetings.start", {"meeting": mid}, cid="start-0001"))["op"] == "ok"
    sub = await chair.call("subscribe", {"stream": f"meeting:{mid}"})
    assert sub["data"]["snapshot"]["you"]["host"] is True
    assert sub["data"]["snapshot"]["meeting"]["status"] == "live"
    joined = await events(chair, "attendance.joined")
    assert joined["data"]["user"]["id"] == people["secretary"].pk

    member = await connect(people["member"])
    assert (await member.call("meetings.join", {"meeting": mid}, cid="join-00001"))["data"]["state"] == "admitted"
    snap = (await member.call("subscribe", {"stream": f"meeting:{mid}"}))["data"]["snapshot"]
    assert snap["you"] == {"host": False, "chair": False, "minute_taker": True, "moderator": False,
                           "secretary": False, "expected": True, "voting": True, "state": "admitted"}
    joined = await events(chair, "attendance.joined")
    assert joined["data"]["user"]["id"] == people["member"].pk
    assert joined["data"]["quorum"]["voting_present"] == 2 and joined["data"]["quorum"]["voting_expected"] == 3

    assert (await member.call("meetings.hand.raise", {"meeting": mid}, cid="hand-00001"))["op"] == "ok"
    raised = await events(chair, "hand.raised")
    assert [p["id"] for p in raised["data"]["queue"]] == [people["member"].pk]
    await chair.call("meetings.floor.give", {"meeting": mid, "user": people["member"].pk}, cid="floor-0001")
    assert (await events(member, "floor.given"))["data"]["queue"] == []

    created = await chair.call("meetings.vote.create", {"meeting": mid, "kind": "motion", "title": "通过决议",
                                                        "secret": True}, cid="vote-00001")
    vote = created["data"]["vote"]["id"]
    opened = await chair.call("meetings.vote.open", {"vote": vote}, cid="vote-00002")
    assert opened["data"]["vote"]["present_at_open"] == 2
    cast = await member.call("meetings.vote.cast", {"vote": vote, "choice": "yes"})
    assert cast["data"] == {"vote": vote, "voted": True}
    progress = await events(chair, "vote.progress")
    assert progress["data"] == {"vote": vote, "cast": 1, "of": 3}
    again = await member.call("meetings.vote.cast", {"vote": vote, "choice": "no"})
    assert again["code"] == "conflict"
    await chair.call("meetings.vote.cast", {"vote": vote, "choice": "yes"})
    closed = await chair.call("meetings.vote.close", {"vote": vote}, cid="vote-00003")
    assert closed["data"]["vote"]["passed"] is True and closed["data"]["vote"]["result"]["counts"]["yes"] == 2
    announced = await events(member, "vote.closed")
    assert announced["data"]["result"]["counts"] == {"yes": 2, "no": 0, "abstain": 0}

    await chair.call("meetings.end", {"meeting": mid}, cid="end-000001")
    ended = await events(member, "meeting.ended")
    assert ended["data"]["attendance"]["counts"]["present"] == 2


async def test_outsiders_and_other_branches_cannot_see_or_subscribe(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    await chair.call("meetings.start", {"meeting": meeting["id"]}, cid="start-0001")
    for name in ("outsider", "other_secretary"):
        sock = await connect(people[name])
        assert (await sock.call("subscribe", {"stream": f"meeting:{meeting['id']}"}))["code"] == "forbidden"
        assert (await sock.call("meetings.get", {"meeting": meeting["id"]}))["code"] == "not_found"
        assert (await sock.call("meetings.join", {"meeting": meeting["id"]}, cid="join-00001"))["code"] == "not_found"
    anonymous = await connect()
    assert (await anonymous.call("subscribe", {"stream": f"meeting:{meeting['id']}"}))["code"] == "forbidden"
    assert (await anonymous.call("meetings.get", {"meeting": meeting["id"]}))["code"] == "unauthenticated"
    # A member who has not joined may not subscribe either (joining decides lobby or not).
    member = await connect(people["probationary"])
    assert (await member.call("subscribe", {"stream": f"meeting:{meeting['id']}"}))["code"] == "forbidden"


async def test_a_removed_participant_is_unsubscribed_and_cannot_come_back_until_admitted(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    mid = meeting["id"]
    await chair.call("meetings.start", {"meeting": mid}, cid="start-0001")
    await chair.call("subscribe", {"stream": f"meeting:{mid}"})
    member = await connect(people["probationary"])
    await member.call("meetings.join", {"meeting": mid}, cid="join-00001")
    await member.call("subscribe", {"stream": f"meeting:{mid}"})
    await events(chair, "attendance.joined")
    await events(chair, "attendance.joined")
    removed = await chair.call("meetings.remove", {"meeting": mid, "user": people["probationary"].pk},
                               cid="remove-001")
    assert removed["data"]["participant"]["state"] == "removed"
    frames = [f for f in getattr(member, "other", []) if f.get("op") == "unsubscribed"]
    frames = frames or await member.recv_until(lambda f: f.get("op") == "unsubscribed")
    assert frames[-1] == {"op": "unsubscribed", "stream": f"meeting:{mid}", "reason": "removed"}
    assert (await member.call("subscribe", {"stream": f"meeting:{mid}"}))["code"] == "forbidden"
    assert (await member.call("meetings.join", {"meeting": mid}, cid="join-00002"))["code"] == "forbidden"
    left = await events(chair, "attendance.left")
    assert left["data"]["reason"] == "removed"
    # Nobody but a host removes; a host cannot be removed.
    other = await connect(people["member"])
    await other.call("meetings.join", {"meeting": mid}, cid="join-00003")
    assert (await other.call("meetings.remove", {"meeting": mid, "user": people["secretary"].pk},
                             cid="remove-002"))["code"] == "forbidden"
    await chair.call("meetings.lobby.decide", {"meeting": mid, "user": people["probationary"].pk, "admit": True},
                     cid="admit-0001")
    assert (await member.call("subscribe", {"stream": f"meeting:{mid}"}))["op"] == "ok"


async def test_lobby_for_people_who_are_not_expected(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree, kind="committee")
    mid = meeting["id"]
    await chair.call("meetings.open", {"meeting": mid}, cid="open-00001")
    await chair.call("subscribe", {"stream": f"meeting:{mid}"})
    await chair.call("subscribe", {"stream": f"inbox:{people['secretary'].pk}"})
    guest = await connect(people["moderator"])  # a branch member, not on the committee
    await guest.call("subscribe", {"stream": f"inbox:{people['moderator'].pk}"})
    reply = await guest.call("meetings.join", {"meeting": mid}, cid="join-00001")
    assert reply["data"]["state"] == "waiting"
    assert (await guest.call("subscribe", {"stream": f"meeting:{mid}"}))["code"] == "forbidden"
    waiting = await events(chair, "lobby.waiting")
    assert waiting["data"]["user"]["id"] == people["moderator"].pk
    denied = await guest.call("meetings.lobby.decide", {"meeting": mid, "user": people["moderator"].pk,
                                                        "admit": True}, cid="admit-0001")
    assert denied["code"] == "forbidden"
    await chair.call("meetings.lobby.decide", {"meeting": mid, "user": people["moderator"].pk, "admit": True},
                     cid="admit-0002")
    told = await events(guest, "meeting.admitted")
    assert told["stream"] == f"inbox:{people['moderator'].pk}"
    assert (await guest.call("subscribe", {"stream": f"meeting:{mid}"}))["op"] == "ok"
    joined = await events(chair, "attendance.joined")
    if joined["data"]["user"]["id"] != people["moderator"].pk:  # the chair's own join came first
        joined = await events(chair, "attendance.joined")
    assert joined["data"]["user"]["id"] == people["moderator"].pk and joined["data"]["guest"] is True


async def test_a_locked_meeting_sends_even_expected_members_to_the_lobby(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    mid = meeting["id"]
    await chair.call("meetings.start", {"meeting": mid}, cid="start-0001")
    member = await connect(people["member"])
    assert (await member.call("meetings.lock", {"meeting": mid, "locked": True}, cid="lock-00001"))["code"] == \
        "forbidden"
    await chair.call("meetings.lock", {"meeting": mid, "locked": True}, cid="lock-00002")
    expected = await connect(people["probationary"])  # expected, but the meeting is locked
    assert (await expected.call("meetings.join", {"meeting": mid}, cid="join-00001"))["data"]["state"] == "waiting"
    await chair.call("meetings.lock", {"meeting": mid, "locked": False}, cid="lock-00003")
    moderator = await connect(people["moderator"])
    assert (await moderator.call("meetings.join", {"meeting": mid}, cid="join-00002"))["data"]["state"] == "admitted"


async def test_a_lost_connection_ends_the_stay_at_its_last_sign_of_life_and_a_reconnect_resumes(
        connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    mid = meeting["id"]
    await chair.call("meetings.start", {"meeting": mid}, cid="start-0001")
    await chair.call("subscribe", {"stream": f"meeting:{mid}"})
    await events(chair, "attendance.joined")
    member = await connect(people["member"])
    await member.call("meetings.join", {"meeting": mid}, cid="join-00001")
    await member.call("subscribe", {"stream": f"meeting:{mid}"})
    await events(chair, "attendance.joined")
    pinged = await member.call("ping")
    assert pinged["op"] == "ok"
    # No close frame: daphne dropped a socket that stopped answering its pings.
    await member.c.disconnect(code=1006)
    left = await events(chair, "attendance.left")
    assert left["data"]["reason"] == "heartbeat"
    interval = await database_sync_to_async(
        lambda: AttendanceInterval.objects.get(meeting_id=mid, user=people["member"]))()
    assert interval.end_reason == "heartbeat"
    # The stay ended at the last frame (the ping), not when the drop was noticed.
    assert abs((interval.left_at - timezone.now()).total_seconds()) < 10
    # Back within 60 s: the same stay continues.
    again = await connect(people["member"])
    await again.call("subscribe", {"stream": f"meeting:{mid}"})
    resumed = await events(chair, "attendance.joined")
    assert resumed["data"]["resumed"] is True
    stays = await database_sync_to_async(
        lambda: list(AttendanceInterval.objects.filter(meeting_id=mid, user=people["member"])
                     .values_list("left_at", flat=True)))()
    assert stays == [None]


async def test_chat_goes_through_watched_words(connect, people, tree):  # noqa: F811
    from moderation.models import ReviewItem, WatchedWord

    await database_sync_to_async(lambda: [
        WatchedWord.objects.create(branch=tree["a"], pattern="赌博", action="block"),
        WatchedWord.objects.create(branch=tree["a"], pattern="代购", action="require_approval"),
        WatchedWord.objects.create(branch=tree["a"], pattern="傻瓜", action="censor"),
    ])()
    chair, meeting = await scheduled(connect, people, tree)
    mid = meeting["id"]
    await chair.call("meetings.start", {"meeting": mid}, cid="start-0001")
    await chair.call("subscribe", {"stream": f"meeting:{mid}"})
    member = await connect(people["member"])
    await member.call("meetings.join", {"meeting": mid}, cid="join-00001")
    await member.call("subscribe", {"stream": f"meeting:{mid}"})
    blocked = await member.call("meetings.chat.send", {"meeting": mid, "body": "去赌博"}, cid="chat-00001")
    assert blocked["code"] == "bad_request" and blocked["details"]["field"] == "body" and "赌博" in blocked["message"]
    held = await member.call("meetings.chat.send", {"meeting": mid, "body": "有人要代购吗"}, cid="chat-00002")
    assert held["data"]["message"]["status"] == "pending"
    assert await database_sync_to_async(
        lambda: ReviewItem.objects.filter(target_type="meetings.chat", status="pending").count())() == 1
    shown = await member.call("meetings.chat.send", {"meeting": mid, "body": "别当傻瓜"}, cid="chat-00003")
    assert shown["data"]["message"]["body"] == "别当■■"
    message = await events(chair, "chat.message")
    assert message["data"]["body"] == "别当■■"
    hidden = await member.call("meetings.chat.hide", {"meeting": mid, "message": message["data"]["id"]},
                               cid="chat-00004")
    assert hidden["code"] == "forbidden"
    await chair.call("meetings.chat.hide", {"meeting": mid, "message": message["data"]["id"]}, cid="chat-00005")
    assert (await events(member, "chat.hidden"))["data"]["id"] == message["data"]["id"]


async def test_reactions_are_ephemeral(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    mid = meeting["id"]
    await chair.call("meetings.start", {"meeting": mid}, cid="start-0001")
    await chair.call("subscribe", {"stream": f"meeting:{mid}"})
    member = await connect(people["member"])
    await member.call("meetings.join", {"meeting": mid}, cid="join-00001")
    assert (await member.call("meetings.react", {"meeting": mid, "emoji": "👏"}))["op"] == "ok"
    frames = [f for f in getattr(chair, "other", []) if f.get("op") == "reaction"]
    frames = frames or await chair.recv_until(lambda f: f.get("op") == "reaction")
    assert frames[-1]["who"]["id"] == people["member"].pk and frames[-1]["emoji"] == "👏"
    assert (await member.call("meetings.react", {"meeting": mid, "emoji": "💩"}))["code"] == "bad_request"
    outsider = await connect(people["other_secretary"])
    assert (await outsider.call("meetings.react", {"meeting": mid, "emoji": "👏"}))["code"] == "not_found"
    from realtime.models import Event

    logged = await database_sync_to_async(
        lambda: list(Event.objects.filter(stream_id=f"meeting:{mid}").values_list("type", flat=True)))()
    assert not [t for t in logged if "react" in t]  # not in the transcript


async def test_bad_arguments_are_refused_and_change_nothing(connect, people, tree):  # noqa: F811
    chair = await connect(people["secretary"])
    base = {"branch": tree["a"].pk, "kind": "general", "title": "t", "starts_at": "2026-11-28T09:00",
            "ends_at": "2026-11-28T11:00", "chair": people["secretary"].pk}
    bad = [
        ({**base, "kind": "party"}, "kind"),
        ({**base, "ends_at": "2026-11-28T08:00"}, "ends_at"),
        ({**base, "starts_at": "tomorrow"}, "starts_at"),
        ({**base, "chair": people["outsider"].pk}, "chair"),
        ({**base, "kind": "group"}, "kind"),
        ({**base, "title": "  "}, "title"),
        ({**base, "user_id": 5}, "user_id"),
        ({**base, "chair": "5"}, "chair"),
    ]
    for i, (args, field) in enumerate(bad):
        reply = await chair.call("meetings.schedule", args, cid=f"bad-{i:06d}")
        assert reply["code"] == "bad_request", (field, reply)
        assert reply["details"]["field"] == field
    member = await connect(people["member"])
    assert (await member.call("meetings.schedule", base, cid="sched-0009"))["code"] == "forbidden"
    assert await database_sync_to_async(Meeting.objects.count)() == 0
    # A time without an offset is read in the branch's time zone.
    ok = await chair.call("meetings.schedule", base, cid="sched-0010")
    assert ok["data"]["meeting"]["starts_at"] == "2026-11-28T01:00:00Z"


async def test_an_action_not_over_the_socket_still_reaches_subscribers(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    await chair.call("meetings.start", {"meeting": meeting["id"]}, cid="start-0001")
    await chair.call("subscribe", {"stream": f"meeting:{meeting['id']}"})
    from accounts.identity import identity_for_user

    await database_sync_to_async(actions.add_remark)(
        identity=identity_for_user(people["member"]), meeting_id=meeting["id"], text="王书记传达了会议精神")
    remark = await events(chair, "remark.added")
    assert remark["data"]["text"] == "王书记传达了会议精神"


async def test_every_meetings_op_refuses_outsiders_and_anonymous_sockets(connect, people, tree):  # noqa: F811
    from realtime.ops import registered_ops

    chair, meeting = await scheduled(connect, people, tree)
    mid = meeting["id"]
    created = await chair.call("meetings.vote.create", {"meeting": mid, "kind": "motion", "title": "t",
                                                        "secret": False}, cid="vote-00001")
    vote = created["data"]["vote"]["id"]
    member = await connect(people["probationary"])
    leave = (await member.call("meetings.leave.request", {"meeting": mid, "reason": "病"}, cid="leave-0001"))
    leave_id = leave["data"]["leave"]["id"]
    who = people["member"].pk
    args = {
        "meetings.list": {"branch": tree["a"].pk},
        "meetings.get": {"meeting": mid},
        "meetings.attendance": {"meeting": mid},
        "meetings.schedule": {"branch": tree["a"].pk, "kind": "general", "title": "t", "starts_at": "2026-11-28T09:00",
                              "ends_at": "2026-11-28T10:00", "chair": who},
        "meetings.update": {"meeting": mid, "title": "x"},
        "meetings.cancel": {"meeting": mid},
        "meetings.agenda.set": {"meeting": mid, "items": [{"title": "x"}]},
        "meetings.open": {"meeting": mid},
        "meetings.start": {"meeting": mid},
        "meetings.end": {"meeting": mid},
        "meetings.join": {"meeting": mid},
        "meetings.lobby.decide": {"meeting": mid, "user": who, "admit": True},
        "meetings.lock": {"meeting": mid, "locked": True},
        "meetings.agenda.advance": {"meeting": mid},
        "meetings.mute": {"meeting": mid, "muted": True},
        "meetings.remove": {"meeting": mid, "user": who},
        "meetings.hand.raise": {"meeting": mid},
        "meetings.hand.lower": {"meeting": mid},
        "meetings.floor.give": {"meeting": mid, "user": who},
        "meetings.room.check_in": {"meeting": mid, "user": who},
        "meetings.room.check_out": {"meeting": mid, "user": who},
        "meetings.react": {"meeting": mid, "emoji": "👍"},
        "meetings.chat.send": {"meeting": mid, "body": "x"},
        "meetings.chat.hide": {"meeting": mid, "message": 1},
        "meetings.remark.add": {"meeting": mid, "text": "x"},
        "meetings.minutes.sign": {"meeting": mid},
        "meetings.minutes.reopen": {"meeting": mid, "reason": "x"},
        "meetings.leave.request": {"meeting": mid, "reason": "x"},
        "meetings.leave.withdraw": {"meeting": mid},
        "meetings.leave.decide": {"leave": leave_id, "approve": True},
        "meetings.exclusion.add": {"meeting": mid, "user": who, "reason": "abroad"},
        "meetings.exclusion.remove": {"meeting": mid, "user": who},
        "meetings.vote.create": {"meeting": mid, "kind": "motion", "title": "t", "secret": True},
        "meetings.vote.written_opinion": {"vote": vote, "user": who, "choice": "yes"},
        "meetings.vote.hands": {"vote": vote, "user": who, "choice": "yes"},
        "meetings.vote.paper_issue": {"vote": vote, "users": [who]},
        "meetings.vote.paper_take_back": {"vote": vote, "user": who},
        "meetings.vote.paper_count": {"vote": vote, "returned": 1, "counts": {"yes": 1}},
        "meetings.vote.open": {"vote": vote},
        "meetings.vote.cast": {"vote": vote, "choice": "yes"},
        "meetings.vote.close": {"vote": vote},
    }
    assert set(args) == {name for name in registered_ops() if name.startswith("meetings.")}
    outsider = await connect(people["outsider"])
    other = await connect(people["other_secretary"])
    anonymous = await connect()
    for i, (op, op_args) in enumerate(sorted(args.items())):
        writes = registered_ops()[op].writes
        cid = f"sweep-{i:05d}" if writes else None
        assert (await outsider.call(op, op_args, cid=cid))["code"] == "not_found", op
        assert (await other.call(op, op_args, cid=cid))["code"] == "not_found", op
        assert (await anonymous.call(op, op_args, cid=cid))["code"] == "unauthenticated", op
    # Nothing changed for the meeting.
    again = await chair.call("meetings.get", {"meeting": mid})
    assert again["data"]["meeting"]["status"] == "scheduled" and again["data"]["meeting"]["title"] == "十一月支部党员大会"


async def test_the_calendar_lists_a_branchs_meetings_in_a_window(connect, people, tree):  # noqa: F811
    chair, meeting = await scheduled(connect, people, tree)
    member = await connect(people["probationary"])
    listed = await member.call("meetings.list", {"branch": tree["a"].pk})
    assert [m["id"] for m in listed["data"]["meetings"]] == [meeting["id"]]
    assert listed["data"]["meetings"][0]["you_expected"] is True and listed["data"]["meetings"][0]["expected"] == 4
    window = {"branch": tree["a"].pk, "from": "2000-01-01T00:00+08:00", "to": "2000-02-01T00:00+08:00"}
    assert (await member.call("meetings.list", window))["data"]["meetings"] == []
    naive = await member.call("meetings.list", {"branch": tree["a"].pk, "from": "2000-01-01T00:00"})
    assert naive["code"] == "bad_request" and naive["details"]["field"] == "from"
    assert (await member.call("meetings.list", {"branch": tree["b"].pk}))["code"] == "not_found"
