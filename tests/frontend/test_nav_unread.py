"""The announcements tab's unread count on a branch's other pages: rendered with the
stream's head, so the page's script follows the stream from there."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from accounts.identity import identity_for_user
from announcements.actions import mark_read, post_announcement

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
    config = nav_config(html)
    assert config == {"branch": tree["a"].pk, "stream": f"announcements:{tree['a'].pk}", "since": 3,
                      "read_seq": 1, "count": 2, "me": people["member"].pk}
    assert re.search(r'id="nav-unread-count">2<span class="visually-hidden"> 条未读</span>', html)
    assert "frontend/nav_unread.js" in html


def test_the_count_is_left_to_the_announcements_page_and_to_members(client, people, tree):
    post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, title="一", body="正")
    client.force_login(people["member"])
    assert nav_config(client.get(reverse("announcements", args=[tree["a"].pk])).content.decode()) is None
    # The author's own announcements are never unread for them: shown hidden at 0.
    client.force_login(people["secretary"])
    html = client.get(reverse("forum-boards", args=[tree["a"].pk])).content.decode()
    assert nav_config(html)["count"] == 0 and re.search(r'id="nav-unread-count" hidden>0<', html)
