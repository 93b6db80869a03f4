"""草稿 on the server: a member's unposted text for one place, theirs alone, following
them to their other devices (accounts/drafts.py, the drafts.* ops)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import drafts
from accounts.identity import ANONYMOUS, identity_for_user
from accounts.models import Draft
from realtime.errors import Conflict, Invalid, Unauthenticated
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)


@pytest.mark.django_db
def test_a_draft_is_kept_per_member_and_place_and_blank_removes_it(people):
    member, other = identity_for_user(people["member"]), identity_for_user(people["secretary"])
    saved = drafts.save_draft(identity=member, place="reply:17", fields={"body": "我补充一点"})
    assert saved["fields"] == {"body": "我补充一点"} and saved["place"] == "reply:17" and saved["updated_at"]
    again = drafts.save_draft(identity=member, place="reply:17", fields={"body": "我补充两点"})
    assert again["updated_at"] >= saved["updated_at"]
    assert drafts.get_draft(identity=member, place="reply:17")["fields"] == {"body": "我补充两点"}
    assert drafts.get_draft(identity=other, place="reply:17") is None  # theirs alone
    assert drafts.get_draft(identity=member, place="reply:18") is None
    assert drafts.save_draft(identity=member, place="reply:17", fields={"body": "  "}) is None
    assert not Draft.objects.exists()
    drafts.save_draft(identity=member, place="topic:5", fields={"title": "标题", "body": ""})
    drafts.discard_draft(identity=member, place="topic:5")
    drafts.discard_draft(identity=member, place="topic:5")  # gone already: fine
    assert not Draft.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("place, fields", [
    ("reply", {"body": "x"}),
    ("reply:abc", {"body": "x"}),
    ("Reply:1", {"body": "x"}),
    ("reply:1/../2", {"body": "x"}),
    ("reply:1", {f"f{i}": "x" for i in range(9)}),
    ("reply:1", {"Body": "x"}),
    ("reply:1", {"body": "字" * 30_001}),
])
def test_a_malformed_or_oversized_draft_is_refused_and_nothing_kept(people, place, fields):
    with pytest.raises(Invalid):
        drafts.save_draft(identity=identity_for_user(people["member"]), place=place, fields=fields)
    assert not Draft.objects.exists()


@pytest.mark.django_db
def test_only_members_keep_drafts(people):
    with pytest.raises(Unauthenticated):
        drafts.save_draft(identity=ANONYMOUS, place="reply:1", fields={"body": "x"})


@pytest.mark.django_db
def test_the_oldest_make_room_and_a_month_old_ones_are_removed(people, monkeypatch):
    monkeypatch.setattr(drafts, "PER_USER", 2)
    member = identity_for_user(people["member"])
    for n in (1, 2, 3):
        drafts.save_draft(identity=member, place=f"reply:{n}", fields={"body": str(n)})
        Draft.objects.filter(place=f"reply:{n}").update(updated_at=timezone.now() - timedelta(minutes=10 - n))
    assert sorted(Draft.objects.values_list("place", flat=True)) == ["reply:2", "reply:3"]
    Draft.objects.filter(place="reply:2").update(updated_at=timezone.now() - timedelta(days=drafts.KEEP_DAYS + 1))
    assert drafts.remove_old_drafts() == 1
    assert list(Draft.objects.values_list("place", flat=True)) == ["reply:3"]


@pytest.mark.django_db(transaction=True)
async def test_over_ws_the_other_device_gets_it(connect, people):  # noqa: F811
    phone = await connect(people["member"])
    computer = await connect(people["member"])
    saved = await phone.call("drafts.save", {"place": "announcement:3", "fields": {"title": "t", "body": "b"}})
    assert saved["op"] == "ok" and saved["data"]["draft"]["fields"] == {"title": "t", "body": "b"}
    got = await computer.call("drafts.get", {"place": "announcement:3"})
    assert got["data"]["draft"] == saved["data"]["draft"]
    assert (await computer.call("drafts.discard", {"place": "announcement:3"}))["data"] == {"draft": None}
    assert (await phone.call("drafts.get", {"place": "announcement:3"}))["data"]["draft"] is None
    bad = await phone.call("drafts.save", {"place": "announcement:3", "fields": {"body": 5}})
    assert bad["op"] == "error" and bad["code"] == "bad_request"
    visitor = await connect()
    refused = await visitor.call("drafts.get", {"place": "announcement:3"})
    assert refused["op"] == "error" and refused["code"] == "unauthenticated"


@pytest.mark.django_db
def test_a_save_that_grew_from_an_old_copy_is_a_conflict_and_changes_nothing(people):
    member = identity_for_user(people["member"])
    first = drafts.save_draft(identity=member, place="reply:9", fields={"body": "phone"}, base=None)
    # Grew from the copy the server has: saved.
    drafts.save_draft(identity=member, place="reply:9", fields={"body": "phone, more"}, base=first["updated_at"])
    # Another device that still knew only the first copy (or none) is told, and handed the
    # server's copy.
    for stale in (first["updated_at"], None):
        with pytest.raises(Conflict) as refused:
            drafts.save_draft(identity=member, place="reply:9", fields={"body": "computer"}, base=stale)
        assert refused.value.details["draft"]["fields"] == {"body": "phone, more"}
    # Nor may it remove the newer text (posted there after the other device changed it).
    with pytest.raises(Conflict):
        drafts.save_draft(identity=member, place="reply:9", fields={"body": ""}, base=first["updated_at"])
    assert Draft.objects.get(place="reply:9").fields == {"body": "phone, more"}
    # Without `base`: an overwrite, as before.
    assert drafts.save_draft(identity=member, place="reply:9", fields={"body": "over"})["fields"] == {"body": "over"}


@pytest.mark.django_db(transaction=True)
async def test_over_ws_a_stale_base_is_a_conflict_with_the_servers_copy(connect, people):  # noqa: F811
    phone = await connect(people["member"])
    computer = await connect(people["member"])
    saved = await phone.call("drafts.save", {"place": "topic:4", "fields": {"title": "t"}, "base": None})
    refused = await computer.call("drafts.save", {"place": "topic:4", "fields": {"title": "u"}, "base": None})
    assert refused["op"] == "error" and refused["code"] == "conflict"
    assert refused["details"]["draft"] == saved["data"]["draft"]
    ok = await computer.call("drafts.save", {"place": "topic:4", "fields": {"title": "u"},
                                             "base": saved["data"]["draft"]["updated_at"]})
    assert ok["op"] == "ok" and ok["data"]["draft"]["fields"] == {"title": "u"}
