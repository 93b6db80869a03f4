"""Topics and posts: who may write where, what is published where, moderation on the way in."""

from __future__ import annotations

import pytest

from accounts.actions import create_citizen
from accounts.identity import ANONYMOUS, identity_for_citizen
from forum import actions
from forum.models import Post, Topic
from moderation.models import AuditEntry, ReviewItem, WatchedWord
from realtime.errors import Forbidden, Invalid, NotFound, RateLimited
from realtime.testing import capture_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def veteran(identities, boards):
    """The member, past pre-moderation (three approved posts)."""
    identity = identities["member"]
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="暖场", body="欢迎")
    for i in range(3):
        post = actions.create_post(identity=identity, topic_id=topic.pk, body=f"发言 {i}")
        Post.objects.filter(pk=post.pk).update(status=Post.Status.VISIBLE)
    return identity


@pytest.mark.parametrize(
    "who, board, allowed",
    [
        ("member", "members", True), ("probationary", "members", True), ("moderator", "members", True),
        ("secretary", "members", True), ("other_secretary", "members", False), ("outsider", "members", False),
        ("member", "public", True), ("outsider", "public", False), ("member", "other", False),
    ],
)
def test_who_may_open_a_topic(identities, boards, who, board, allowed):
    if allowed:
        topic, post = actions.create_topic(identity=identities[who], board=boards[board], title="标题", body="正文")
        assert post.number == 1
    else:
        with pytest.raises(Forbidden):
            actions.create_topic(identity=identities[who], board=boards[board], title="标题", body="正文")
        assert not Topic.objects.exists()


def test_citizens_write_only_where_the_board_allows_and_always_wait_for_review(boards, db):
    citizen = identity_for_citizen(create_citizen(display_name="王阿姨")[0])
    topic, post = actions.create_topic(identity=citizen, board=boards["public"], title="小区停车难", body="请帮忙")
    assert post.status == Post.Status.PENDING
    assert ReviewItem.objects.get(target_id=post.pk).reasons == [{"reason": "citizen"}]
    with pytest.raises(Forbidden):
        actions.create_topic(identity=citizen, board=boards["public_closed"], title="t", body="b")
    with pytest.raises(Forbidden):
        actions.create_topic(identity=citizen, board=boards["members"], title="t", body="b")
    with pytest.raises(Forbidden):
        actions.create_topic(identity=ANONYMOUS, board=boards["public"], title="t", body="b")


def test_a_visible_post_is_published_on_the_topic_and_the_board(veteran, boards, identities):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    with capture_events() as captured:
        post = actions.create_post(identity=veteran, topic_id=topic.pk, body="我同意")
    assert post.status == Post.Status.VISIBLE
    assert [(e.stream, e.type) for e in captured] == [
        (f"topic:{topic.pk}", "post.created"),
        (f"board:{boards['members'].pk}", "topic.updated"),
    ]
    assert captured[0].data["number"] == 2


def test_the_first_posts_of_a_new_member_wait_for_review_and_are_not_published(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    with capture_events() as captured:
        post = actions.create_post(identity=identities["probationary"], topic_id=topic.pk, body="第一次发言")
    assert post.status == Post.Status.PENDING
    assert [(e.stream, e.type) for e in captured] == [(f"modqueue:{boards['members'].branch_id}", "review.updated")]
    assert Topic.objects.get(pk=topic.pk).post_count == 1


def test_the_pre_moderation_check_reads_a_bounded_number_of_a_members_posts(veteran, boards, identities):
    """A long-standing member's post must not cost a scan of their whole history."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    for i in range(5):
        actions.create_post(identity=veteran, topic_id=topic.pk, body=f"又一条 {i}")
    with CaptureQueriesContext(connection) as queries:
        post = actions.create_post(identity=veteran, topic_id=topic.pk, body="第九条")
    assert post.status == Post.Status.VISIBLE
    history = [q["sql"] for q in queries.captured_queries
               if 'FROM "forum_post"' in q["sql"] and '"forum_post"."author_id" =' in q["sql"]]
    assert len(history) == 1, history
    assert f"LIMIT {actions.PREMODERATE_FIRST_POSTS}" in history[0]
    assert "COUNT(" not in history[0].upper() and "ORDER BY" not in history[0].upper()


def test_blocked_words_refuse_the_post_naming_them(veteran, boards, identities):
    WatchedWord.objects.create(branch=boards["members"].branch, pattern="赌博", action="block")
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    with capture_events() as captured, pytest.raises(Invalid) as info:
        actions.create_post(identity=veteran, topic_id=topic.pk, body="网上赌博害人")
    assert "赌博" in info.value.message and info.value.field == "body"
    assert captured == []
    assert Post.objects.filter(topic=topic).count() == 1


def test_require_approval_words_queue_the_post(veteran, boards, identities):
    WatchedWord.objects.create(branch=None, pattern="代购", action="require_approval")
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    post = actions.create_post(identity=veteran, topic_id=topic.pk, body="有人要代购吗")
    assert post.status == Post.Status.PENDING
    assert ReviewItem.objects.get(target_id=post.pk).reasons == [{"reason": "watched_word", "words": ["代购"]}]


def test_flag_words_publish_then_queue(veteran, boards, identities):
    WatchedWord.objects.create(branch=boards["members"].branch, pattern="stupid", action="flag")
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    post = actions.create_post(identity=veteran, topic_id=topic.pk, body="that is stupid")
    assert post.status == Post.Status.VISIBLE
    assert ReviewItem.objects.get(target_id=post.pk).status == "pending"


def test_censored_words_are_masked_for_readers_and_kept_for_moderators(veteran, boards, identities):
    WatchedWord.objects.create(branch=boards["members"].branch, pattern="傻瓜", action="censor")
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    post = actions.create_post(identity=veteran, topic_id=topic.pk, body="你这个傻瓜")
    assert "■■" in post.to_dict()["html"] and "傻瓜" not in post.to_dict()["html"]
    assert "傻瓜" in post.to_dict(moderator=True)["html"]


def test_markup_renders_inert(veteran, boards, identities):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    post = actions.create_post(
        identity=veteran, topic_id=topic.pk,
        body="<img src=x onerror=alert(1)> [click](javascript:alert(1)) <script>alert(2)</script> **ok**",
    )
    assert "<img" not in post.html and "<script" not in post.html
    assert 'href="javascript' not in post.html
    assert "<strong>ok</strong>" in post.html


def test_closed_topics_refuse_members_but_not_moderators(veteran, boards, identities):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    Topic.objects.filter(pk=topic.pk).update(closed=True)
    with pytest.raises(Forbidden):
        actions.create_post(identity=veteran, topic_id=topic.pk, body="x")
    actions.create_post(identity=identities["moderator"], topic_id=topic.pk, body="x")


def test_slow_mode_spaces_a_members_posts(veteran, boards, identities):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    Topic.objects.filter(pk=topic.pk).update(slow_mode_seconds=60)
    actions.create_post(identity=veteran, topic_id=topic.pk, body="一")
    with pytest.raises(RateLimited) as info:
        actions.create_post(identity=veteran, topic_id=topic.pk, body="二")
    assert 0 < info.value.details["retry_after"] <= 61
    actions.create_post(identity=identities["moderator"], topic_id=topic.pk, body="版主不受限")
    actions.create_post(identity=identities["moderator"], topic_id=topic.pk, body="版主不受限")


def test_outsiders_cannot_see_a_members_topic(identities, boards):
    topic, _ = actions.create_topic(identity=identities["member"], board=boards["members"], title="t", body="b")
    with pytest.raises(NotFound):
        actions.create_post(identity=identities["outsider"], topic_id=topic.pk, body="x")


def test_edits_keep_revisions_and_moderator_edits_are_audited(veteran, boards, identities):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    post = actions.create_post(identity=veteran, topic_id=topic.pk, body="初稿")
    actions.edit_post(identity=veteran, post_id=post.pk, body="二稿")
    actions.edit_post(identity=identities["moderator"], post_id=post.pk, body="版主修改")
    post.refresh_from_db()
    assert post.revision == 3 and post.source == "版主修改"
    assert list(post.revisions.values_list("source", flat=True)) == ["初稿", "二稿"]
    assert AuditEntry.objects.get(action="post.edit").before == {"source": "二稿"}
    with pytest.raises(Forbidden):
        actions.edit_post(identity=identities["probationary"], post_id=post.pk, body="x")


def test_soft_delete_and_restore(veteran, boards, identities):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    post = actions.create_post(identity=veteran, topic_id=topic.pk, body="内容")
    with capture_events() as captured:
        actions.delete_post(identity=identities["moderator"], post_id=post.pk, reason="偏离主题")
    assert [e.type for e in captured] == ["post.deleted"]
    assert Topic.objects.get(pk=topic.pk).post_count == 1
    with pytest.raises(Forbidden):
        actions.restore_post(identity=veteran, post_id=post.pk)
    actions.restore_post(identity=identities["moderator"], post_id=post.pk)
    assert Post.objects.get(pk=post.pk).status == Post.Status.VISIBLE
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["post.delete", "post.restore"]


def test_reactions_toggle_and_publish_counts(veteran, boards, identities):
    topic, first = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    with capture_events() as captured:
        assert actions.toggle_reaction(identity=veteran, post_id=first.pk, emoji="👍")["reactions"] == {"👍": 1}
    assert captured[0].type == "post.reactions"
    assert actions.toggle_reaction(identity=veteran, post_id=first.pk, emoji="👍")["reactions"] == {}
    with pytest.raises(Invalid):
        actions.toggle_reaction(identity=veteran, post_id=first.pk, emoji="💩")
