"""每日摘要: members who ask for it get one e-mail a day (08:00 on their branch's clock,
or the hour they choose) with what they have not read: their branches' new announcements and their new
notifications (not security notices). Once a day however many processes run the job;
no mail when nothing is unread; its own link stops it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts import outbox, security
from accounts.identity import identity_for_user
from accounts.models import MailSettings, Membership
from accounts.streams import inbox_stream
from announcements import actions, digest
from announcements.models import DigestSent
from realtime.events import append_event

pytestmark = pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def morning(hour: int = 8, minute: int = 30, days: int = 0) -> datetime:
    """Today (in Shanghai) at that time, as the job's `now`."""
    return (timezone.now().astimezone(SHANGHAI) + timedelta(days=days)).replace(
        hour=hour, minute=minute, second=0, microsecond=0)


@pytest.fixture
def member(settings, people, tree):
    settings.SENDS_EMAIL = True
    settings.SITE_URL = "https://branchline.example.org"
    user = people["member"]
    user.email = "member@example.org"
    user.save()
    MailSettings.objects.create(user=user, digest=True, announcements=False)
    return user


def post(people, tree, title, branch="a", who="secretary", **kwargs):
    return actions.post_announcement(identity=identity_for_user(people[who]), branch_id=tree[branch].pk,
                                     title=title, body="正文", **kwargs)


def run(now) -> list:
    outbox.wait_idle()  # what else was mailed first (a post, a security notice)
    mail.outbox.clear()
    digest.send_due(now=now)
    outbox.wait_idle()
    return list(mail.outbox)


def test_each_morning_one_digest_of_what_is_unread(member, people, tree):
    read = post(people, tree, "已读的通知")
    post(people, tree, "周六志愿服务")
    withdrawn = post(people, tree, "撤回的通知")
    actions.withdraw_announcement(identity=identity_for_user(people["secretary"]), announcement_id=withdrawn.pk)
    post(people, tree, "第二支部的通知", branch="b", who="other_secretary")  # not the member's branch
    actions.read_announcements(identity=identity_for_user(member), branch_id=tree["a"].pk, announcement_ids=[read.pk])
    with transaction.atomic():
        append_event(inbox_stream(member.pk), "mention", {"post": 999999, "topic": None, "title": "停车难",
                                                          "by": {"id": 1, "name": "李版主"}})
    security.notify(member, security.PASSWORD_CHANGED)  # mailed at once: not retold

    assert run(morning(7, 30)) == []  # before eight on the member's clock
    (message,) = run(morning(8, 5))
    assert message.to == ["member@example.org"]
    assert message.subject == "您的 Branchline 每日摘要：1 条未读通知公告、1 条新提醒"
    assert "第一党支部\n- 周六志愿服务（Secretary，" in message.body
    assert "已读的通知" not in message.body and "撤回的通知" not in message.body and "第二支部" not in message.body
    assert "Branchline 停车难" not in message.body and "停车难" in message.body
    assert "密码" not in message.body.split("提醒")[-1].split("--")[0]
    assert "https://branchline.example.org/announcements/" in message.body
    (html, kind), = message.alternatives  # the same, for mail programs that show HTML
    assert kind == "text/html" and "1 条未读通知公告、1 条新提醒" in html and ">周六志愿服务</a>" in html
    assert "已读的通知" not in html and 'href="https://branchline.example.org/announcements/' in html
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://branchline.example.org/mail/unsubscribe/")
    assert run(morning(9, 0)) == []  # once a day, however often the job (or how many processes) runs
    assert DigestSent.objects.filter(user=member).count() == 1


def test_no_mail_when_nothing_is_unread_and_none_for_who_did_not_ask(member, people, tree):
    assert run(morning()) == []
    assert DigestSent.objects.get(user=member).mailed is False
    post(people, tree, "新通知")
    people["probationary"].email = "p@example.org"
    people["probationary"].save()  # has an address, did not ask for the digest
    assert run(morning(days=1)) != [] and {m.to[0] for m in mail.outbox} == {"member@example.org"}


def test_the_next_digest_tells_only_what_came_after_the_last(member, people, tree):
    post(people, tree, "第一天的通知")
    (first,) = run(morning())
    assert "第一天的通知" in first.body
    post(people, tree, "第二天的通知")
    (second,) = run(morning(days=1))
    assert "第二天的通知" in second.body and "第一天的通知" not in second.body


def test_a_notice_sent_to_two_of_the_members_branches_is_listed_once(member, people, tree):
    Membership.objects.create(user=member, branch=tree["a1"], role="full")
    post(people, tree, "民主评议通知", branch="committee", who="committee_secretary", also=[tree["a"].pk, tree["a1"].pk])
    (message,) = run(morning())
    assert message.body.count("民主评议通知") == 1 and "1 条未读通知公告" in message.subject


def test_in_the_members_language_and_its_link_stops_the_digest_alone(member, people, tree):
    from accounts import language

    language.choose(member, "en")
    post(people, tree, "Saturday volunteering")
    (message,) = run(morning())
    assert message.subject == "Your Branchline digest: 1 unread announcement"
    assert "what you have not read yet" in message.body
    link = message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix("https://branchline.example.org")
    browser = Client()
    browser.cookies["django_language"] = "en"
    assert "Stop the daily digest to <code>member</code>?" in browser.get(link).content.decode()
    assert MailSettings.objects.get(user=member).digest is True  # opening it asks first
    assert "no more daily digests" in browser.post(link).content.decode()
    settings_row = MailSettings.objects.get(user=member)
    assert settings_row.digest is False and settings_row.announcements is False  # as it was: only the digest stopped
    post(people, tree, "More")
    assert run(morning(days=1)) == []


def test_asked_for_on_my_account_at_the_hour_chosen(member, people, tree):
    MailSettings.objects.filter(user=member).update(digest=False)
    client = Client()
    client.force_login(member)
    page = client.get("/account/").content.decode()
    assert 'name="digest"' in page and '<option value="8" selected>08:00</option>' in page
    client.post("/account/", {"form": "email", "email": "member@example.org", "digest": "on", "digest_hour": "19"})
    kept = MailSettings.objects.get(user=member)
    assert kept.digest is True and kept.digest_hour == 19 and kept.announcements is False
    assert client.post("/account/", {"form": "email", "email": "member@example.org", "digest": "on",
                                     "digest_hour": "25"}).status_code == 200  # not a choice: the form again
    assert MailSettings.objects.get(user=member).digest_hour == 19
    post(people, tree, "晚间通知")
    assert run(morning(18, 30)) == []  # before seven in the evening
    (message,) = run(morning(19, 5))
    assert "晚间通知" in message.body
