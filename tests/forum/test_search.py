"""Chinese search over forum posts, filtered by who may read them (both database shapes)."""

from __future__ import annotations

import pytest

from accounts.identity import ANONYMOUS
from forum import actions
from forum.selectors import search_posts

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"],
                                    title="支部工作", body="今天下午召开党员大会，讨论小区停车难的问题。")
    public, _ = actions.create_topic(identity=identities["moderator"], board=boards["public"],
                                     title="政策宣讲", body="社区会议定在周五，欢迎群众参加。")
    other, _ = actions.create_topic(identity=identities["other_secretary"], board=boards["other"],
                                    title="二支部", body="二支部党员大会通知")
    return {"members": topic, "public": public, "other": other}


@pytest.mark.parametrize("q, expected", [
    ("党员", {"members"}), ("停车", {"members"}), ("会议", {"public"}), ("党", {"members"}), ("车", {"members"}),
])
def test_members_find_one_and_two_character_words_in_their_branch_and_public_boards(posts, identities, q, expected):
    found = {t for t, topic in posts.items() if topic.pk in {h["topic"] for h in search_posts(identities["member"], q)}}
    assert found == expected


def test_outsiders_and_anonymous_find_only_public_posts(posts, identities):
    assert {h["topic"] for h in search_posts(ANONYMOUS, "会议")} == {posts["public"].pk}
    assert search_posts(identities["outsider"], "党员") == []


def test_hidden_and_deleted_posts_leave_the_index(posts, identities):
    first = posts["members"].posts.get(number=1)
    actions.delete_post(identity=identities["moderator"], post_id=first.pk)
    assert search_posts(identities["member"], "停车") == []
    actions.restore_post(identity=identities["moderator"], post_id=first.pk)
    assert len(search_posts(identities["member"], "停车")) == 1


def test_snippets_mark_the_hit_and_escape_markup(identities, boards):
    topic, _ = actions.create_topic(identity=identities["moderator"], board=boards["members"],
                                    title="t", body="<script>alert(1)</script> 停车位")
    hit = search_posts(identities["member"], "停车")[0]
    assert "<mark>停车</mark>" in hit["snippet_html"]
    assert "<script>" not in hit["snippet_html"]
