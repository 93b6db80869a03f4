"""提醒邮件: a notification still unread NOTIFICATION_MAIL_DELAY after it came is mailed,
with the others that came meanwhile, in one mail; read in time, or of a kind the
member does not want by mail, it is not. Each notification is told once, by one
process, and not again in the daily digest."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone, translation

from accounts import notification_mail, notifications, outbox, security
from accounts.identity import identity_for_user
from accounts.models import MailSettings, NotificationMail
from forum import actions as forum_actions
from forum.models import Board
from meetings import actions as meeting_actions

pytestmark = pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed

LATER = timedelta(seconds=601)  # past the default delay of 10 minutes


@pytest.fixture
def member(settings, people):
    settings.SENDS_EMAIL = True
    settings.SITE_URL = "https://branchline.example.org"
    user = people["member"]
    user.email = "member@example.org"
    user.first_name = "张党员"
    user.save()
    return user


def notify(user, type_="mention", title="停车难", post=1):
    with transaction.atomic():
        notifications.send([user.pk], type_, {"post": post, "topic": None, "title": title,
                                              "by": {"id": 1, "name": "李版主"}})


def run(after=LATER) -> list:
    outbox.wait_idle()
    mail.outbox.clear()
    notification_mail.send_due(now=timezone.now() + after)
    outbox.wait_idle()
    return list(mail.outbox)


def test_unread_after_the_delay_one_mail_for_all_that_came_meanwhile(member):
    notify(member, title="停车难")
    assert run(after=timedelta(seconds=300)) == []  # not yet
    notify(member, title="加装电梯")
    (message,) = run()
    assert message.to == ["member@example.org"]
    assert message.subject == "Branchline：2 条未读提醒"
    body = message.body
    assert body.index("李版主 在“停车难”中提到了您") < body.index("李版主 在“加装电梯”中提到了您"), body
    assert "张党员" in body and "https://branchline.example.org/notifications/" in body
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://branchline.example.org/mail/unsubscribe/") and unsubscribe in body
    assert "10 分钟" in body
    # Told once: the next tick, or the next notification's mail, does not tell them again.
    assert run() == []
    notify(member, title="第三件事")
    (again,) = run()
    assert again.subject.startswith("Branchline：") and "第三件事" in again.subject
    assert "停车难" not in again.body


def test_read_in_time_no_mail(member):
    notify(member)
    notify(member, title="第二条")
    head = notifications.bell(identity_for_user(member))["since"]
    notifications.mark_read(identity=identity_for_user(member), seq=head)
    assert run() == []
    # Read only the first of two: the second alone is mailed.
    notify(member, title="第一条")
    seq = notifications.bell(identity_for_user(member))["since"]
    notify(member, title="还没读的")
    notifications.mark_read(identity=identity_for_user(member), seq=seq)
    (message,) = run()
    assert "还没读的" in message.subject and "第一条" not in message.body


def test_only_the_kinds_the_member_wants(member, people):
    MailSettings.objects.create(user=member, notify_mentions=False)
    notify(member)  # a mention: not wanted by mail
    assert run() == []
    notify(member)
    with transaction.atomic():
        notifications.send([member.pk], "post.rejected", {"post": 1, "topic": None, "reason": "与主题无关"})
    (message,) = run()
    assert "未通过审核" in message.subject and "与主题无关" in message.subject and "提到了您" not in message.body
    # Not mailed here at all: a reminder to read (it mails the announcement) and security notices (mailed at once).
    with transaction.atomic():
        notifications.send([member.pk], "announcement.reminder",
                           {"announcement": 1, "branch": 1, "title": "通知", "by": {"id": 1, "name": "书记"}})
    security.notify(member, security.PASSWORD_CHANGED)
    assert NotificationMail.objects.get(user=member).due_at is None
    assert run() == []


def test_in_the_members_language(member):
    MailSettings.objects.create(user=member, language="en")
    notify(member, title="Parking")
    (message,) = run()
    assert message.subject == "Branchline: 李版主 mentioned you in “Parking”"
    assert "still unread 10 minutes after it came" in message.body and "/account/#notify-mail" in message.body


def test_no_mail_without_an_address_a_live_account_or_a_mail_server(member, settings):
    member.email = ""
    member.save()
    notify(member)
    assert run() == []
    member.email = "member@example.org"
    member.is_active = False
    member.save()
    notify(member)
    assert run() == []
    settings.SENDS_EMAIL = False
    member.is_active = True
    member.save()
    notify(member)
    assert run() == []
    assert not NotificationMail.objects.filter(user=member, due_at__isnull=False).exists()


def test_the_unsubscribe_link_stops_every_kind_and_my_account_brings_them_back(member):
    notify(member)
    (message,) = run()
    link = message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix("https://branchline.example.org")
    client = Client()
    page = client.get(link)
    assert page.status_code == 200 and "未读提醒" in page.content.decode()
    assert client.post(link).status_code == 200
    wants = MailSettings.objects.get(user=member)
    assert not any(getattr(wants, field) for field in notification_mail.KINDS)
    assert wants.announcements  # only these mails stop
    notify(member)
    assert run() == []

    client.force_login(member)
    page = client.get("/account/").content.decode()
    assert 'name="notify_mentions"' in page and "10 分钟" in page
    client.post("/account/", {"form": "email", "email": "member@example.org", "digest_hour": "8",
                              "notify_meetings": "on"})
    wants.refresh_from_db()
    assert wants.notify_meetings and not wants.notify_mentions and not wants.announcements


def test_one_process_sends_it_when_several_tick_at_once(member, settings):
    notify(member)
    outbox.wait_idle()
    mail.outbox.clear()
    claimed = []
    start = threading.Barrier(4)

    def tick():
        start.wait()
        try:
            claimed.append(notification_mail.send_due(now=timezone.now() + LATER))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outbox.wait_idle()
    assert sorted(claimed) == [0, 0, 0, 1] and len(mail.outbox) == 1


def test_a_claim_found_before_another_process_took_it_fails(member):
    notify(member)
    row = NotificationMail.objects.get(user=member)
    found = (member.pk, row.due_at, row.since)  # what two processes' ticks both read
    assert notification_mail.claim(*found) is True
    assert notification_mail.claim(*found) is False
    notify(member, title="又一条")  # a new spell: due again, at another time
    assert notification_mail.claim(*found) is False
    outbox.wait_idle()
    assert len([m for m in mail.outbox if "Branchline：" in m.subject]) == 1


def test_a_mail_written_after_the_next_spell_began_tells_each_notification_once(member):
    """Claimed, and its mail written only after another notification came (which began
    the next spell): that mail tells both, the next spell's mail nothing."""
    notify(member, title="第一条")
    first = NotificationMail.objects.get(user=member)
    NotificationMail.objects.filter(user=member).update(due_at=None)  # the claim, its mail not yet written
    notify(member, title="第二条")
    second = NotificationMail.objects.get(user=member)
    assert second.due_at is not None and second.since > first.since
    outbox.wait_idle()
    mail.outbox.clear()
    notification_mail._mail(member.pk, first.since)
    notification_mail._mail(member.pk, second.since)
    (message,) = mail.outbox
    assert message.subject == "Branchline：2 条未读提醒"
    assert "第一条" in message.body and "第二条" in message.body


def test_actions_mail_through_it_and_the_digest_does_not_retell(member, people, tree):
    # A mention in the forum and a meeting called: both reach the member's mail.
    board = Board.objects.create(branch=tree["a"], name="支部交流")
    moderator = identity_for_user(people["moderator"])
    topic, _ = forum_actions.create_topic(identity=moderator, board=board, title="小区停车", body="大家说说")
    forum_actions.create_post(identity=moderator, topic_id=topic.pk, body="@member 请看一下")
    starts = timezone.now() + timedelta(days=3)
    meeting_actions.schedule_meeting(
        identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk, kind="general", title="支部党员大会",
        starts_at=starts, ends_at=starts + timedelta(hours=2), chair_id=people["secretary"].pk)
    (message,) = run()
    assert "“小区停车”" in message.body and "支部党员大会" in message.body, message.body
    assert "/forum/topics/" in message.body and "/meetings/" in message.body

    from announcements import digest

    with translation.override("zh-hans"):
        assert digest.collect(member, timezone.now() - timedelta(hours=1))["notifications"] == []


def test_the_notifications_page_says_whether_they_come_by_mail(member, settings):
    client = Client()
    client.force_login(member)

    def state():
        page = client.get("/notifications/").content.decode()
        return page.split('id="notify-mail-state">')[1].split("</p>")[0] if "notify-mail-state" in page else None

    assert "10 分钟后仍未读，会发到您的邮箱" in state()
    MailSettings.objects.create(user=member, **dict.fromkeys(notification_mail.KINDS, False))
    assert "提醒不会发到您的邮箱" in state()
    member.email = ""
    member.save()
    assert "请在<a href=\"/account/#email-heading\">我的账号</a>中填写邮箱" in state()
    settings.SENDS_EMAIL = False
    assert state() is None


def test_the_mail_has_an_html_part_with_each_notification_escaped(member):
    notify(member, title="<b>停车难</b>")
    notify(member, title="加装电梯")
    (message,) = run()
    (html, kind), = message.alternatives
    assert kind == "text/html" and '<html lang="zh-hans">' in html
    assert "2 条未读提醒" in html and "张党员，您好：" in html
    assert "“&lt;b&gt;停车难&lt;/b&gt;”" in html and "<b>停车难</b>" not in html
    assert 'href="https://branchline.example.org/notifications/"' in html and "查看全部提醒" in html
    assert f'href="{message.extra_headers["List-Unsubscribe"].strip("<>")}"' in html


def test_a_change_of_party_standing_is_mailed_unless_unticked(settings, people, identities, tree):
    """转正 (and 延长预备期, the 转正申请 reminder: the same kind) comes by mail when still
    unread, as a member who is seldom on the site would otherwise not hear of it; not
    once they untick it on 我的账号."""
    settings.SENDS_EMAIL = True
    settings.SITE_URL = "https://branchline.example.org"
    member = people["probationary"]
    member.email = "yubei@example.org"
    member.save()
    from accounts import members

    members.set_standing(identity=identities["secretary"], branch_id=tree["a"].pk, user_id=member.pk,
                         standing="probationary", moderator=False, since="2025-06-01")
    members.set_standing(identity=identities["secretary"], branch_id=tree["a"].pk, user_id=member.pk,
                         standing="full", moderator=False)
    (message,) = run()
    assert message.to == ["yubei@example.org"]
    assert message.subject == "Branchline：您已转为正式党员（第一党支部），自 2026-06-01 起。"
    assert "您已转为正式党员" in message.body and "https://branchline.example.org/branches/" in message.body

    client = Client()
    client.force_login(member)
    assert 'name="notify_membership"' in client.get("/account/").content.decode()
    client.post("/account/", {"form": "email", "email": "yubei@example.org", "digest_hour": "8",
                              "notify_mentions": "on"})
    assert MailSettings.objects.get(user=member).notify_membership is False
    members.set_standing(identity=identities["secretary"], branch_id=tree["a"].pk, user_id=member.pk,
                         standing="probationary", moderator=False)
    members.set_standing(identity=identities["secretary"], branch_id=tree["a"].pk, user_id=member.pk,
                         standing="full", moderator=False)
    assert run() == []
