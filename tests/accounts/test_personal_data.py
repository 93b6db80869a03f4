"""我的数据: a member downloads a copy of what Branchline keeps about them (one JSON file
from 我的账号), after their password; it holds their own data from every app and no
secret, and nobody else's; the download is a security notice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts import personal_data, security
from accounts.identity import identity_for_user
from accounts.models import Draft, LoginFailure, MailSettings, Passkey, SecurityRecord, TwoFactor
from announcements import actions as announcement_actions
from forum import actions as forum_actions
from forum.models import Board
from meetings import actions as meeting_actions
from meetings.models import (
    AttendanceInterval,
    ChatMessage,
    LeaveRequest,
    MinutesSignature,
    OpenBallot,
    Vote,
    VoteOption,
    VoteParticipation,
)
from moderation.models import Flag
from realtime.events import append_event

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def member(people):
    user = people["member"]
    user.set_password(PASSWORD)
    user.email = "member@example.org"
    user.first_name = "张党员"
    user.save()
    return user


def download(user, password=PASSWORD):
    client = Client()
    client.force_login(user)
    return client.post("/account/", {"form": "my-data", "password": password})


def with_a_life(people, tree, member):
    """The member reads, writes, reacts, flags, attends, votes; others do too."""
    me, secretary = identity_for_user(member), identity_for_user(people["secretary"])
    notice = announcement_actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="周六志愿服务",
                                                    body="上午九点")
    announcement_actions.read_announcements(identity=me, branch_id=tree["a"].pk, announcement_ids=[notice.pk])
    board = Board.objects.create(branch=tree["a"], name="支部交流")
    topic, first = forum_actions.create_topic(identity=secretary, board=board, title="小区停车", body="大家说说")
    mine = forum_actions.create_post(identity=me, topic_id=topic.pk, body="我建议**错峰停车**")
    forum_actions.create_post(identity=identity_for_user(people["moderator"]), topic_id=topic.pk, body="别人的帖子")
    forum_actions.toggle_reaction(identity=me, post_id=first.pk, emoji="👍")
    Flag.objects.create(branch=tree["a"], target_type="post", target_id=first.pk, user=member, reason="other",
                        note="与主题无关")
    starts = timezone.now() - timedelta(hours=1)
    meeting = meeting_actions.schedule_meeting(
        identity=secretary, branch_id=tree["a"].pk, kind="general", title="支部党员大会", starts_at=starts,
        ends_at=starts + timedelta(hours=2), chair_id=people["secretary"].pk)
    AttendanceInterval.objects.create(meeting=meeting, user=member, joined_at=starts, left_at=starts + timedelta(minutes=50),
                                      end_reason="left")
    LeaveRequest.objects.create(meeting=meeting, user=people["probationary"], reason="别人的请假", submitted_at=starts)
    ChatMessage.objects.create(meeting=meeting, author=member, body="我同意", shown="我同意", created_at=starts)
    MinutesSignature.objects.create(meeting=meeting, role="minute_taker", user=member, at=starts + timedelta(hours=3))
    motion = Vote.objects.create(meeting=meeting, kind="motion", title="通过上次会议纪要", status="closed")
    VoteOption.objects.create(vote=motion, key="yes", label="赞成", position=1)
    VoteParticipation.objects.create(vote=motion, user=member, via="online")
    OpenBallot.objects.create(vote=motion, user=member, choices=["yes"], via="online")
    secret = Vote.objects.create(meeting=meeting, kind="election", title="选举支部委员", secret=True, status="closed")
    VoteParticipation.objects.create(vote=secret, user=member, via="online")
    Draft.objects.create(user=member, place="reply:1", fields={"body": "还没写完"})
    Passkey.objects.create(user=member, credential_id="cred-1", public_key=b"\x01public-key", name="我的手机")
    MailSettings.objects.create(user=member, digest=True, notify_meetings=False)
    TwoFactor.objects.create(user=member, sealed_key=b"sealed-secret", confirmed_at=timezone.now(), recovery=["ab" * 32])
    return {"notice": notice, "topic": topic, "mine": mine, "meeting": meeting}


def test_a_member_downloads_their_own_data_from_every_app(people, tree, member):
    made = with_a_life(people, tree, member)
    response = download(member)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="branchline-member-')
    data = json.loads(response.content)
    assert data["format"] == 1 and data["user_id"] == member.pk
    assert data["account"]["username"] == "member" and data["account"]["email"] == "member@example.org"
    assert data["account"]["settings"]["daily_digest"] is True and data["account"]["settings"]["notify_meetings"] is False
    assert {(m["branch"]["name"], m["role"]) for m in data["memberships"]} == {("第一党支部", "full")}
    assert [r["title"] for r in data["announcements_read"]] == ["周六志愿服务"]
    assert data["announcements_written"] == []  # the secretary's, not theirs
    assert [p["text"] for p in data["forum_posts"]] == ["我建议**错峰停车**"]  # as written; not the others'
    assert data["forum_posts"][0]["topic"] == {"id": made["topic"].pk, "title": "小区停车"}
    assert [r["emoji"] for r in data["forum_reactions"]] == ["👍"]
    assert [f["note"] for f in data["flags_raised"]] == ["与主题无关"]
    (meeting,) = data["meetings"]
    assert meeting["title"] == "支部党员大会" and meeting["leave"] is None  # another's leave request is not theirs
    assert meeting["attendance"][0]["why_it_ended"] == "left" and meeting["chat"][0]["text"] == "我同意"
    assert [signed["as"] for signed in meeting["minutes_signed"]] == ["minute_taker"]
    votes = {v["title"]: v for v in meeting["votes"]}
    assert votes["通过上次会议纪要"]["choices"] == ["赞成"]
    assert votes["选举支部委员"]["secret"] is True and votes["选举支部委员"]["choices"] is None
    assert data["drafts"] == [{"place": "reply:1", "fields": {"body": "还没写完"}, "updated_at": data["drafts"][0]["updated_at"]}]
    assert data["two_step_verification"]["passkeys"][0]["name"] == "我的手机"
    assert any(e["type"] == "meeting.scheduled" for e in data["notifications"])
    # No secret: neither the password's hash, nor a passkey's key, nor a session key.
    text = response.content.decode()
    assert member.password not in text and "cred-1" not in text and "public-key" not in text
    assert data["two_step_verification"]["authenticator_app"]["recovery_codes_left"] == 1
    assert "sealed-secret" not in text and "ab" * 32 not in text
    assert "别人的帖子" not in text and "别人的请假" not in text


def test_the_download_asks_for_the_password_and_is_a_security_notice(people, member):
    wrong = download(member, password="not it")
    assert wrong.status_code == 400 and "密码不正确。" in wrong.content.decode()
    assert LoginFailure.objects.filter(username="member").count() == 1  # counted as a failed login
    assert not SecurityRecord.objects.filter(user=member, kind=security.DATA_EXPORTED).exists()

    assert download(member).status_code == 200
    assert SecurityRecord.objects.filter(user=member, kind=security.DATA_EXPORTED).count() == 1
    page = Client()
    page.force_login(member)
    assert "您的数据副本已从“我的账号”下载" in page.get("/notifications/").content.decode()


def test_a_throttled_username_is_refused_unchecked(people, member):
    client = Client()
    client.force_login(member)
    for _ in range(10):
        assert client.post("/account/", {"form": "my-data", "password": "guess"}).status_code == 400
    refused = client.post("/account/", {"form": "my-data", "password": PASSWORD})  # right, past the limit
    assert refused.status_code == 400 and "登录失败次数过多" in refused.content.decode()


def test_every_part_is_in_the_download(people, member):
    data = personal_data.collect(member)
    assert {"account", "memberships", "signed_in_browsers", "security_log", "two_step_verification", "drafts",
            "notifications", "announcements_written", "announcements_scheduled", "announcements_read",
            "forum_posts", "forum_reactions", "flags_raised", "meetings"} <= set(data)


def test_a_notification_seen_before_is_in_it_too(people, member):
    from django.db import transaction

    from accounts.streams import inbox_stream

    with transaction.atomic():
        append_event(inbox_stream(member.pk), "mention", {"post": 1, "topic": None, "title": "t", "by": {"id": 1}})
    assert personal_data.collect(member)["notifications"][0]["type"] == "mention"
