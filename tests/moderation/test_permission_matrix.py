"""Every moderation op against every role, and exactly which events each one publishes.

Flags, each review-queue decision, the queue, watched words and the audit log, in the
small forum of tests/permission_world.py. A refused op appends nothing and changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from forum.models import Post
from moderation.models import AuditEntry, Flag, ReviewItem, Silence, WatchedWord
from tests.permission_world import ROLES, World, matrix, run_op  # noqa: F401  fixtures
from tests.permission_world import world as world  # noqa: F401  the module-wide fixture behind `matrix`

pytestmark = pytest.mark.django_db


def outcomes(outsider, citizen, probationary, member, moderator, other_secretary) -> dict[str, str]:
    return dict(outsider=outsider, citizen=citizen, probationary=probationary, member=member, moderator=moderator,
                other_secretary=other_secretary)


# The queue of a branch is its moderators' business: others do not learn an item exists.
REVIEW = outcomes("not_found", "unauthenticated", "not_found", "not_found", "ok", "not_found")
MODERATORS_PAGE = outcomes("forbidden", "unauthenticated", "forbidden", "forbidden", "ok", "forbidden")


def item(w: World, key: str) -> dict:
    row = ReviewItem.objects.get(pk=w[key])
    return {"item": row.pk, "version": row.version}


def T(w):
    return f"topic:{w['topic']}"


def B(w):
    return f"board:{w['board_members']}"


def Q(w):
    return f"modqueue:{w['branch']}"


def inbox(w, name):
    return f"inbox:{w['user_' + name]}"


@dataclass(frozen=True)
class Row:
    op: str
    args: Callable[[World], dict]
    expect: dict[str, str]
    events: Callable[[World, str], list[tuple[str, str]]] = lambda w, role: []


APPROVED_PENDING = lambda w, role: [  # noqa: E731
    (T(w), "post.created"), (B(w), "topic.updated"), (inbox(w, "newbie"), "post.approved"), (Q(w), "review.updated")]

ROWS: dict[str, Row] = {
    # -- flags ------------------------------------------------------------------------------
    "flag a post, members board": Row(
        "moderation.flag",
        lambda w: {"target_type": "forum.post", "target_id": w["secretary_post"], "reason": "off_topic"},
        outcomes("not_found", "unauthenticated", "ok", "ok", "ok", "not_found"),
        # A moderator's flag hides the post at once and tells its author.
        lambda w, role: [(Q(w), "review.updated")] + (
            [(T(w), "post.hidden"), (inbox(w, "secretary"), "post.hidden")] if role == "moderator" else [])),
    "flag a post, public board": Row(
        "moderation.flag",
        lambda w: {"target_type": "forum.post", "target_id": w["public_secretary_post"], "reason": "spam"},
        # Flags (three hide a post) are for the branch's members, not every reader.
        outcomes("forbidden", "unauthenticated", "ok", "ok", "ok", "forbidden"),
        lambda w, role: [(Q(w), "review.updated")] + (
            [(f"topic:{w['public_topic']}", "post.hidden"), (inbox(w, "secretary"), "post.hidden")]
            if role == "moderator" else [])),
    "flag one's own post": Row(
        "moderation.flag",
        lambda w: {"target_type": "forum.post", "target_id": w["member_post"], "reason": "spam"},
        outcomes("not_found", "unauthenticated", "ok", "bad_request", "ok", "not_found"),
        lambda w, role: [(Q(w), "review.updated")] + (
            [(T(w), "post.hidden"), (inbox(w, "member"), "post.hidden")] if role == "moderator" else [])),
    "flag a post waiting for review": Row(
        "moderation.flag",
        lambda w: {"target_type": "forum.post", "target_id": w["pending_post"], "reason": "spam"},
        outcomes("not_found", "unauthenticated", "not_found", "not_found", "ok", "not_found"),
        lambda w, role: [(Q(w), "review.updated")]),
    # -- review decisions ---------------------------------------------------------------------
    "approve a pending post": Row(
        "moderation.review", lambda w: {**item(w, "item_pending"), "decision": "approve"}, REVIEW, APPROVED_PENDING),
    "edit and approve a pending post": Row(
        "moderation.review", lambda w: {**item(w, "item_pending"), "decision": "edit_approve", "body": "改写后的内容"},
        REVIEW, APPROVED_PENDING),
    "reject a pending post": Row(
        "moderation.review", lambda w: {**item(w, "item_pending"), "decision": "reject", "reason": "与主题无关"},
        REVIEW, lambda w, role: [(inbox(w, "newbie"), "post.rejected"), (Q(w), "review.updated")]),
    "silence the author of a pending post": Row(
        "moderation.review",
        lambda w: {**item(w, "item_pending"), "decision": "silence", "reason": "广告", "silence_days": 3},
        REVIEW, lambda w, role: [(inbox(w, "newbie"), "post.rejected"), (Q(w), "review.updated")]),
    "delete a pending post": Row(
        "moderation.review", lambda w: {**item(w, "item_pending"), "decision": "delete"},
        REVIEW, lambda w, role: [(Q(w), "review.updated")]),
    "hide a flagged post": Row(
        "moderation.review", lambda w: {**item(w, "item_flagged"), "decision": "hide", "reason": "不当言论"},
        REVIEW, lambda w, role: [(T(w), "post.hidden"), (inbox(w, "secretary"), "post.hidden"),
                                 (Q(w), "review.updated")]),
    "ignore the flags on a post": Row(
        "moderation.review", lambda w: {**item(w, "item_flagged"), "decision": "ignore"},
        REVIEW, lambda w, role: [(Q(w), "review.updated")]),
    "delete a flagged post": Row(
        "moderation.review", lambda w: {**item(w, "item_flagged"), "decision": "delete", "reason": "广告"},
        REVIEW, lambda w, role: [(T(w), "post.deleted"), (Q(w), "review.updated")]),
    "restore a hidden post": Row(
        "moderation.review", lambda w: {**item(w, "item_hidden"), "decision": "restore"},
        REVIEW, lambda w, role: [(T(w), "post.restored"), (Q(w), "review.updated")]),
    "approve a hidden post": Row(
        "moderation.review", lambda w: {**item(w, "item_hidden"), "decision": "approve"},
        REVIEW, lambda w, role: [(T(w), "post.restored"), (Q(w), "review.updated")]),
    # -- the queue, watched words, the audit log ------------------------------------------------
    "read the review queue": Row("moderation.queue", lambda w: {"branch": w["branch"]}, MODERATORS_PAGE),
    "list watched words": Row("moderation.watched_words.list", lambda w: {"branch": w["branch"]}, MODERATORS_PAGE),
    "add a watched word": Row(
        "moderation.watched_words.add", lambda w: {"branch": w["branch"], "pattern": "传销", "action": "block"},
        MODERATORS_PAGE),
    "remove a watched word": Row(
        "moderation.watched_words.remove", lambda w: {"id": w["word"]},
        outcomes("not_found", "unauthenticated", "not_found", "not_found", "ok", "not_found")),
    "remove a global watched word": Row(
        "moderation.watched_words.remove", lambda w: {"id": w["global_word"]},
        outcomes("not_found", "unauthenticated", "not_found", "not_found", "not_found", "not_found")),
    "read the audit log": Row("moderation.audit", lambda w: {"branch": w["branch"]}, MODERATORS_PAGE),
}


def state_now() -> tuple:
    return (
        list(Post.objects.order_by("pk").values_list("pk", "status", "revision", "source")),
        list(ReviewItem.objects.order_by("pk").values_list("pk", "status", "version")),
        Flag.objects.count(), Silence.objects.count(), AuditEntry.objects.count(),
        list(WatchedWord.objects.order_by("pk").values_list("pk", "pattern", "action")),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ROWS))
def test_permission_matrix(matrix, action, role):  # noqa: F811
    row = ROWS[action]
    before = state_now()
    outcome, _reply, events = run_op(matrix.who[role], row.op, row.args(matrix))
    assert outcome == row.expect[role], f"{action} as {role}: {outcome}"
    if outcome == "ok":
        assert [(e.stream, e.type) for e in events] == row.events(matrix, role)
    else:
        assert events == [], f"a refused {action} appended events"
        assert state_now() == before, f"a refused {action} changed something"


def test_every_moderation_op_is_in_the_matrix():
    from realtime.ops import registered_ops

    ops = {name for name in registered_ops() if name.startswith("moderation.")}
    assert ops == {row.op for row in ROWS.values()}


def test_every_review_decision_is_in_the_matrix(matrix):  # noqa: F811
    from moderation.actions import DECISIONS

    assert {row.args(matrix)["decision"] for row in ROWS.values() if row.op == "moderation.review"} == set(DECISIONS)


@pytest.mark.parametrize(
    "action, audited",
    [
        ("approve a pending post", "review.approve"),
        ("silence the author of a pending post", "review.silence"),
        ("add a watched word", "watched_word.add"),
        ("remove a watched word", "watched_word.remove"),
        ("read the audit log", None),
        ("read the review queue", None),
    ],
)
def test_moderators_actions_leave_an_audit_entry_and_reads_do_not(matrix, action, audited):  # noqa: F811
    before = AuditEntry.objects.count()
    row = ROWS[action]
    assert run_op(matrix.who["moderator"], row.op, row.args(matrix))[0] == "ok"
    added = list(AuditEntry.objects.order_by("id").values_list("action", flat=True)[before:])
    assert added == ([audited] if audited else [])
