"""话题讨论: scheduled opening, automatic closing with a summary, idempotent across processes."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from forum import actions
from forum.discussions import close_discussion, discussion_data, open_discussion, run_due_discussions
from forum.models import Discussion, Topic
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from realtime.testing import capture_events
from tests.realtime.conftest import connect  # noqa: F401  the real ASGI stack fixture

pytestmark = pytest.mark.django_db


def test_only_moderators_open_discussions(identities, boards):
    with pytest.raises(Forbidden):
        open_discussion(identity=identities["member"], board=boards["members"], title="t", prompt="p",
                        opens_at=None, closes_at=timezone.now() + timedelta(hours=1))


def test_closing_must_follow_opening(identities, boards):
    now = timezone.now()
    with pytest.raises(Invalid):
        open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                        opens_at=now + timedelta(hours=2), closes_at=now + timedelta(hours=1))


def test_an_immediate_discussion_opens_and_notifies_members(identities, boards, people):
    with capture_events() as captured:
        discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="如何改进停车",
                                     prompt="请谈谈看法", opens_at=None, closes_at=timezone.now() + timedelta(hours=1))
    assert discussion.status == "open"
    assert not Topic.objects.get(pk=discussion.topic_id).closed
    notified = {e.stream for e in captured if e.type == "discussion.opened" and e.stream.startswith("inbox:")}
    assert f"inbox:{people['member'].pk}" in notified and f"inbox:{people['outsider'].pk}" not in notified


def test_a_scheduled_discussion_opens_then_locks_itself_with_a_summary(identities, boards):
    now = timezone.now()
    discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                                 opens_at=now + timedelta(minutes=10), closes_at=now + timedelta(minutes=70))
    assert discussion.status == "scheduled" and Topic.objects.get(pk=discussion.topic_id).closed
    assert run_due_discussions(now=now) == 0
    assert run_due_discussions(now=now + timedelta(minutes=11)) == 1
    topic = Topic.objects.get(pk=discussion.topic_id)
    assert not topic.closed
    first = actions.create_post(identity=identities["secretary"], topic_id=topic.pk, body="我的看法")
    actions.toggle_reaction(identity=identities["moderator"], post_id=first.pk, emoji="👍")
    with capture_events() as captured:
        assert run_due_discussions(now=now + timedelta(minutes=71)) == 1
    discussion.refresh_from_db()
    assert discussion.status == "closed"
    assert discussion.summary == {"participants": 2, "posts": 2, "most_reacted": [
        {"post": first.pk, "reactions": 1, "number": first.number, "author": "Secretary"}]}
    assert Topic.objects.get(pk=topic.pk).closed
    assert "discussion.closed" in [e.type for e in captured]
    assert run_due_discussions(now=now + timedelta(minutes=72)) == 0  # already done: nothing twice


def test_a_discussion_whose_whole_window_passed_while_down_opens_and_closes(identities, boards):
    now = timezone.now()
    discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                                 opens_at=now + timedelta(minutes=1), closes_at=now + timedelta(minutes=2))
    assert run_due_discussions(now=now + timedelta(hours=5)) == 1
    assert Discussion.objects.get(pk=discussion.pk).status == "closed"


def test_while_open_every_visible_post_change_publishes_live_counts(identities, boards):
    moderator, member = identities["moderator"], identities["member"]
    discussion = open_discussion(identity=moderator, board=boards["members"], title="t", prompt="请发言",
                                 opens_at=None, closes_at=timezone.now() + timedelta(hours=1))
    topic_id = discussion.topic_id
    assert discussion_data(discussion)["counts"] == {"participants": 1, "posts": 1}  # the prompt
    with capture_events() as captured:
        mine = actions.create_post(identity=moderator, topic_id=topic_id, body="补充一点")
        second = actions.create_post(identity=identities["secretary"], topic_id=topic_id, body="我赞成")
    counts = [e.data for e in captured if e.type == "discussion.counts"]
    assert counts == [{"topic": topic_id, "participants": 1, "posts": 2},
                      {"topic": topic_id, "participants": 2, "posts": 3}]
    assert {e.stream for e in captured if e.type == "discussion.counts"} == {f"topic:{topic_id}"}
    # A member's first posts wait for review: not counted until approved.
    with capture_events() as captured:
        actions.create_post(identity=member, topic_id=topic_id, body="待审")
    assert "discussion.counts" not in [e.type for e in captured]
    with capture_events() as captured:
        actions.delete_post(identity=moderator, post_id=second.pk)
        actions.restore_post(identity=moderator, post_id=second.pk)
        actions.delete_post(identity=moderator, post_id=mine.pk)
    assert [e.data for e in captured if e.type == "discussion.counts"] == [
        {"topic": topic_id, "participants": 1, "posts": 2},
        {"topic": topic_id, "participants": 2, "posts": 3},
        {"topic": topic_id, "participants": 2, "posts": 2},
    ]


def test_no_counts_outside_an_open_discussion(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    with capture_events() as captured:
        actions.create_post(identity=identities["moderator"], topic_id=topic.pk, body="x")
    assert "discussion.counts" not in [e.type for e in captured]


def test_a_scheduled_discussion_shows_on_the_board_as_closed_until_it_opens(identities, boards):
    now = timezone.now()
    with capture_events() as captured:
        discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="t",
                                     prompt="p", opens_at=now + timedelta(minutes=5),
                                     closes_at=now + timedelta(hours=1))
    board = f"board:{boards['members'].pk}"
    on_board = [(e.type, e.data.get("closed"), e.data.get("discussion")) for e in captured if e.stream == board]
    assert on_board == [("topic.created", False, None), ("topic.updated", True, "scheduled")]
    with capture_events() as captured:
        run_due_discussions(now=now + timedelta(minutes=6))
    assert [(e.type, e.data["closed"], e.data["discussion"]) for e in captured if e.stream == board] == [
        ("topic.updated", False, "open")]
    assert Discussion.objects.get(pk=discussion.pk).status == "open"


@pytest.mark.parametrize("who, error", [("member", Forbidden), ("probationary", Forbidden),
                                         ("outsider", NotFound), ("other_secretary", NotFound)])
def test_only_moderators_close_a_discussion_early(identities, boards, who, error):
    discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                                 opens_at=None, closes_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(error):
        close_discussion(identity=identities[who], topic_id=discussion.topic_id)
    assert Discussion.objects.get(pk=discussion.pk).status == "open"


def test_a_moderator_closes_a_discussion_early_with_its_summary(identities, boards):
    discussion = open_discussion(identity=identities["moderator"], board=boards["members"], title="t", prompt="p",
                                 opens_at=None, closes_at=timezone.now() + timedelta(hours=1))
    topic_id = discussion.topic_id
    with capture_events() as captured:
        closed = close_discussion(identity=identities["secretary"], topic_id=topic_id)
    assert closed.status == "closed" and closed.closes_at <= timezone.now()
    assert closed.summary == {"participants": 1, "posts": 1, "most_reacted": []}
    assert Topic.objects.get(pk=topic_id).closed
    assert [(e.stream, e.type) for e in captured] == [
        (f"topic:{topic_id}", "discussion.closed"), (f"topic:{topic_id}", "topic.updated"),
        (f"board:{boards['members'].pk}", "topic.updated"),
    ]
    assert AuditEntry.objects.filter(action="discussion.close", target_id=topic_id).count() == 1
    with pytest.raises(Conflict):
        close_discussion(identity=identities["moderator"], topic_id=topic_id)
    assert run_due_discussions(now=timezone.now() + timedelta(hours=2)) == 0  # nothing left to close


def test_closing_a_topic_that_is_no_discussion_is_not_found(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    with pytest.raises(NotFound):
        close_discussion(identity=identities["moderator"], topic_id=topic.pk)


@pytest.mark.django_db(transaction=True)
async def test_the_op_reads_times_without_an_offset_in_the_branchs_zone(connect, people, boards):  # noqa: F811
    from channels.db import database_sync_to_async

    moderator = await connect(people["moderator"])
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    reply = await moderator.call("forum.open_discussion", {
        "board": boards["members"].pk, "title": "周末活动", "prompt": "请报名",
        "opens_at": f"{tomorrow}T09:00", "closes_at": f"{tomorrow}T21:30",
    }, cid="disc-0000001")
    data = reply["data"]["discussion"]
    assert data["status"] == "scheduled"
    stored = await database_sync_to_async(Discussion.objects.get)(topic_id=data["topic"])
    assert stored.opens_at == datetime(tomorrow.year, tomorrow.month, tomorrow.day, 1, 0, tzinfo=dt_timezone.utc)
    assert stored.closes_at == datetime(tomorrow.year, tomorrow.month, tomorrow.day, 13, 30, tzinfo=dt_timezone.utc)
    # With an offset it is taken as given; nonsense is a clear field error.
    bad = await moderator.call("forum.open_discussion", {
        "board": boards["members"].pk, "title": "t", "prompt": "p", "closes_at": "明天"}, cid="disc-0000002")
    assert bad["code"] == "bad_request" and bad["details"]["field"] == "closes_at"
    member = await connect(people["member"])
    refused = await member.call("forum.open_discussion", {
        "board": boards["members"].pk, "title": "t", "prompt": "p", "closes_at": f"{tomorrow}T21:30",
    }, cid="disc-0000003")
    assert refused["code"] == "forbidden"
    closed = await moderator.call("forum.close_discussion", {"topic": data["topic"]}, cid="disc-0000004")
    assert closed["code"] == "conflict"  # scheduled, not open yet
