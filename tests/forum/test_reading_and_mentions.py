"""Unread topics per member, @mentions into the inbox, and the typing indicator."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from forum import actions
from forum.selectors import boards_for
from realtime.testing import capture_events
from tests.realtime.conftest import connect  # noqa: F401

pytestmark = pytest.mark.django_db


def test_unread_topics_per_board_follow_the_read_position(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    counts = {b["id"]: b["unread_topics"] for b in boards_for(identities["member"], boards["members"].branch_id)}
    assert counts[boards["members"].pk] == 1
    with capture_events() as captured:
        assert actions.mark_topic_read(identity=identities["member"], topic_id=topic.pk, number=99) == 1
    assert [(e.stream, e.type) for e in captured] == [(f"inbox:{identities['member'].user_id}", "topic.read")]
    counts = {b["id"]: b["unread_topics"] for b in boards_for(identities["member"], boards["members"].branch_id)}
    assert counts[boards["members"].pk] == 0
    actions.create_post(identity=identities["moderator"], topic_id=topic.pk, body="新回复")
    counts = {b["id"]: b["unread_topics"] for b in boards_for(identities["member"], boards["members"].branch_id)}
    assert counts[boards["members"].pk] == 1


def test_others_pending_posts_do_not_make_a_topic_unread(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    actions.mark_topic_read(identity=identities["member"], topic_id=topic.pk, number=1)
    actions.create_post(identity=identities["probationary"], topic_id=topic.pk, body="待审核")
    counts = {b["id"]: b["unread_topics"] for b in boards_for(identities["member"], boards["members"].branch_id)}
    assert counts[boards["members"].pk] == 0


def test_search_snippets_show_text_not_markdown(identities, boards):
    from forum.selectors import search_posts

    actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t",
                         body="活动定在 **28日上午**，地点 <党群中心>")
    snippet = search_posts(identities["member"], "活动")[0]["snippet_html"]
    assert "**" not in snippet and "28日上午" in snippet and "&lt;党群中心&gt;" in snippet


def test_outsiders_see_only_public_boards(identities, boards):
    names = {b["name"] for b in boards_for(identities["outsider"], boards["members"].branch_id)}
    assert names == {"群众之声", "政策解读"}


def test_mentions_notify_members_of_the_branch_only(identities, boards, people):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"], title="t", body="b")
    with capture_events() as captured:
        actions.create_post(identity=identities["moderator"], topic_id=topic.pk,
                            body="@member 请看一下，@outsider 和 @nobody 不会收到, email a@member.org 也不算")
    mentions = [e for e in captured if e.type == "mention"]
    assert [e.stream for e in mentions] == [f"inbox:{people['member'].pk}"]
    assert mentions[0].data["by"]["name"] == "Moderator"


@pytest.mark.django_db(transaction=True)
async def test_typing_reaches_other_readers_and_is_not_logged(connect, people, identities, boards):  # noqa: F811
    topic, _ = await database_sync_to_async(actions.create_topic)(
        identity=identities["moderator"], board=boards["members"], title="t", body="b")
    reader = await connect(people["member"])
    typist = await connect(people["secretary"])
    for sock in (reader, typist):
        await sock.call("subscribe", {"stream": f"topic:{topic.pk}"})
    assert (await typist.call("forum.typing", {"topic": topic.pk}))["op"] == "ok"
    frames = await reader.recv_until(lambda f: f["op"] == "typing", timeout=3)
    assert frames[-1]["who"]["name"] == "Secretary" and "seq" not in frames[-1]
    assert await typist.nothing(0.3)  # the typist gets no echo of its own typing
    outsider = await connect(people["outsider"])
    assert (await outsider.call("forum.typing", {"topic": topic.pk}))["code"] == "not_found"
