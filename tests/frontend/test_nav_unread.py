"""Unread counts in the navigation: the announcements tab's on a branch's other pages,
and each of the member's own branches' on its tab; rendered with the streams' heads, so
the page's script follows the streams from there."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from accounts.identity import identity_for_user
from accounts.models import Membership
from announcements.actions import mark_read, post_announcement, read_announcements

pytestmark = pytest.mark.django_db


def nav_config(html: str) -> dict | None:
    match = re.search(r'<script id="nav-unread" type="application/json">(.*?)</script>', html, re.DOTALL)
    return json.loads(match.group(1)) if match else None


def test_other_pages_show_the_unread_count_and_follow_from_the_head(client, people, tree):
    secretary = identity_for_user(people["secretary"])
    for title in ("一", "二", "三"):
        post_announcement(identity=secretary, branch_id=tree["a"].pk, title=title, body="正文")
    mark_read(identity=identity_for_user(people["member"]), branch_id=tree["a"].pk, seq=1)
    client.force_login(people["member"])
    html = client.get(reverse("forum-boards", args=[tree["a"].pk])).content.decode()
    # A branch of the member's own: its entry in the navigation's counts serves the
    # section tab too (nothing counted twice).
    assert nav_config(html) is None
    assert branch_config(html) == [{"branch": tree["a"].pk, "stream": f"announcements:{tree['a'].pk}", "since": 3,
                                    "read_seq": 1, "count": 2, "read_ids": []}]
    assert re.search(r'id="nav-unread-count" data-unread-branch="\d+">2<span class="visually-hidden"> 条未读</span>',
                     html)
    assert "frontend/nav_unread.js" in html

    # A committee secretary reads the branch from above: the page counts it itself.
    client.force_login(people["committee_secretary"])
    html = client.get(reverse("forum-boards", args=[tree["a"].pk])).content.decode()
    assert nav_config(html) == {"branch": tree["a"].pk, "stream": f"announcements:{tree['a'].pk}", "since": 3,
                                "read_seq": 0, "count": 3, "read_ids": [],
                                "me": people["committee_secretary"].pk}
    assert re.search(r'id="nav-unread-count" data-unread-branch="\d+">3<span class="visually-hidden"> 条未读</span>',
                     html)


def test_the_count_is_left_to_the_announcements_page_and_to_members(client, people, tree):
    post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, title="一", body="正")
    client.force_login(people["member"])
    page = client.get(reverse("announcements", args=[tree["a"].pk])).content.decode()
    assert nav_config(page) is None and 'id="nav-unread-count"' not in page
    # The author's own announcements are never unread for them: shown hidden at 0.
    client.force_login(people["secretary"])
    html = client.get(reverse("forum-boards", args=[tree["a"].pk])).content.decode()
    assert branch_config(html)[0]["count"] == 0
    assert re.search(r'id="nav-unread-count" data-unread-branch="\d+" hidden>0<', html)


def branch_config(html: str) -> list | None:
    match = re.search(r'<script id="branch-unread" type="application/json">(.*?)</script>', html, re.DOTALL)
    return json.loads(match.group(1)) if match else None


def test_each_of_the_members_own_branches_shows_its_count_on_its_tab(client, people, tree, make_user):
    both = make_user("both", branch=tree["a"], roles=("full",))
    Membership.objects.create(user=both, branch=tree["a1"], role="full")
    secretary = identity_for_user(people["secretary"])
    posted = [post_announcement(identity=secretary, branch_id=tree["a"].pk, title=t, body="正文") for t in "一二三"]
    group = post_announcement(identity=secretary, branch_id=tree["a1"].pk, title="小组会", body="正文")
    read_announcements(identity=identity_for_user(both), branch_id=tree["a"].pk, announcement_ids=[posted[1].pk])
    client.force_login(both)
    html = client.get(reverse("account")).content.decode()  # any page: the tabs are on every one
    assert branch_config(html) == [
        {"branch": tree["a"].pk, "stream": f"announcements:{tree['a'].pk}", "since": 3, "read_seq": 0, "count": 2,
         "read_ids": [posted[1].pk]},
        {"branch": tree["a1"].pk, "stream": f"announcements:{tree['a1'].pk}", "since": 1, "read_seq": 0,
         "count": 1, "read_ids": []},
    ]
    assert re.search(rf'data-unread-branch="{tree["a"].pk}">2<span class="visually-hidden"> 条未读</span>', html)
    assert re.search(rf'data-unread-branch="{tree["a1"].pk}">1<span', html)
    assert "frontend/nav_unread.js" in html
    assert group.seq == 1

    # The secretary's own posts are not unread for them; a citizen or visitor has no tabs.
    client.force_login(people["secretary"])
    html = client.get(reverse("account")).content.decode()
    assert [b["count"] for b in branch_config(html)] == [0]
    client.logout()
    assert branch_config(client.get("/").content.decode()) is None
