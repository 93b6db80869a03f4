"""A small forum, built through the actions, for the permission matrices.

Roles (the issue's six): an outsider (a logged-in user of no branch), a citizen (token
identity), a probationary member, a member, a moderator, and the secretary of another
branch. The member and the probationary member are past pre-moderation here (three
approved posts each), so the matrix shows what their role allows, not what a newcomer's
first posts do (tests/forum/test_posting.py covers that).

Ops run as the consumer runs them (realtime/consumer.py): the op's audience check, its
strict arguments, then the handler, inside run_once for writes, with the events it
appends captured.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.actions import create_citizen
from accounts.identity import Identity, identity_for_citizen, identity_for_user
from forum import actions as forum
from forum import topic_management
from forum.discussions import open_discussion
from forum.models import Board, Post
from moderation import actions as moderation
from moderation.models import ReviewItem, WatchedWord
from realtime.errors import OpError
from realtime.idempotency import run_once
from realtime.ops import OpContext, check_audience, get_op, parse_args
from realtime.testing import capture_events

ROLES = ("outsider", "citizen", "probationary", "member", "moderator", "other_secretary")

_cids = itertools.count(1)


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)
    who: dict[str, Identity] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.ids[key]


def _established(identity: Identity, topic_id: int) -> None:
    for n in range(3):
        post = forum.create_post(identity=identity, topic_id=topic_id, body=f"暖场发言 {n}")
        Post.objects.filter(pk=post.pk).update(status=Post.Status.VISIBLE)


def _people():
    """As tests/conftest.py's tree and people fixtures (those are per test; this is per module)."""
    from django.contrib.auth import get_user_model

    from accounts.models import Branch, Membership

    committee = Branch.objects.create(name="党委", kind=Branch.Kind.COMMITTEE)
    a = Branch.objects.create(name="第一党支部", kind=Branch.Kind.BRANCH, parent=committee)
    b = Branch.objects.create(name="第二党支部", kind=Branch.Kind.BRANCH, parent=committee)
    tree = {"committee": committee, "a": a, "b": b}

    def make_user(username, *, branch=None, roles=()):
        user = get_user_model().objects.create_user(username, password=None, first_name=username.title())
        for role in roles:
            Membership.objects.create(user=user, branch=branch, role=role)
        return user

    people = {
        "secretary": make_user("secretary", branch=a, roles=("secretary", "full")),
        "member": make_user("member", branch=a, roles=("full",)),
        "probationary": make_user("probationary", branch=a, roles=("probationary",)),
        "moderator": make_user("moderator", branch=a, roles=("moderator", "full")),
        "other_secretary": make_user("other_secretary", branch=b, roles=("secretary", "full")),
        "outsider": make_user("outsider"),
    }
    return tree, people, make_user


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Built once per test module inside a transaction that is rolled back at the end;
    each test runs in a savepoint of its own (the `matrix` fixture), as Django's
    TestCase.setUpTestData does: the tables run in seconds, not minutes."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            tree, people, make_user = _people()
            yield build_world(tree, people, make_user)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def matrix(world, db) -> World:
    """The module's world; the test's own transaction (`db`, a savepoint inside the
    module's) undoes whatever the test does. Test modules using it are marked django_db,
    which also makes pytest-django create the test database for them."""
    return world


def build_world(tree, people, make_user) -> World:
    a, b = tree["a"], tree["b"]
    w = World()
    citizen = identity_for_citizen(create_citizen(display_name="王阿姨")[0])
    newbie = make_user("newbie", branch=a, roles=("full",))
    who = {name: identity_for_user(user) for name, user in people.items()}
    who["citizen"] = citizen
    who["newbie"] = identity_for_user(newbie)
    w.who = who
    mod, sec = who["moderator"], who["secretary"]

    boards = {
        "members": Board.objects.create(branch=a, name="支部交流"),
        "public": Board.objects.create(branch=a, name="群众之声", visibility="public", citizens_may_post=True),
        "public_closed": Board.objects.create(branch=a, name="政策解读", visibility="public"),
        "other": Board.objects.create(branch=b, name="二支部交流"),
    }
    for key, board in boards.items():
        w.ids[f"board_{key}"] = board.pk
    w.ids["branch"] = a.pk
    for name in ("secretary", "member", "probationary", "moderator", "newbie", "outsider", "other_secretary"):
        w.ids[f"user_{name}"] = people[name].pk if name in people else newbie.pk

    warm, _ = forum.create_topic(identity=mod, board=boards["members"], title="暖场", body="欢迎")
    _established(who["member"], warm.pk)
    _established(who["probationary"], warm.pk)

    topic, first = forum.create_topic(identity=mod, board=boards["members"], title="支部大会", body="请发言")
    w.ids.update(topic=topic.pk, mod_post=first.pk)
    w.ids["member_post"] = forum.create_post(identity=who["member"], topic_id=topic.pk, body="成员发言").pk
    w.ids["secretary_post"] = forum.create_post(identity=sec, topic_id=topic.pk, body="书记发言").pk
    w.ids["probationary_post"] = forum.create_post(identity=who["probationary"], topic_id=topic.pk, body="预备发言").pk
    deleted = forum.create_post(identity=who["member"], topic_id=topic.pk, body="删掉的发言")
    forum.delete_post(identity=who["member"], post_id=deleted.pk)
    w.ids["deleted_post"] = deleted.pk
    forum.edit_post(identity=who["member"], post_id=w["member_post"], body="成员发言（修改）")

    public, public_first = forum.create_topic(identity=mod, board=boards["public"], title="停车难", body="欢迎留言")
    w.ids.update(public_topic=public.pk, public_post=public_first.pk)
    w.ids["public_secretary_post"] = forum.create_post(identity=sec, topic_id=public.pk, body="书记回复").pk
    w.ids["citizen_post"] = forum.create_post(identity=citizen, topic_id=public.pk, body="请帮忙解决").pk
    closed_public, _ = forum.create_topic(identity=mod, board=boards["public_closed"], title="政策", body="解读")
    w.ids["public_closed_topic"] = closed_public.pk

    closed, _ = forum.create_topic(identity=mod, board=boards["members"], title="已关闭", body="b")
    topic_management.set_closed(identity=mod, topic_id=closed.pk, closed=True)
    w.ids["closed_topic"] = closed.pk
    source, _ = forum.create_topic(identity=mod, board=boards["members"], title="待合并", body="b")
    w.ids["merge_source"] = source.pk
    discussion = open_discussion(identity=mod, board=boards["members"], title="话题讨论", prompt="请谈谈",
                                 opens_at=None, closes_at=timezone.now() + timedelta(days=1))
    w.ids["discussion_topic"] = discussion.topic_id

    # The review queue: a newcomer's pending post, a flagged visible post, a hidden one.
    pending = forum.create_post(identity=who["newbie"], topic_id=topic.pk, body="新人第一帖")
    w.ids["pending_post"] = pending.pk
    w.ids["item_pending"] = ReviewItem.objects.get(target_id=pending.pk).pk
    flagged = forum.create_post(identity=sec, topic_id=topic.pk, body="被举报的发言")
    moderation.flag_target(identity=who["member"], target_type="forum.post", target_id=flagged.pk, reason="spam")
    w.ids["flagged_post"] = flagged.pk
    w.ids["item_flagged"] = ReviewItem.objects.get(target_id=flagged.pk).pk
    hidden = forum.create_post(identity=sec, topic_id=topic.pk, body="被隐藏的发言")
    moderation.flag_target(identity=mod, target_type="forum.post", target_id=hidden.pk, reason="offensive")
    w.ids["hidden_post"] = hidden.pk
    w.ids["item_hidden"] = ReviewItem.objects.get(target_id=hidden.pk).pk
    word = moderation.add_watched_word(identity=mod, branch_id=a.pk, pattern="代购", action="require_approval")
    w.ids["word"] = word.pk
    w.ids["global_word"] = WatchedWord.objects.create(branch=None, pattern="赌博", action="block").pk
    return w


def run_op(identity: Identity, name: str, args: dict) -> tuple[str, dict | None, list]:
    """(outcome, reply, events): outcome is "ok" or the error code."""
    spec = get_op(name)
    assert spec is not None, f"no op {name}"
    ctx = OpContext(identity=identity, client_id=None, connection_id="matrix-test")
    with capture_events() as captured:
        try:
            check_audience(spec, identity)
            parsed = parse_args(spec, args)
            if spec.writes:
                cid = f"matrix-{next(_cids):08d}"
                ctx = OpContext(identity=identity, client_id=cid, connection_id="matrix-test")
                reply = run_once(identity, cid, name, lambda: spec.handler(ctx, parsed))
            else:
                with transaction.atomic():
                    reply = spec.handler(ctx, parsed)
        except OpError as error:
            return error.code, None, list(captured)
    return "ok", reply, list(captured)
