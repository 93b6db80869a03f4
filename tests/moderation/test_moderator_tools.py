"""Watched words managed by moderators, the queue listing, the audit log."""

from __future__ import annotations

import pytest

from forum import actions as forum
from moderation import actions, selectors
from moderation.models import WatchedWord
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from tests.forum.conftest import boards  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who, allowed", [("moderator", True), ("secretary", True), ("committee_secretary", True),
                                          ("member", False), ("other_secretary", False), ("outsider", False)])
def test_who_manages_watched_words(identities, tree, who, allowed):
    if allowed:
        word = actions.add_watched_word(identity=identities[who], branch_id=tree["a"].pk, pattern="代购", action="flag")
        assert word.pk
    else:
        with pytest.raises(Forbidden):
            actions.add_watched_word(identity=identities[who], branch_id=tree["a"].pk, pattern="代购", action="flag")


def test_an_invalid_pattern_is_refused_with_the_reason(identities, tree):
    with pytest.raises(Invalid) as info:
        actions.add_watched_word(identity=identities["moderator"], branch_id=tree["a"].pk, pattern="**", action="block")
    assert info.value.field == "pattern" and info.value.message
    with pytest.raises(Invalid):
        actions.add_watched_word(identity=identities["moderator"], branch_id=tree["a"].pk, pattern="x", action="nuke")
    actions.add_watched_word(identity=identities["moderator"], branch_id=tree["a"].pk, pattern="x", action="block")
    with pytest.raises(Conflict):
        actions.add_watched_word(identity=identities["moderator"], branch_id=tree["a"].pk, pattern="x", action="block")


def test_removing_a_word_is_audited_and_global_words_stay(identities, tree):
    word = actions.add_watched_word(identity=identities["moderator"], branch_id=tree["a"].pk, pattern="广告",
                                    action="censor")
    global_word = WatchedWord.objects.create(branch=None, pattern="赌博", action="block")
    with pytest.raises(NotFound):
        actions.remove_watched_word(identity=identities["moderator"], word_id=global_word.pk)
    with pytest.raises(NotFound):
        actions.remove_watched_word(identity=identities["other_secretary"], word_id=word.pk)
    actions.remove_watched_word(identity=identities["moderator"], word_id=word.pk)
    log = selectors.audit_log(identities["secretary"], tree["a"].pk)
    assert [e["action"] for e in log] == ["watched_word.remove", "watched_word.add"]
    assert [w["pattern"] for w in selectors.watched_words(identities["moderator"], tree["a"].pk)] == ["赌博"]


def test_the_queue_lists_pending_items_with_a_preview(identities, boards):  # noqa: F811
    topic, _ = forum.create_topic(identity=identities["moderator"], board=boards["members"], title="标题", body="b")
    forum.create_post(identity=identities["probationary"], topic_id=topic.pk, body="待审核的发言")
    items = selectors.queue(identities["moderator"], boards["members"].branch_id)
    assert [(i["status"], i["target"]["source"], i["target"]["title"]) for i in items] == [
        ("pending", "待审核的发言", "标题")]
    with pytest.raises(Forbidden):
        selectors.queue(identities["member"], boards["members"].branch_id)


def test_audit_log_filters(identities, boards):  # noqa: F811
    topic, _ = forum.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    from forum import topic_management as tm

    tm.set_pinned(identity=identities["moderator"], topic_id=topic.pk, pinned=True)
    tm.set_closed(identity=identities["secretary"], topic_id=topic.pk, closed=True)
    branch = boards["members"].branch_id
    assert [e["action"] for e in selectors.audit_log(identities["moderator"], branch, action="topic.pin")] == [
        "topic.pinned"]
    by_secretary = selectors.audit_log(identities["moderator"], branch, actor=identities["secretary"].key)
    assert [e["action"] for e in by_secretary] == ["topic.closed"]
    with pytest.raises(Forbidden):
        selectors.audit_log(identities["member"], branch)
