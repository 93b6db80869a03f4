"""Revision history: every earlier version of an edited post, for moderators only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.actions import create_citizen
from accounts.identity import identity_for_citizen
from forum import actions
from forum.models import Post, PostRevision
from forum.selectors import post_revisions
from realtime.errors import Forbidden, NotFound
from realtime.frames import iso

from tests.realtime.conftest import connect  # noqa: F401, E402  the real ASGI stack fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(identities, boards):
    """A member's post edited twice: once by its author, once by a moderator."""
    member, moderator = identities["member"], identities["moderator"]
    topic, _ = actions.create_topic(identity=moderator, board=boards["members"], title="t", body="b")
    post = actions.create_post(identity=member, topic_id=topic.pk, body="第一版 **粗体**")
    Post.objects.filter(pk=post.pk).update(status=Post.Status.VISIBLE)
    actions.edit_post(identity=member, post_id=post.pk, body="第二版 @member")
    actions.edit_post(identity=moderator, post_id=post.pk, body="第三版（版主修改）")
    return Post.objects.get(pk=post.pk)


def test_moderators_see_every_version_oldest_first_with_who_replaced_it(edited, identities, people):
    history = post_revisions(identities["moderator"], edited.pk)
    assert history["post"] == edited.pk and history["number"] == edited.number
    versions = history["versions"]
    assert [v["revision"] for v in versions] == [1, 2, 3]
    assert [v["source"] for v in versions] == ["第一版 **粗体**", "第二版 @member", "第三版（版主修改）"]
    assert versions[0]["html"] == "<p>第一版 <strong>粗体</strong></p>"
    assert versions[1]["html"] == '<p>第二版 <span class="mention" data-user="member">@member</span></p>'
    assert [v["replaced_by"] and v["replaced_by"]["id"] for v in versions] == [
        people["member"].pk, people["moderator"].pk, None]
    rows = list(PostRevision.objects.filter(post=edited).order_by("revision"))
    assert versions[0]["written_at"] == iso(edited.created_at)
    assert versions[0]["replaced_at"] == iso(rows[0].created_at) == versions[1]["written_at"]
    assert versions[1]["replaced_at"] == iso(rows[1].created_at)
    assert versions[2]["written_at"] == iso(edited.edited_at) and versions[2]["replaced_at"] is None


def test_a_post_never_edited_has_one_version(identities, boards):
    topic, first = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="原文")
    assert [(v["revision"], v["source"]) for v in post_revisions(identities["secretary"], first.pk)["versions"]] == [
        (1, "原文")]


@pytest.mark.parametrize(
    "who, error",
    [
        ("member", Forbidden),  # the author: they know what they wrote; the history is for moderators
        ("probationary", Forbidden),
        ("outsider", NotFound),
        ("other_secretary", NotFound),
    ],
)
def test_only_moderators_of_the_branch_see_the_history(edited, identities, who, error):
    with pytest.raises(error):
        post_revisions(identities[who], edited.pk)


def test_secretaries_above_the_branch_see_it(edited, identities):
    assert len(post_revisions(identities["committee_secretary"], edited.pk)["versions"]) == 3


def test_on_a_public_board_readers_still_may_not_see_it(identities, boards):
    topic, first = actions.create_topic(identity=identities["moderator"], board=boards["public"], title="t", body="a")
    actions.edit_post(identity=identities["moderator"], post_id=first.pk, body="b")
    citizen = identity_for_citizen(create_citizen(display_name="王阿姨")[0])
    for who in (identities["outsider"], identities["other_secretary"], citizen):
        with pytest.raises(Forbidden):
            post_revisions(who, first.pk)


def test_an_edit_on_approval_is_in_the_history(identities, boards):
    from moderation.actions import review_item
    from moderation.models import ReviewItem

    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    pending = actions.create_post(identity=identities["probationary"], topic_id=topic.pk, body="原稿")
    item = ReviewItem.objects.get(target_id=pending.pk)
    review_item(identity=identities["moderator"], item_id=item.pk, version=item.version, decision="edit_approve",
                body="修改稿")
    versions = post_revisions(identities["moderator"], pending.pk)["versions"]
    assert [(v["source"], v["replaced_by"] and v["replaced_by"]["name"]) for v in versions] == [
        ("原稿", "Moderator"), ("修改稿", None)]
    assert timezone.now() - timedelta(minutes=1) < Post.objects.get(pk=pending.pk).edited_at


@pytest.mark.django_db(transaction=True)
async def test_the_op_answers_moderators_and_refuses_members(connect, people, identities, boards):  # noqa: F811
    from channels.db import database_sync_to_async

    topic, first = await database_sync_to_async(actions.create_topic)(
        identity=identities["moderator"], board=boards["members"], title="t", body="旧")
    await database_sync_to_async(actions.edit_post)(identity=identities["moderator"], post_id=first.pk, body="新")
    moderator = await connect(people["moderator"])
    reply = await moderator.call("forum.revisions", {"post": first.pk})
    assert [v["source"] for v in reply["data"]["versions"]] == ["旧", "新"]
    member = await connect(people["member"])
    assert (await member.call("forum.revisions", {"post": first.pk}))["code"] == "forbidden"
    outsider = await connect(people["outsider"])
    assert (await outsider.call("forum.revisions", {"post": first.pk}))["code"] == "not_found"
    assert (await moderator.call("forum.revisions", {"post": "1"}))["code"] == "bad_request"
