"""Every forum op against every role, and exactly which events each one publishes where.

One row per action: the op, its arguments in a small forum (tests/permission_world.py),
what each of the six roles gets (`ok` or the error code), and, for `ok`, the events in
the order they are appended, as (stream, type). A refused op must append nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from accounts.models import Membership
from forum.models import Post, Topic
from realtime.streams import parse_stream_key
from tests.permission_world import ROLES, World, matrix, run_op  # noqa: F401  fixtures
from tests.permission_world import world as world  # noqa: F401  the module-wide fixture behind `matrix`

pytestmark = pytest.mark.django_db


def outcomes(outsider, citizen, probationary, member, moderator, other_secretary) -> dict[str, str]:
    return dict(outsider=outsider, citizen=citizen, probationary=probationary, member=member, moderator=moderator,
                other_secretary=other_secretary)


# Who may do what, by where it happens.
WRITE_IN_MEMBERS_BOARD = outcomes("not_found", "not_found", "ok", "ok", "ok", "not_found")
WRITE_IN_PUBLIC_BOARD = outcomes("forbidden", "ok", "ok", "ok", "ok", "forbidden")
WRITE_IN_PUBLIC_NO_CITIZENS = outcomes("forbidden", "forbidden", "ok", "ok", "ok", "forbidden")
MODERATE_MEMBERS_BOARD = outcomes("not_found", "unauthenticated", "forbidden", "forbidden", "ok", "not_found")
MODERATE_PUBLIC_BOARD = outcomes("forbidden", "unauthenticated", "forbidden", "forbidden", "ok", "forbidden")
READ_MEMBERS_BOARD = outcomes("not_found", "not_found", "ok", "ok", "ok", "not_found")
MEMBERS_ONLY_USER_OP = outcomes("not_found", "unauthenticated", "ok", "ok", "ok", "not_found")


def topic_of(w, key="topic"):
    return f"topic:{w[key]}"


def board_of(w, key="members"):
    return f"board:{w[f'board_{key}']}"


def queue_of(w):
    return f"modqueue:{w['branch']}"


def new_topic_posted(board: str):
    """A visible first post: its topic's stream, then the board hears of the topic."""
    return lambda w, reply, role: [(f"topic:{reply['topic']['id']}", "post.created"),
                                   (board_of(w, board), "topic.created")]


def post_in(topic_key: str, board: str = "members"):
    return lambda w, reply, role: [(topic_of(w, topic_key), "post.created"), (board_of(w, board), "topic.updated")]


def citizens_wait(events):
    """Citizens' posts always wait for review: only the queue hears of them."""
    return lambda w, reply, role: [(queue_of(w), "review.updated")] if role == "citizen" else events(w, reply, role)


def topic_tool(topic_key: str = "topic", board: str = "members"):
    """A moderator's tool: the small-action line, the topic, the board."""
    return lambda w, reply, role: [(topic_of(w, topic_key), "post.created"), (topic_of(w, topic_key), "topic.updated"),
                                   (board_of(w, board), "topic.updated")]


def nothing(w, reply, role):
    return []


def in_two_days() -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() + timedelta(days=2)).isoformat()


def branch_members(w) -> list[int]:
    return sorted(set(Membership.objects.filter(branch_id=w["branch"]).values_list("user_id", flat=True)))


@dataclass(frozen=True)
class Row:
    op: str
    args: Callable[[World], dict]
    expect: dict[str, str]
    events: Callable[[World, dict, str], list[tuple[str, str]]] = nothing


ROWS: dict[str, Row] = {
    # -- topics and posts --------------------------------------------------------------
    "create topic, members board": Row(
        "forum.create_topic", lambda w: {"board": w["board_members"], "title": "新主题", "body": "正文"},
        WRITE_IN_MEMBERS_BOARD, new_topic_posted("members")),
    "create topic, public board open to citizens": Row(
        "forum.create_topic", lambda w: {"board": w["board_public"], "title": "新主题", "body": "正文"},
        WRITE_IN_PUBLIC_BOARD, citizens_wait(new_topic_posted("public"))),
    "create topic, public board closed to citizens": Row(
        "forum.create_topic", lambda w: {"board": w["board_public_closed"], "title": "新主题", "body": "正文"},
        WRITE_IN_PUBLIC_NO_CITIZENS, new_topic_posted("public_closed")),
    "create topic, another branch's board": Row(
        "forum.create_topic", lambda w: {"board": w["board_other"], "title": "新主题", "body": "正文"},
        outcomes("not_found", "not_found", "not_found", "not_found", "not_found", "ok"), new_topic_posted("other")),
    "reply, members board": Row(
        "forum.post", lambda w: {"topic": w["topic"], "body": "回复", "reply_to": w["mod_post"]},
        WRITE_IN_MEMBERS_BOARD, post_in("topic")),
    "reply, public board open to citizens": Row(
        "forum.post", lambda w: {"topic": w["public_topic"], "body": "回复"},
        WRITE_IN_PUBLIC_BOARD, citizens_wait(post_in("public_topic", "public"))),
    "reply, public board closed to citizens": Row(
        "forum.post", lambda w: {"topic": w["public_closed_topic"], "body": "回复"},
        WRITE_IN_PUBLIC_NO_CITIZENS, post_in("public_closed_topic", "public_closed")),
    "reply, closed topic": Row(
        "forum.post", lambda w: {"topic": w["closed_topic"], "body": "回复"},
        outcomes("not_found", "not_found", "forbidden", "forbidden", "ok", "not_found"), post_in("closed_topic")),
    "reply, open topic discussion": Row(
        "forum.post", lambda w: {"topic": w["discussion_topic"], "body": "我的看法"},
        WRITE_IN_MEMBERS_BOARD,
        lambda w, reply, role: [*post_in("discussion_topic")(w, reply, role),
                                (topic_of(w, "discussion_topic"), "discussion.counts")]),
    "edit the member's post": Row(
        "forum.edit", lambda w: {"post": w["member_post"], "body": "再改一次"},
        outcomes("not_found", "not_found", "forbidden", "ok", "ok", "not_found"),
        lambda w, reply, role: [(topic_of(w), "post.edited")]),
    "edit the citizen's pending post": Row(
        "forum.edit", lambda w: {"post": w["citizen_post"], "body": "补充说明"},
        outcomes("not_found", "ok", "not_found", "not_found", "ok", "not_found")),
    "delete the member's post": Row(
        "forum.delete", lambda w: {"post": w["member_post"]},
        outcomes("not_found", "not_found", "forbidden", "ok", "ok", "not_found"),
        lambda w, reply, role: [(topic_of(w), "post.deleted")]),
    "restore the member's deleted post": Row(
        "forum.restore", lambda w: {"post": w["deleted_post"]},
        outcomes("not_found", "unauthenticated", "not_found", "forbidden", "ok", "not_found"),
        lambda w, reply, role: [(topic_of(w), "post.restored")]),
    "react, members board": Row(
        "forum.react", lambda w: {"post": w["mod_post"], "emoji": "👍"},
        outcomes("not_found", "unauthenticated", "ok", "ok", "ok", "not_found"),
        lambda w, reply, role: [(topic_of(w), "post.reactions")]),
    "react, public board": Row(
        "forum.react", lambda w: {"post": w["public_post"], "emoji": "👍"},
        outcomes("forbidden", "unauthenticated", "ok", "ok", "ok", "forbidden"),
        lambda w, reply, role: [(topic_of(w, "public_topic"), "post.reactions")]),
    "see a post's earlier versions": Row(
        "forum.revisions", lambda w: {"post": w["member_post"]}, MODERATE_MEMBERS_BOARD),
    # -- topic management ------------------------------------------------------------------
    "pin": Row("forum.pin", lambda w: {"topic": w["topic"], "value": True}, MODERATE_MEMBERS_BOARD, topic_tool()),
    "pin, public board": Row("forum.pin", lambda w: {"topic": w["public_topic"], "value": True},
                             MODERATE_PUBLIC_BOARD, topic_tool("public_topic", "public")),
    "close": Row("forum.close", lambda w: {"topic": w["topic"], "value": True}, MODERATE_MEMBERS_BOARD, topic_tool()),
    "reopen": Row("forum.close", lambda w: {"topic": w["closed_topic"], "value": False}, MODERATE_MEMBERS_BOARD,
                  topic_tool("closed_topic")),
    "slow mode": Row("forum.slow_mode", lambda w: {"topic": w["topic"], "seconds": 60}, MODERATE_MEMBERS_BOARD,
                     topic_tool()),
    "move to the public board": Row(
        "forum.move", lambda w: {"topic": w["topic"], "board": w["board_public"]}, MODERATE_MEMBERS_BOARD,
        lambda w, reply, role: [(board_of(w), "topic.removed"), (board_of(w, "public"), "topic.created"),
                                (topic_of(w), "post.created"), (topic_of(w), "topic.updated"),
                                (board_of(w, "public"), "topic.updated")]),
    "merge": Row(
        "forum.merge", lambda w: {"source": w["merge_source"], "target": w["topic"]}, MODERATE_MEMBERS_BOARD,
        lambda w, reply, role: [(topic_of(w, "merge_source"), "topic.merged"), (board_of(w), "topic.removed"),
                                (topic_of(w), "post.created"), (topic_of(w), "topic.updated"),
                                (board_of(w), "topic.updated")]),
    "split": Row(
        "forum.split", lambda w: {"topic": w["topic"], "posts": [w["member_post"]], "title": "另起一题"},
        MODERATE_MEMBERS_BOARD,
        lambda w, reply, role: [(topic_of(w), "posts.moved"), (board_of(w), "topic.created"),
                                (topic_of(w), "post.created"), (topic_of(w), "topic.updated"),
                                (board_of(w), "topic.updated")]),
    # -- topic discussions --------------------------------------------------------------------
    "open a topic discussion": Row(
        "forum.open_discussion",
        lambda w: {"board": w["board_members"], "title": "新讨论", "prompt": "请谈谈", "closes_at": in_two_days()},
        MODERATE_MEMBERS_BOARD,
        lambda w, reply, role: [
            (f"topic:{reply['topic']['id']}", "post.created"), (board_of(w), "topic.created"),
            (f"topic:{reply['topic']['id']}", "discussion.opened"), (f"topic:{reply['topic']['id']}", "topic.updated"),
            (board_of(w), "topic.updated"),
            *[(f"inbox:{user}", "discussion.opened") for user in branch_members(w)],
        ]),
    "close a topic discussion early": Row(
        "forum.close_discussion", lambda w: {"topic": w["discussion_topic"]}, MODERATE_MEMBERS_BOARD,
        lambda w, reply, role: [(topic_of(w, "discussion_topic"), "discussion.closed"),
                                (topic_of(w, "discussion_topic"), "topic.updated"), (board_of(w), "topic.updated")]),
    # -- reading and presence ------------------------------------------------------------------
    "mark a topic read": Row(
        "forum.mark_read", lambda w: {"topic": w["topic"], "number": 2}, MEMBERS_ONLY_USER_OP,
        lambda w, reply, role: [(f"inbox:{w['user_' + role]}", "topic.read")]),
    "typing, members board": Row("forum.typing", lambda w: {"topic": w["topic"]}, WRITE_IN_MEMBERS_BOARD),
    "typing, public board open to citizens": Row(
        "forum.typing", lambda w: {"topic": w["public_topic"]}, WRITE_IN_PUBLIC_BOARD),
    "next page of posts, members board": Row(
        "forum.posts", lambda w: {"topic": w["topic"], "after": 1}, READ_MEMBERS_BOARD),
    "next page of posts, public board": Row(
        "forum.posts", lambda w: {"topic": w["public_topic"], "after": 0}, outcomes(*["ok"] * 6)),
    "next page of topics, members board": Row(
        "forum.topics", lambda w: {"board": w["board_members"]}, READ_MEMBERS_BOARD),
    "board list": Row("forum.boards", lambda w: {"branch": w["branch"]}, outcomes(*["ok"] * 6)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ROWS))
def test_permission_matrix(matrix, action, role):  # noqa: F811
    row = ROWS[action]
    before = rows_now()
    outcome, reply, events = run_op(matrix.who[role], row.op, row.args(matrix))
    assert outcome == row.expect[role], f"{action} as {role}: {outcome}"
    if outcome == "ok":
        assert [(e.stream, e.type) for e in events] == row.events(matrix, reply, role)
    else:
        assert events == [], f"a refused {action} appended events"
        assert rows_now() == before, f"a refused {action} changed rows"


def rows_now() -> tuple:
    from moderation.models import AuditEntry, ReviewItem

    return (
        list(Post.objects.order_by("pk").values_list("pk", "status", "revision", "topic_id")),
        list(Topic.objects.order_by("pk").values_list("pk", "board_id", "pinned", "closed", "slow_mode_seconds")),
        ReviewItem.objects.count(), AuditEntry.objects.count(),
    )


def test_every_forum_op_is_in_the_matrix():
    from realtime.ops import registered_ops

    forum_ops = {name for name in registered_ops() if name.startswith("forum.")}
    covered = {row.op for row in ROWS.values()} | {"forum.search"}  # search: its own table below
    assert forum_ops == covered


# -- what each role reads: streams, boards, search -------------------------------------------


STREAMS = {
    # stream: who may subscribe (outsider, citizen, probationary, member, moderator, other_secretary)
    "board:{board_members}": (False, False, True, True, True, False),
    "board:{board_public}": (True, True, True, True, True, True),
    "topic:{topic}": (False, False, True, True, True, False),
    "topic:{public_topic}": (True, True, True, True, True, True),
    "modqueue:{branch}": (False, False, False, False, True, False),
}


@pytest.mark.parametrize("stream", list(STREAMS))
def test_who_may_subscribe(matrix, stream):  # noqa: F811
    key = stream.format(**matrix.ids)
    stream_type, object_id = parse_stream_key(key)
    assert tuple(stream_type.can_read(matrix.who[role], object_id) for role in ROLES) == STREAMS[stream]


def test_the_board_list_shows_each_role_what_it_may_read(matrix):  # noqa: F811
    names = {}
    for role in ROLES:
        reply = run_op(matrix.who[role], "forum.boards", {"branch": matrix["branch"]})[1]
        names[role] = {b["name"] for b in reply["boards"]}
    public = {"群众之声", "政策解读"}
    assert names == {"outsider": public, "citizen": public, "other_secretary": public,
                     "probationary": public | {"支部交流"}, "member": public | {"支部交流"},
                     "moderator": public | {"支部交流"}}


@pytest.mark.parametrize(
    "query, found_by",
    [
        # A members-board post, a public-board post, a post waiting for review, a hidden one.
        ("书记发言", ("probationary", "member", "moderator")),
        ("书记回复", ROLES),
        ("新人第一帖", ()),
        ("被隐藏的发言", ()),
    ],
)
def test_search_finds_only_what_each_role_may_read(matrix, query, found_by):  # noqa: F811
    found = {role for role in ROLES if run_op(matrix.who[role], "forum.search", {"q": query})[1]["hits"]}
    assert found == set(found_by)
