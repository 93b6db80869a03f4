"""How many database queries one forum write costs, through the real op handler.

Every write runs on the server's single database thread (realtime/batching.py), so its
query count sets how many posts per second a branch can make (bench/forum.py). These
tests run each op the way the consumer does (`run_once` around the registered handler,
idempotency record included), count the statements and fail when a change adds some.
The bounds are what the code does now; lower them when a query goes away.
Run with `-s` to see every statement.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import forum.streams  # noqa: F401  registers the forum ops
import moderation.streams  # noqa: F401  registers the moderation ops
from forum import actions
from forum.models import Post
from realtime.idempotency import run_once
from realtime.ops import OpContext, get_op, parse_args

pytestmark = pytest.mark.django_db

_cids = itertools.count(1)

# Upper bounds on the statements of one op (savepoints included: they are round trips).
# Before the trim (main at 6e917bc): reply 26, topic 31, edit 18, react 13, flag 18.
REPLY_MAX = 19
TOPIC_MAX = 21
EDIT_MAX = 17
REACT_MAX = 12
FLAG_MAX = 17


def run_op(identity, name: str, args: dict) -> tuple[dict, list[str]]:
    """Run an op as the consumer does; return its result and the SQL it sent."""
    spec = get_op(name)
    ctx = OpContext(identity=identity, client_id=f"count-{next(_cids):06d}", connection_id="test")
    parsed = parse_args(spec, args)
    with CaptureQueriesContext(connection) as captured:
        result = run_once(identity, ctx.client_id, name, lambda: spec.handler(ctx, parsed))
    statements = [q["sql"] for q in captured.captured_queries]
    print(f"\n== {name}: {len(statements)} queries")
    for n, sql in enumerate(statements, 1):
        print(f"{n:3d} {sql[:300]}")
    return result, statements


@pytest.fixture
def veteran(identities, boards):
    """The member, past pre-moderation (three approved posts), and a topic to reply in."""
    identity = identities["member"]
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="暖场", body="欢迎")
    for i in range(3):
        post = actions.create_post(identity=identity, topic_id=topic.pk, body=f"发言 {i}")
        Post.objects.filter(pk=post.pk).update(status=Post.Status.VISIBLE)
    return identity, topic


def test_a_reply_by_a_regular_member(veteran):
    identity, topic = veteran
    result, statements = run_op(identity, "forum.post", {"topic": topic.pk, "body": "同意 **楼上** 的意见"})
    assert result["post"]["status"] == "visible"
    assert len(statements) <= REPLY_MAX


def test_creating_a_topic(veteran, boards):
    identity, _topic = veteran
    result, statements = run_op(identity, "forum.create_topic",
                                {"board": boards["members"].pk, "title": "新主题", "body": "大家好"})
    assert result["post"]["status"] == "visible"
    assert len(statements) <= TOPIC_MAX


def test_edit_react_flag(veteran, identities):
    identity, topic = veteran
    mine = Post.objects.filter(topic=topic, author_id=identity.user_id).order_by("number").first()
    result, edit = run_op(identity, "forum.edit", {"post": mine.pk, "body": "改过的发言"})
    assert result["post"]["revision"] == 2
    result, react = run_op(identities["secretary"], "forum.react", {"post": mine.pk, "emoji": "👍"})
    assert result["added"] is True
    result, flag = run_op(identities["probationary"], "moderation.flag",
                          {"target_type": "forum.post", "target_id": mine.pk, "reason": "spam"})
    assert result["flagged"] is True
    assert len(edit) <= EDIT_MAX
    assert len(react) <= REACT_MAX
    assert len(flag) <= FLAG_MAX
