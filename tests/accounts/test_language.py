"""语言 follows the member: the header's switch keeps a logged-in member's choice, a
login in another browser takes it up, and their mail (announcements, security notices)
is written in it; without a choice everything is in Chinese."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts import outbox, security
from accounts.identity import identity_for_user
from accounts.models import MailSettings
from announcements import actions

pytestmark = pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed


def switch(client: Client, code: str):
    return client.post("/i18n/setlang/", {"language": code, "next": "/account/"})


def test_a_members_choice_is_kept_and_another_browser_takes_it_up(people):
    phone = Client()
    phone.force_login(people["member"])
    answer = switch(phone, "en")
    assert answer.status_code == 302 and phone.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert MailSettings.objects.get(user=people["member"]).language == "en"
    assert "My account" in phone.get("/account/").content.decode()

    # Logging in on the computer: English there too, from the first page.
    computer = Client()
    assert computer.get("/login/").content.decode().count("登录") > 0  # not known yet: Chinese
    computer.post("/login/", {"username": "member", "password": "pw-member"})
    assert computer.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "My account" in computer.get("/account/").content.decode()

    # Back to Chinese: kept the same way.
    switch(computer, "zh-hans")
    assert MailSettings.objects.get(user=people["member"]).language == "zh-hans"


def test_a_visitors_choice_and_an_unknown_language_are_not_kept(people):
    switch(Client(), "en")
    member = Client()
    member.force_login(people["member"])
    switch(member, "xx")
    assert not MailSettings.objects.exists()
    # A member who never chose logs in without a language cookie: the site's Chinese.
    fresh = Client()
    fresh.post("/login/", {"username": "member", "password": "pw-member"})
    assert settings.LANGUAGE_COOKIE_NAME not in fresh.cookies


def test_mail_is_written_in_each_members_language(settings, people, tree):
    settings.SENDS_EMAIL = True
    for name in ("member", "moderator"):
        people[name].email = f"{name}@example.org"
        people[name].save()
    MailSettings.objects.create(user=people["moderator"], language="en")

    actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                              title="周六志愿服务", body="上午九点集合")
    outbox.wait_idle()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert "网页查看：" in by_address["member@example.org"].body
    assert "On the site:" in by_address["moderator@example.org"].body
    assert "On the site:" not in by_address["member@example.org"].body

    mail.outbox.clear()
    security.notify(people["moderator"], security.PASSWORD_CHANGED)
    outbox.wait_idle()
    [notice] = mail.outbox
    assert notice.subject == "Security notice for your Branchline account moderator"
    assert "The password of your account was changed." in notice.body
