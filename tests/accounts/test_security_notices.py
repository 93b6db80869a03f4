"""账号安全提醒: every change to how an account is entered reaches its owner, in the
inbox (the bell, the notifications page) and by e-mail, with the browser it came from;
a changed e-mail address is told to the old one; a login from a browser new to the
account is news, one from a known browser or the account's first login is not."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import outbox, security, two_factor
from accounts.actions import password_link
from accounts.identity import identity_for_user
from accounts.models import TwoFactor
from accounts.streams import inbox_stream
from frontend.notification_text import describe
from realtime.models import Event
from tests.accounts.test_two_factor import at_step, password_step, turn_on

# The mail thread reads what was committed.
pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
DESK = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def sends(settings):
    settings.SENDS_EMAIL = True
    settings.SITE_URL = "https://branchline.example.org"
    return settings


@pytest.fixture
def member(people):
    user = people["member"]
    user.email = "member@example.org"
    user.save()
    return user


def notices(user) -> list[Event]:
    return list(Event.objects.filter(stream_id=inbox_stream(user.pk), type__startswith="security.").order_by("seq"))


def signed_in(user, agent: str = DESK) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.force_login(user)
    return client


def log_in(user, client: Client | None = None, agent: str = PHONE) -> Client:
    client = client or Client(HTTP_USER_AGENT=agent)
    answer = client.post("/login/", {"username": user.username, "password": "pw-" + user.username})
    assert answer.status_code == 302, answer
    return client


def mails_to(address: str) -> list:
    outbox.wait_idle()
    return [m for m in mail.outbox if m.to == [address]]


def test_a_password_change_on_my_account_is_told_in_the_inbox_and_by_mail(sends, member):
    client = signed_in(member)
    answer = client.post("/account/", {"old_password": "pw-member", "new_password1": "a-new-secret-9",
                                       "new_password2": "a-new-secret-9"})
    assert answer.status_code == 302

    [event] = notices(member)
    assert event.type == security.PASSWORD_CHANGED
    assert event.data == {"browser": "Chrome · Windows", "ip": "127.0.0.1"}
    [message] = mails_to("member@example.org")
    assert message.subject == "Branchline 账号 member 的安全提醒"
    assert "您的账号密码已更改。" in message.body
    assert "来自：Chrome · Windows，127.0.0.1" in message.body
    assert "（Asia/Shanghai）" in message.body
    assert "https://branchline.example.org/account/" in message.body
    assert "忘记密码" in message.body  # what to do if it was not them
    (html, kind), = message.alternatives  # the same in the mails' HTML layout
    assert kind == "text/html" and "账号安全提醒" in html and "<h1" in html and "您的账号密码已更改。" in html
    assert "Chrome · Windows，127.0.0.1" in html and 'href="https://branchline.example.org/account/"' in html

    # On the notifications page, in words, with the way to the account page.
    [item] = describe([event])
    assert item["text"].startswith("您的账号密码已更改。") and item["url"] == reverse("account")


def test_a_wrong_old_password_changes_nothing_and_tells_nothing(sends, member):
    client = signed_in(member)
    answer = client.post("/account/", {"old_password": "guess", "new_password1": "a-new-secret-9",
                                       "new_password2": "a-new-secret-9"})
    assert answer.status_code == 200
    assert notices(member) == [] and mails_to("member@example.org") == []


def test_a_password_set_through_a_link_is_told(sends, member, people, tree):
    _user, uid, token = password_link(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                      user_id=member.pk)
    stranger = Client(HTTP_USER_AGENT=PHONE)
    form_page = stranger.get(reverse("password-reset-confirm", args=[uid, token]), follow=True)
    stranger.post(form_page.redirect_chain[-1][0], {"new_password1": "a-new-secret-9",
                                                    "new_password2": "a-new-secret-9"})
    assert get_user_model().objects.get(pk=member.pk).check_password("a-new-secret-9")
    [event] = notices(member)
    assert event.type == security.PASSWORD_CHANGED and event.data["browser"] == "Chrome · Android"
    assert len(mails_to("member@example.org")) == 1


def test_a_new_email_address_is_told_to_the_old_one(sends, member):
    client = signed_in(member)
    client.post("/account/", {"form": "email", "email": "someone-else@example.net", "announcements": "on"})
    [event] = notices(member)
    assert event.type == security.EMAIL_CHANGED
    assert event.data["old_email"] == "member@example.org" and event.data["email"] == "someone-else@example.net"
    [message] = mails_to("member@example.org")
    assert "someone-else@example.net" in message.body
    assert mails_to("someone-else@example.net") == []

    # Saving the same address again (the announcements box alone) is no news.
    client.post("/account/", {"form": "email", "email": "someone-else@example.net"})
    assert len(notices(member)) == 1


def test_a_login_from_a_browser_new_to_the_account_is_news_and_a_known_one_is_not(sends, member):
    # The account's first login ever: nothing to warn about.
    phone = log_in(member)
    assert notices(member) == []
    assert security.KNOWN_COOKIE in phone.cookies

    # The same browser again (it kept its cookie): no news either.
    phone.post("/logout/")
    log_in(member, phone)
    assert notices(member) == []

    # Another browser: news, with what it was.
    log_in(member, agent=DESK)
    [event] = notices(member)
    assert event.type == security.NEW_BROWSER and event.data["browser"] == "Chrome · Windows"
    [message] = mails_to("member@example.org")
    assert "此前从未使用过的浏览器" in message.body
    [item] = describe([event])
    assert item["url"] == reverse("account") + "#devices"

    # A wrong password is not a login.
    Client().post("/login/", {"username": "member", "password": "guess"})
    assert len(notices(member)) == 1


def test_one_browser_remembers_each_account_it_logged_in_to(member, people):
    shared = log_in(member)
    shared.post("/logout/")
    log_in(people["secretary"], shared)
    shared.post("/logout/")
    log_in(member, shared)
    # Neither account's login here was news; the cookie names no account in the clear.
    assert notices(member) == [] and notices(people["secretary"]) == []
    assert str(member.pk) not in shared.cookies[security.KNOWN_COOKIE].value.split(".")
    assert len(shared.cookies[security.KNOWN_COOKIE].value.split(".")) == 2


def test_a_forged_cookie_does_not_make_a_browser_known(member):
    log_in(member)  # the first login
    forger = Client(HTTP_USER_AGENT=DESK)
    forger.cookies[security.KNOWN_COOKIE] = f"{member.pk}.0123456789abcdef0123"
    log_in(member, forger)
    assert [e.type for e in notices(member)] == [security.NEW_BROWSER]


def test_two_step_verification_changes_are_told(sends, member):
    owner = signed_in(member)
    totp, codes = turn_on(owner, member)
    assert [e.type for e in notices(member)] == [security.TWO_FACTOR_ON]

    owner.post("/account/", {"form": "2fa-codes", "code": at_step(totp, 1)})
    assert notices(member)[-1].type == security.RECOVERY_CODES
    codes = re.findall(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4})</code></li>",
                       owner.get("/account/").content.decode()) or codes

    # A login with a recovery code: told, with how many are left; the browser is new too.
    member.last_login = None  # (force_login counted as a login; this is the first real one)
    member.save(update_fields=["last_login"])
    client = password_step("member")
    assert client.post("/login/code/", {"code": codes[0]}).status_code == 302
    used = notices(member)[-1]
    assert used.type == security.RECOVERY_USED and used.data["left"] == 9

    # Turning it off with a wrong code tells nothing; with a good one, it does.
    TwoFactor.objects.filter(user=member).update(last_step=0)
    owner.post("/account/", {"form": "2fa-off", "code": "000000"})
    assert notices(member)[-1].type == security.RECOVERY_USED
    owner.post("/account/", {"form": "2fa-off", "code": pyotp.TOTP(two_factor.app_key(TwoFactor.objects.get(user=member))).now()})
    assert notices(member)[-1].type == security.TWO_FACTOR_OFF

    kinds = [e.type for e in notices(member)]
    assert kinds == [security.TWO_FACTOR_ON, security.RECOVERY_CODES, security.RECOVERY_USED, security.TWO_FACTOR_OFF]
    assert len(mails_to("member@example.org")) == 4


def test_what_an_administrator_does_is_told_too(sends, member, make_user):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    admin = signed_in(boss)
    turn_on(signed_in(member), member)

    # Deleting the two-step row (the reset for someone who lost the phone and the codes).
    row = TwoFactor.objects.get(user=member)
    admin.post(f"/admin/accounts/twofactor/{row.pk}/delete/", {"post": "yes"})
    assert not TwoFactor.objects.filter(user=member).exists()
    off = notices(member)[-1]
    assert off.type == security.TWO_FACTOR_OFF and off.data == {"by": "admin"}

    # A new password set in the admin.
    answer = admin.post(f"/admin/auth/user/{member.pk}/password/",
                        {"password1": "set-by-admin-7", "password2": "set-by-admin-7", "usable_password": "true"})
    assert answer.status_code == 302
    changed = notices(member)[-1]
    assert changed.type == security.PASSWORD_CHANGED and changed.data == {"by": "admin"}
    assert "管理员为您的账号设置了新密码" in describe([changed])[0]["text"]

    # A new e-mail address set in the admin: told to the old one.
    answer = admin.post(f"/admin/auth/user/{member.pk}/change/", {
        "username": "member", "first_name": "Member", "last_name": "", "email": "new@example.org",
        "is_active": "on", "date_joined_0": "2026-01-05", "date_joined_1": "09:00:00",
        "initial-date_joined_0": "2026-01-05", "initial-date_joined_1": "09:00:00"})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    moved = notices(member)[-1]
    assert moved.type == security.EMAIL_CHANGED and moved.data["email"] == "new@example.org"
    assert len(mails_to("member@example.org")) == 4  # on, off, password, address
    assert mails_to("new@example.org") == []


def test_the_bell_counts_security_notices(member):
    client = signed_in(member)
    client.post("/account/", {"old_password": "pw-member", "new_password1": "a-new-secret-9",
                              "new_password2": "a-new-secret-9"})
    page = client.get(reverse("notifications")).content.decode()
    assert "您的账号密码已更改。" in page


def test_without_mail_the_inbox_still_has_it(member, settings):
    settings.SENDS_EMAIL = False
    signed_in(member).post("/account/", {"old_password": "pw-member", "new_password1": "a-new-secret-9",
                                         "new_password2": "a-new-secret-9"})
    assert len(notices(member)) == 1 and mails_to("member@example.org") == []


def test_a_secretarys_password_link_is_told_to_someone_in_use_not_to_a_new_account(sends, member, people, tree):
    secretary = identity_for_user(people["secretary"])
    password_link(identity=secretary, branch_id=tree["a"].pk, user_id=member.pk)
    assert notices(member) == []  # never logged in: their first password

    signed_in(member)  # in use now
    password_link(identity=secretary, branch_id=tree["a"].pk, user_id=member.pk)
    [event] = notices(member)
    assert event.type == security.PASSWORD_LINK and event.data == {"by": "Secretary"}
    assert describe([event])[0]["text"].startswith("支部书记 Secretary 为您的账号生成了设置新密码的链接。")
    assert len(mails_to("member@example.org")) == 1
