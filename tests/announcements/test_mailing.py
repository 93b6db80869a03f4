"""New announcements by e-mail (when the server sends mail): after the commit, from a
background thread, to the branch's members with an address who have not turned it off,
never to the author; nothing for a post that rolled back or a server without mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client

from accounts import outbox
from accounts.identity import identity_for_user
from accounts.models import MailSettings
from announcements import actions
from announcements.models import Announcement
from tests.realtime.conftest import connect  # noqa: F401  (the /ws/ fixture)

pytestmark = pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed


@pytest.fixture
def sends(settings):
    settings.SENDS_EMAIL = True
    settings.SITE_URL = "https://branchline.example.org"
    return settings


def with_addresses(people):
    for name in ("secretary", "member", "probationary", "moderator", "other_secretary"):
        people[name].email = f"{name}@example.org"
        people[name].save()


def post(people, tree, title="周六志愿服务"):
    return actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                     title=title, body="上午九点集合\n**自带水杯**")


def test_members_who_want_it_get_the_announcement_by_mail(sends, people, tree):
    with_addresses(people)
    MailSettings.objects.create(user=people["moderator"], announcements=False)  # turned off
    people["probationary"].is_active = False
    people["probationary"].save()
    post(people, tree)
    outbox.wait_idle()
    assert sorted(m.to[0] for m in mail.outbox) == ["member@example.org"]  # not the author, nor branch B
    message = mail.outbox[0]
    assert message.subject == "[第一党支部] 周六志愿服务"
    assert "上午九点集合\n**自带水杯**" in message.body  # the text as written
    announcement_id = Announcement.objects.get(title="周六志愿服务").pk
    assert f"https://branchline.example.org/announcements/{announcement_id}/" in message.body
    assert "https://branchline.example.org/account/" in message.body


def test_no_mail_without_a_mail_server_or_after_a_rollback(settings, people, tree):
    with_addresses(people)
    settings.SENDS_EMAIL = False
    post(people, tree)
    outbox.wait_idle()
    assert mail.outbox == []

    settings.SENDS_EMAIL = True
    with pytest.raises(RuntimeError), transaction.atomic():
        post(people, tree, title="撤销的")
        raise RuntimeError("the enclosing write failed")
    outbox.wait_idle()
    assert mail.outbox == []


def test_a_member_turns_announcement_mail_off_and_on(people):
    client = Client()
    client.force_login(people["member"])
    page = client.get("/account/").content.decode()
    assert "有新的通知公告时发邮件给我" in page and "checked" in page  # on by default
    client.post("/account/", {"form": "email", "email": "member@example.org"})  # box left unticked
    assert MailSettings.objects.get(user=people["member"]).announcements is False
    client.post("/account/", {"form": "email", "email": "member@example.org", "announcements": "on"})
    assert MailSettings.objects.get(user=people["member"]).announcements is True


async def test_a_post_over_the_socket_is_mailed_after_its_batch_commits(sends, connect, people, tree):  # noqa: F811
    from channels.db import database_sync_to_async

    await database_sync_to_async(with_addresses)(people)
    secretary = await connect(people["secretary"])
    reply = await secretary.call("announcements.post", {"branch": tree["a"].pk, "title": "从页面发布", "body": "正文"},
                                 cid="mail-00001")
    assert reply["op"] == "ok"
    await database_sync_to_async(outbox.wait_idle)()
    assert sorted(m.to[0] for m in mail.outbox) == ["member@example.org", "moderator@example.org",
                                                   "probationary@example.org"]
    assert all(m.subject == "[第一党支部] 从页面发布" for m in mail.outbox)


def test_the_mail_links_the_announcements_files(sends, people, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from announcements.attachments import upload_attachment

    with_addresses(people)
    secretary = identity_for_user(people["secretary"])
    pdf = upload_attachment(identity=secretary, branch_id=tree["a"].pk,
                            uploaded=SimpleUploadedFile("学习提纲.pdf", b"%PDF-1.4 outline"))
    actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="学习材料", body="见附件",
                              attachments=[pdf.pk])
    outbox.wait_idle()
    body = mail.outbox[0].body
    assert "附件：" in body
    assert f"- 学习提纲.pdf: https://branchline.example.org/attachments/{pdf.pk}/" in body
    assert not mail.outbox[0].attachments  # linked, for members only; not sent out


def test_each_mail_carries_its_own_one_click_unsubscribe_link(sends, people, tree):
    with_addresses(people)
    post(people, tree)
    outbox.wait_idle()
    by_address = {m.to[0]: m for m in mail.outbox}
    message = by_address["member@example.org"]
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://branchline.example.org/mail/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body
    assert by_address["probationary@example.org"].extra_headers["List-Unsubscribe"] != message.extra_headers[
        "List-Unsubscribe"]  # each their own
    path = link.removeprefix("https://branchline.example.org")

    # Opening it (as a mail scanner would) asks, and changes nothing.
    page = Client().get(path)
    assert page.status_code == 200 and "unsubscribe-form" in page.content.decode()
    assert not MailSettings.objects.filter(user=people["member"]).exists()
    # A mail program's one click (no CSRF token, no session) stops them.
    done = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert MailSettings.objects.get(user=people["member"]).announcements is False
    mail.outbox.clear()
    post(people, tree, title="第二条")
    outbox.wait_idle()
    assert "member@example.org" not in [m.to[0] for m in mail.outbox]

    # A link that is not ours does nothing.
    for bad in (path[:-3] + "xx/", "/mail/unsubscribe/1/"):
        refused = Client().post(bad)
        assert refused.status_code == 404 and "此链接无效" in refused.content.decode()


def test_the_mail_has_the_announcement_formatted_in_html_too(sends, people, tree):
    with_addresses(people)
    secretary = identity_for_user(people["secretary"])
    a = actions.post_announcement(
        identity=secretary, branch_id=tree["a"].pk, title="<b>周六</b> 志愿服务",
        body="上午九点集合\n\n- **自带水杯**\n- 见[活动安排](/forum/topics/3/)\n\n<script>alert(1)</script>")
    outbox.wait_idle()
    message = next(m for m in mail.outbox if m.to == ["member@example.org"])
    (html, kind), = message.alternatives
    assert kind == "text/html"
    assert "<li><strong>自带水杯</strong></li>" in html  # formatted as on the site
    assert 'href="https://branchline.example.org/forum/topics/3/"' in html  # a site link made absolute
    assert "<script>" not in html and "&lt;b&gt;周六&lt;/b&gt; 志愿服务" in html  # sanitised, the title escaped
    assert f'href="https://branchline.example.org/announcements/{a.pk}/"' in html and "在网站上查看" in html
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert f'href="{link}"' in html and '<html lang="zh-hans">' in html
    assert "**自带水杯**" in message.body  # the plain part: the text as written


def test_a_reminder_says_so_in_html_too(sends, people, tree):
    with_addresses(people)
    a = post(people, tree)
    outbox.wait_idle()
    mail.outbox.clear()
    actions.remind_unread(identity=identity_for_user(people["secretary"]), announcement_id=a.pk)
    outbox.wait_idle()
    message = next(m for m in mail.outbox if m.to == ["member@example.org"])
    assert message.subject.startswith("提醒：") and ">提醒阅读</strong>" in message.alternatives[0][0]
