"""提醒: mentions, moderators' decisions and meetings from the member's inbox, counted in
the header on every page and listed, in words and with links, on /notifications/;
seeing them there clears the count in every tab (notifications.mark_read)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from accounts import notifications
from accounts.identity import identity_for_user
from announcements import actions as announcement_actions
from forum import actions as forum_actions
from forum.models import Board
from meetings import actions as meeting_actions
from realtime.errors import Unauthenticated
from realtime.models import Event
from tests.realtime.conftest import connect, session_cookie_for  # noqa: F401  (the /ws/ fixture)


def ident(user):
    return identity_for_user(user)


def bell_count(client) -> int:
    html = client.get(reverse("account")).content.decode()
    match = re.search(r'id="bell-count"( hidden)?>(\d+)<', html)
    return 0 if match.group(1) else int(match.group(2))


def mention(people, tree):
    board = Board.objects.create(branch=tree["a"], name="支部交流")
    topic, post = forum_actions.create_topic(identity=ident(people["moderator"]), board=board,
                                             title="学习心得", body="@member 请看这份材料")
    return topic, post


@pytest.mark.django_db
def test_a_mention_is_counted_on_every_page_and_listed_with_a_link(client, people, tree):
    client.force_login(people["member"])
    assert bell_count(client) == 0
    topic, post = mention(people, tree)
    # Read markers on the inbox keep tabs in step; they are not notifications.
    announcement = announcement_actions.post_announcement(identity=ident(people["secretary"]),
                                                          branch_id=tree["a"].pk, title="通知", body="正文")
    announcement_actions.mark_read(identity=ident(people["member"]), branch_id=tree["a"].pk, seq=announcement.seq)
    assert Event.objects.filter(stream_id=f"inbox:{people['member'].pk}").count() == 2
    assert bell_count(client) == 1

    html = client.get(reverse("notifications")).content.decode()
    assert "Moderator 在“学习心得”中提到了您" in html
    assert f'href="/forum/topics/{topic.pk}/#post-{post.number}"' in html
    assert 'class="notification is-unread"' in html


@pytest.mark.django_db
def test_decisions_and_meetings_read_in_words_in_the_branch_zone(client, people, tree):
    user = people["member"]
    starts = datetime(2026, 12, 12, 1, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Shanghai
    meeting = meeting_actions.schedule_meeting(
        identity=ident(people["secretary"]), branch_id=tree["a"].pk, kind="general", title="支部党员大会",
        starts_at=starts, ends_at=starts + timedelta(hours=2), chair_id=people["secretary"].pk)
    leave = meeting_actions.request_leave(identity=ident(user), meeting_id=meeting.pk, reason="出差")
    meeting_actions.decide_leave(identity=ident(people["secretary"]), leave_id=leave.pk, approve=True, note="同意")
    from forum.review import _tell_author

    _topic, post = mention(people, tree)
    post.author_id = user.pk  # as if the member had written it
    _tell_author(post, "post.rejected", "与主题无关")
    client.force_login(user)
    html = client.get(reverse("notifications")).content.decode()
    assert "会议已安排：“支部党员大会”，2026-12-12 09:30" in html
    assert "您的“支部党员大会”请假已批准。同意" in html
    secretary = Client()
    secretary.force_login(people["secretary"])
    assert "Member 申请“支部党员大会”请假。出差" in secretary.get(reverse("notifications")).content.decode()
    assert "您在“学习心得”中的帖子未通过审核。与主题无关" in html
    assert html.index("未通过审核") < html.index("会议已安排")  # newest first


@pytest.mark.django_db
def test_the_page_needs_a_login_and_a_visitor_has_no_inbox(client):
    response = client.get(reverse("notifications"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    from accounts.identity import ANONYMOUS

    with pytest.raises(Unauthenticated):
        notifications.mark_read(identity=ANONYMOUS, seq=1)


@pytest.mark.django_db(transaction=True)
async def test_seeing_them_clears_the_count_in_every_tab(connect, people, tree):  # noqa: F811
    await database_sync_to_async(mention)(people, tree)
    user = people["member"]
    other_tab = await connect(user)
    inbox = f"inbox:{user.pk}"
    await other_tab.call("subscribe", {"stream": inbox, "since": 0})
    await other_tab.recv_until(lambda f: f.get("type") == "mention")
    head = (await database_sync_to_async(notifications.bell)(ident(user)))["since"]

    page = await connect(user)
    reply = await page.call("notifications.mark_read", {"seq": head})
    assert reply["op"] == "ok" and reply["data"] == {"read_seq": head}
    seen = (await other_tab.recv_until(lambda f: f.get("type") == "notifications.read"))[-1]
    assert seen["data"] == {"read_seq": head, "unread": 0}
    assert (await database_sync_to_async(notifications.bell)(ident(user)))["count"] == 0

    again = await page.call("notifications.mark_read", {"seq": head - 1})  # never backwards
    assert again["data"] == {"read_seq": head}
    assert await other_tab.nothing()
    bad = await page.call("notifications.mark_read", {"seq": -1})
    assert bad["op"] == "error" and bad["code"] == "bad_request"
    anonymous = await connect()
    refused = await anonymous.call("notifications.mark_read", {"seq": 1})
    assert refused["op"] == "error" and refused["code"] == "unauthenticated"


@pytest.mark.django_db
def test_older_notifications_are_a_page_away(client, people, tree, monkeypatch):
    monkeypatch.setattr(notifications, "PAGE", 2)
    board = Board.objects.create(branch=tree["a"], name="支部交流")
    for n in range(3):
        forum_actions.create_topic(identity=ident(people["moderator"]), board=board, title=f"第{n}个", body="@member 看")
    client.force_login(people["member"])
    first = client.get(reverse("notifications")).content.decode()
    assert "“第2个”" in first and "“第1个”" in first and "“第0个”" not in first
    older = re.search(r'href="\?before=(\d+)"', first).group(1)
    second = client.get(reverse("notifications"), {"before": older}).content.decode()
    listed = second[second.index('id="notification-list"'):]
    assert "“第0个”" in listed and "“第2个”" not in listed and 'href="?before=' not in listed
    assert client.get(reverse("notifications"), {"before": "x" * 30}).status_code == 200  # ignored, not an error


@pytest.mark.django_db(transaction=True)
async def test_the_newest_are_told_in_words_for_the_desktop(connect, people, tree):  # noqa: F811
    topic, post = await database_sync_to_async(mention)(people, tree)
    user = people["member"]
    page = await connect(user)
    reply = await page.call("notifications.recent", {})
    assert reply["op"] == "ok"
    [item] = reply["data"]["items"]
    assert item["type"] == "mention" and item["text"] == "Moderator 在“学习心得”中提到了您"
    assert item["url"] == f"/forum/topics/{topic.pk}/#post-{post.number}"
    assert item["at"].endswith("Z") and reply["data"]["read_seq"] == 0

    # Only what came after the seq the browser already told about.
    assert (await page.call("notifications.recent", {"after": item["seq"]}))["data"]["items"] == []
    await database_sync_to_async(mention)(people, tree)
    newer = (await page.call("notifications.recent", {"after": item["seq"]}))["data"]["items"]
    assert [n["seq"] for n in newer] == [item["seq"] + 1]

    # In the language the member chose.
    english = await connect(cookie=await session_cookie_for(user) + b"; django_language=en")
    said = (await english.call("notifications.recent", {"limit": 1}))["data"]["items"]
    assert said[0]["text"] == "Moderator mentioned you in “学习心得”"

    # Each member hears only their own inbox.
    others = await connect(people["moderator"])
    assert (await others.call("notifications.recent", {}))["data"]["items"] == []

    for args, field in (({"after": -1}, "after"), ({"limit": 0}, "limit"), ({"limit": 21}, "limit"),
                        ({"after": "1"}, "after"), ({"user": user.pk}, "user")):
        bad = await page.call("notifications.recent", args)
        assert bad["op"] == "error" and bad["code"] == "bad_request", args
        assert bad["details"]["field"] == field
    anonymous = await connect()
    refused = await anonymous.call("notifications.recent", {})
    assert refused["op"] == "error" and refused["code"] == "unauthenticated"


@pytest.mark.django_db
def test_one_kind_at_a_time_without_marking_the_others_seen(client, people, tree):
    user = people["member"]
    client.force_login(user)
    starts = datetime(2026, 12, 12, 1, 30, tzinfo=ZoneInfo("UTC"))
    meeting_actions.schedule_meeting(
        identity=ident(people["secretary"]), branch_id=tree["a"].pk, kind="general", title="支部党员大会",
        starts_at=starts, ends_at=starts + timedelta(hours=2), chair_id=people["secretary"].pk)
    mention(people, tree)

    html = client.get(reverse("notifications") + "?kind=meetings").content.decode()
    assert "会议已安排" in html and "学习心得" not in html
    assert '<a href="/notifications/?kind=meetings" aria-current="page">支部会议</a>' in html
    assert '"head": 0' in html  # a page of one kind marks nothing seen
    html = client.get(reverse("notifications") + "?kind=mentions").content.decode()
    assert "学习心得" in html and "会议已安排" not in html
    html = client.get(reverse("notifications") + "?kind=nonsense").content.decode()  # all of them
    assert "学习心得" in html and "会议已安排" in html
    assert '<a href="/notifications/" aria-current="page">全部</a>' in html
    # Every notification type is in one kind (a new type must be given one).
    assert sorted(t for types in notifications.GROUPS.values() for t in types) == sorted(notifications.TYPES)
