"""Flags, the review queue's decisions and its optimistic locking between moderators."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from forum import actions as forum
from forum.models import Post
from moderation import actions
from moderation.models import AuditEntry, ReviewItem, Silence
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from realtime.testing import capture_events
from tests.forum.conftest import boards  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(identities, boards):  # noqa: F811
    topic, _ = forum.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    return topic


@pytest.fixture
def visible_post(identities, topic):
    post = forum.create_post(identity=identities["member"], topic_id=topic.pk, body="成员发言")
    Post.objects.filter(pk=post.pk).update(status=Post.Status.VISIBLE)  # past pre-moderation
    post.refresh_from_db()
    return post


@pytest.fixture
def more_members(make_user, tree):
    from accounts.identity import identity_for_user

    return [identity_for_user(make_user(f"m{i}", branch=tree["a"], roles=("full",))) for i in range(3)]


def test_three_distinct_flaggers_hide_a_post_and_the_author_is_told(visible_post, more_members, identities):
    for flagger in more_members[:2]:
        actions.flag_target(identity=flagger, target_type="forum.post", target_id=visible_post.pk, reason="spam")
    assert Post.objects.get(pk=visible_post.pk).status == Post.Status.VISIBLE
    with capture_events() as captured:
        actions.flag_target(identity=more_members[2], target_type="forum.post", target_id=visible_post.pk,
                            reason="offensive")
    assert Post.objects.get(pk=visible_post.pk).status == Post.Status.HIDDEN
    streams = {(e.stream, e.type) for e in captured}
    assert (f"topic:{visible_post.topic_id}", "post.hidden") in streams
    assert (f"inbox:{identities['member'].user_id}", "post.hidden") in streams
    item = ReviewItem.objects.get(target_id=visible_post.pk)
    assert [r["flag"] for r in item.reasons if r["reason"] == "flag"] == ["spam", "spam", "offensive"]


def test_a_moderators_flag_hides_at_once(visible_post, identities):
    actions.flag_target(identity=identities["moderator"], target_type="forum.post", target_id=visible_post.pk,
                        reason="off_topic")
    assert Post.objects.get(pk=visible_post.pk).status == Post.Status.HIDDEN


def test_one_flag_per_person_and_other_needs_a_note(visible_post, more_members, identities):
    actions.flag_target(identity=more_members[0], target_type="forum.post", target_id=visible_post.pk, reason="spam")
    with pytest.raises(Conflict):
        actions.flag_target(identity=more_members[0], target_type="forum.post", target_id=visible_post.pk,
                            reason="spam")
    with pytest.raises(Invalid):
        actions.flag_target(identity=more_members[1], target_type="forum.post", target_id=visible_post.pk,
                            reason="other")
    with pytest.raises(Invalid):
        actions.flag_target(identity=identities["member"], target_type="forum.post", target_id=visible_post.pk,
                            reason="spam")  # your own post
    with pytest.raises(NotFound):
        actions.flag_target(identity=identities["outsider"], target_type="forum.post", target_id=visible_post.pk,
                            reason="spam")


def test_approving_a_pending_post_publishes_it(identities, topic):
    post = forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="新人发言")
    item = ReviewItem.objects.get(target_id=post.pk)
    with capture_events() as captured:
        actions.review_item(identity=identities["moderator"], item_id=item.pk, version=item.version, decision="approve")
    assert Post.objects.get(pk=post.pk).status == Post.Status.VISIBLE
    assert ("post.created", f"topic:{topic.pk}") in {(e.type, e.stream) for e in captured}
    assert (f"inbox:{identities['probationary'].user_id}", "post.approved") in {(e.stream, e.type) for e in captured}
    item.refresh_from_db()
    assert (item.status, item.version, item.history[-1]["decision"]) == ("approved", item.version, "approve")
    assert AuditEntry.objects.filter(action="review.approve", target_id=post.pk).exists()


def test_rejecting_needs_a_reason_and_tells_the_author(identities, topic):
    post = forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="新人发言")
    item = ReviewItem.objects.get(target_id=post.pk)
    with pytest.raises(Invalid):
        actions.review_item(identity=identities["moderator"], item_id=item.pk, version=item.version, decision="reject")
    with capture_events() as captured:
        actions.review_item(identity=identities["moderator"], item_id=item.pk, version=item.version,
                            decision="reject", reason="偏离主题")
    assert Post.objects.get(pk=post.pk).status == Post.Status.REJECTED
    notice = [e for e in captured if e.type == "post.rejected"][0]
    assert notice.data["reason"] == "偏离主题"


def test_edit_and_approve(identities, topic):
    post = forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="有错别字")
    item = ReviewItem.objects.get(target_id=post.pk)
    actions.review_item(identity=identities["moderator"], item_id=item.pk, version=item.version,
                        decision="edit_approve", body="改好了")
    post.refresh_from_db()
    assert (post.status, post.source, post.revision) == ("visible", "改好了", 2)


def test_silencing_an_author_stops_their_posts(identities, topic):
    post = forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="广告")
    item = ReviewItem.objects.get(target_id=post.pk)
    actions.review_item(identity=identities["moderator"], item_id=item.pk, version=item.version,
                        decision="silence", reason="发广告", silence_days=3)
    assert Silence.objects.filter(user_id=identities["probationary"].user_id).exists()
    with pytest.raises(Forbidden):
        forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="再发")


@pytest.mark.parametrize("who", ["member", "probationary", "other_secretary", "outsider"])
def test_only_the_branchs_moderators_review(identities, topic, who):
    post = forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="x")
    item = ReviewItem.objects.get(target_id=post.pk)
    with pytest.raises(NotFound):
        actions.review_item(identity=identities[who], item_id=item.pk, version=item.version, decision="approve")


def test_the_second_of_two_moderators_gets_a_conflict_with_the_new_state(identities, topic):
    post = forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="x")
    item = ReviewItem.objects.get(target_id=post.pk)
    actions.review_item(identity=identities["moderator"], item_id=item.pk, version=item.version, decision="approve")
    with pytest.raises(Conflict) as info:
        actions.review_item(identity=identities["secretary"], item_id=item.pk, version=item.version,
                            decision="reject", reason="no")
    assert info.value.details["item"]["status"] == "approved"
    assert Post.objects.get(pk=post.pk).status == Post.Status.VISIBLE


@pytest.mark.django_db(transaction=True)
def test_two_moderators_at_the_same_moment_one_wins(identities, topic):
    """Two threads, two database connections, the same version: exactly one decision lands."""
    post = forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="x")
    item = ReviewItem.objects.get(target_id=post.pk)
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def act(name: str, decision: str, reason: str) -> None:
        barrier.wait()
        try:
            actions.review_item(identity=identities[name], item_id=item.pk, version=item.version,
                                decision=decision, reason=reason)
            results[name] = "ok"
        except Conflict:
            results[name] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=("moderator", "approve", "")),
               threading.Thread(target=act, args=("secretary", "reject", "不合适"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["conflict", "ok"]
    item.refresh_from_db()
    assert item.version == 2 and len(item.history) == 1


def test_a_silenced_author_cannot_edit_their_earlier_posts_either(identities, visible_post):
    item_post = forum.create_post(identity=identities["member"], topic_id=visible_post.topic_id, body="广告")
    item = ReviewItem.objects.get(target_id=item_post.pk)
    actions.review_item(identity=identities["moderator"], item_id=item.pk, version=item.version,
                        decision="silence", reason="发广告", silence_days=3)
    with pytest.raises(Forbidden):
        forum.edit_post(identity=identities["member"], post_id=visible_post.pk, body="改成广告")
    assert Post.objects.get(pk=visible_post.pk).source == "成员发言"
    # Moderators still edit it.
    forum.edit_post(identity=identities["moderator"], post_id=visible_post.pk, body="版主修改")


def test_outsiders_may_read_a_public_post_but_not_flag_it(identities, boards):  # noqa: F811
    topic, first = forum.create_topic(identity=identities["moderator"], board=boards["public"], title="t", body="b")
    for who in ("outsider", "other_secretary"):
        with pytest.raises(Forbidden):
            actions.flag_target(identity=identities[who], target_type="forum.post", target_id=first.pk, reason="spam")
    assert not ReviewItem.objects.filter(target_id=first.pk).exists()
