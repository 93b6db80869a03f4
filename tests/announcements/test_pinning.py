"""置顶: a secretary pins an announcement above the others (at most PIN_MAX at once);
lists, snapshots and older pages put it first and list it once; readers see it move
live; unread counts do not change."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.identity import identity_for_user
from announcements import actions, selectors
from announcements.models import Announcement
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden
from realtime.testing import capture_events
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)


def ident(user):
    return identity_for_user(user)


def post(people, tree, title) -> Announcement:
    return actions.post_announcement(identity=ident(people["secretary"]), branch_id=tree["a"].pk, title=title, body="正文")


def pin(people, a, pinned=True, who="secretary"):
    return actions.pin_announcement(identity=ident(people[who]), announcement_id=a.pk, pinned=pinned)


def titles(items):
    return [a.title for a in items]


@pytest.mark.django_db
def test_a_pinned_one_comes_first_and_pages_list_it_once(people, tree):
    old, middle, new = (post(people, tree, t) for t in ("旧", "中", "新"))
    with capture_events() as events:
        pin(people, old)
    assert [(e.type, e.data["id"]) for e in events] == [("announcement.pinned", old.pk)]
    assert events[0].data["pinned_at"] and events[0].data["seq"] == old.seq  # its own seq, as an edit's
    member = ident(people["member"])
    assert titles(selectors.announcements_for(member, tree["a"].pk)) == ["旧", "新", "中"]
    assert titles(selectors.announcements_for(member, tree["a"].pk, limit=1)) == ["旧", "新"]
    assert titles(selectors.announcements_for(member, tree["a"].pk, limit=1, before=new.seq)) == ["中"]
    assert selectors.more_after(selectors.announcements_for(member, tree["a"].pk, limit=1), limit=1)
    assert selectors.unread_count(member, tree["a"].pk) == 3  # nothing new to read

    pin(people, middle)  # the latest pinned first
    assert titles(selectors.announcements_for(member, tree["a"].pk)) == ["中", "旧", "新"]
    pin(people, old, pinned=False)
    assert titles(selectors.announcements_for(member, tree["a"].pk)) == ["中", "新", "旧"]
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "announcement.pin", "announcement.pin", "announcement.unpin"]


@pytest.mark.django_db
def test_pinning_twice_changes_nothing_and_there_is_a_limit(people, tree):
    items = [post(people, tree, f"第{i}条") for i in range(actions.PIN_MAX + 1)]
    pin(people, items[0])
    with capture_events() as events:
        pin(people, items[0])
    assert events == [] and AuditEntry.objects.count() == 1
    for a in items[1:actions.PIN_MAX]:
        pin(people, a)
    with pytest.raises(Conflict):
        pin(people, items[-1])
    assert Announcement.objects.filter(pinned_at__isnull=False).count() == actions.PIN_MAX
    # A withdrawn pinned one no longer counts.
    actions.withdraw_announcement(identity=ident(people["secretary"]), announcement_id=items[0].pk)
    pin(people, items[-1])


@pytest.mark.django_db
def test_only_secretaries_pin(people, tree):
    a = post(people, tree, "通知")
    with pytest.raises(Forbidden):
        pin(people, a, who="member")
    pin(people, a, who="committee_secretary")  # a secretary above the branch may


@pytest.mark.django_db
def test_the_page_and_the_api_show_and_make_pins(people, tree):
    post(people, tree, "普通")
    a = post(people, tree, "要紧")
    secretary, member = Client(), Client()
    secretary.force_login(people["secretary"])
    member.force_login(people["member"])
    url = f"/api/announcements/{a.pk}/pin"
    refused = member.post(url, data=json.dumps({"pinned": True}), content_type="application/json")
    assert refused.status_code == 403
    response = secretary.post(url, data=json.dumps({"pinned": True}), content_type="application/json")
    assert response.status_code == 200 and response.json()["announcement"]["pinned_at"]
    page = member.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert f'<span class="pin-label">置顶</span><a href="/announcements/{a.pk}/">要紧</a>' in page
    assert "is-pinned" in page


@pytest.mark.django_db(transaction=True)
async def test_readers_see_a_pin_live(connect, people, tree):  # noqa: F811
    a = await database_sync_to_async(post)(people, tree, "通知")
    reader = await connect(people["member"])
    await reader.call("subscribe", {"stream": f"announcements:{tree['a'].pk}"})
    secretary = await connect(people["secretary"])
    reply = await secretary.call("announcements.pin", {"announcement": a.pk, "pinned": True}, cid="pin-00001")
    assert reply["op"] == "ok" and reply["data"]["announcement"]["pinned_at"]
    event = (await reader.recv_until(lambda f: f["op"] == "event"))[-1]
    assert event["type"] == "announcement.pinned" and event["data"]["id"] == a.pk
    bad = await secretary.call("announcements.pin", {"announcement": a.pk, "pinned": "yes please"}, cid="pin-00002")
    assert bad["op"] == "error" and bad["code"] == "bad_request"


@pytest.mark.django_db
def test_pinned_until_a_time_it_is_unpinned_by_itself_live(people, tree):
    from datetime import timedelta

    from django.utils import timezone, translation

    from realtime.errors import Invalid

    a, b = post(people, tree, "年底前的通知"), post(people, tree, "一直置顶")
    secretary = ident(people["secretary"])
    with pytest.raises(Invalid) as refused, translation.override("en"):
        actions.pin_announcement(identity=secretary, announcement_id=a.pk, pinned=True, until="2020-01-01T08:00")
    assert refused.value.field == "until" and "passed" in refused.value.message
    with pytest.raises(Invalid):
        actions.pin_announcement(identity=secretary, announcement_id=a.pk, pinned=True, until="next friday")
    with pytest.raises(Invalid):
        actions.pin_announcement(identity=secretary, announcement_id=a.pk, pinned=True,
                                 until=(timezone.now() + timedelta(days=400)).isoformat())
    assert Announcement.objects.get(pk=a.pk).pinned_at is None  # refused: nothing changed

    # On the branch's clock (Shanghai) when it has no offset.
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(tree["a"].zone).strftime("%Y-%m-%dT18:00")
    with capture_events() as events:
        pinned = actions.pin_announcement(identity=secretary, announcement_id=a.pk, pinned=True, until=tomorrow)
    assert pinned.pinned_until.astimezone(tree["a"].zone).strftime("%Y-%m-%dT%H:%M") == tomorrow
    assert events[-1].data["pinned_until"] == pinned.to_dict()["pinned_until"]
    pin(people, b)
    assert "pinned_until" not in Announcement.objects.get(pk=b.pk).to_dict()  # until unpinned: the key is absent
    # Pinned again with no end: it stays.
    assert actions.pin_announcement(identity=secretary, announcement_id=b.pk, pinned=True).pinned_until is None

    assert actions.unpin_due(now=timezone.now()) == 0  # not yet
    with capture_events() as events:
        assert actions.unpin_due(now=pinned.pinned_until + timedelta(seconds=1)) == 1
    assert [(e.type, e.data["id"], e.data["pinned_at"]) for e in events] == [("announcement.pinned", a.pk, None)]
    assert Announcement.objects.get(pk=a.pk).pinned_at is None
    assert Announcement.objects.get(pk=b.pk).pinned_at is not None
    assert AuditEntry.objects.filter(action="announcement.pin", after__until=tomorrow).exists()


@pytest.mark.django_db
def test_the_pages_say_until_when_on_the_branchs_clock(people, tree):
    from datetime import timedelta

    from django.utils import timezone

    a = post(people, tree, "周末值班安排")
    until = (timezone.now() + timedelta(days=2)).astimezone(tree["a"].zone).replace(minute=0, second=0, microsecond=0)
    actions.pin_announcement(identity=ident(people["secretary"]), announcement_id=a.pk, pinned=True,
                             until=until.isoformat())
    client = Client()
    client.force_login(people["member"])
    label = f'<span class="pin-label">置顶至 {until:%Y-%m-%d %H:%M}</span>'
    assert label in client.get(f"/announcements/{a.pk}/").content.decode()
    assert label in client.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
