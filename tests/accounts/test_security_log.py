"""安全记录: every login (and how), every wrong password or code typed for an account
and every security notice is kept for 90 days, with the browser and address; 我的账号
shows the newest and /account/security/ all of them, a page at a time, to the member
alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts import security
from accounts.models import SecurityRecord
from accounts.throttle import LIMIT
from tests.accounts.test_two_factor import at_step, password_step, turn_on

pytestmark = pytest.mark.django_db

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def records(user) -> list[tuple[str, dict]]:
    return [(r.kind, r.data) for r in SecurityRecord.objects.filter(user=user).order_by("at", "id")]


def log_in(client: Client, username: str, password: str | None = None):
    return client.post("/login/", {"username": username, "password": password or f"pw-{username}"},
                       HTTP_USER_AGENT=CHROME, REMOTE_ADDR="203.0.113.7")


def test_each_login_is_kept_with_how_and_whether_the_browser_was_new(people):
    member = people["member"]
    browser = Client()
    assert log_in(browser, "member").status_code == 302  # the account's first login: not news
    assert log_in(Client(), "member").status_code == 302  # another browser
    kept = records(member)
    assert [kind for kind, _data in kept] == ["security.login", "security.login"]
    assert kept[0][1] == {"how": "password", "browser": "Chrome · Windows", "ip": "203.0.113.7"}
    assert kept[1][1]["new_browser"] is True
    # Its notice went to the inbox as before, and is not kept twice in the log.
    assert not SecurityRecord.objects.filter(kind=security.NEW_BROWSER).exists()


def test_wrong_passwords_are_kept_for_accounts_that_exist_and_not_past_the_limit(people):
    member = people["member"]
    client = Client()
    for _ in range(LIMIT + 3):
        log_in(client, "member", "wrong")
    log_in(client, "nobody-here", "wrong")
    failed = [data for kind, data in records(member) if kind == security.LOGIN_FAILED]
    assert len(failed) == LIMIT  # the throttled ones were refused unchecked: not kept
    assert failed[0] == {"step": "password", "browser": "Chrome · Windows", "ip": "203.0.113.7"}
    # and the owner was told that logging in stopped (below)
    assert SecurityRecord.objects.exclude(kind=security.LOGIN_FAILED).get().kind == security.LOCKED


def test_two_step_logins_and_wrong_codes_are_kept(people):
    member = people["member"]
    owner = Client()
    owner.force_login(member)
    totp, codes = turn_on(owner, member)
    SecurityRecord.objects.all().delete()
    client = password_step("member")
    client.post("/login/code/", {"code": "000000" if at_step(totp, 1) != "000000" else "111111"})
    client.post("/login/code/", {"code": at_step(totp, 1)})
    other = password_step("member")
    other.post("/login/code/", {"code": codes[0]})
    kinds = [(kind, data.get("how") or data.get("step")) for kind, data in records(member)]
    assert kinds == [(security.LOGIN_FAILED, "code"), (security.LOGIN, "code"),
                     (security.LOGIN, "recovery"), (security.RECOVERY_USED, None)]


def test_notices_are_kept_too(people):
    member = people["member"]
    security.notify(member, security.PASSWORD_CHANGED)
    security.notify(member, security.PASSKEY_ADDED, name="我的手机")
    assert records(member) == [(security.PASSWORD_CHANGED, {}), (security.PASSKEY_ADDED, {"name": "我的手机"})]


def test_my_account_shows_the_newest_and_its_page_the_rest_to_the_member_alone(people):
    member, other = people["member"], people["moderator"]
    now = timezone.now()
    SecurityRecord.objects.bulk_create(  # oldest first, as they happen
        [SecurityRecord(user=member, kind=security.LOGIN, data={"how": "passkey", "ip": f"198.51.100.{i}"},
                        at=now - timedelta(minutes=i)) for i in range(60, 0, -1)]
        + [SecurityRecord(user=member, kind=security.LOGIN_FAILED, data={"step": "password"}, at=now),
           SecurityRecord(user=other, kind=security.LOGIN, data={"ip": "192.0.2.99"}, at=now)])
    client = Client()
    client.force_login(member)
    client.cookies["django_language"] = "en"
    page = client.get("/account/").content.decode()
    section = page[page.index('id="security-log"'):page.index('id="devices"')]
    assert section.count('class="security-record') == 8
    assert "A wrong password was typed for your account." in section and "is-failed" in section
    assert "Logged in with a passkey." in section and "198.51.100.1<" in section and "198.51.100.8<" not in section
    assert 'href="/account/security/"' in section and "192.0.2.99" not in page

    first = client.get("/account/security/").content.decode()
    assert first.count('class="security-record') == security.LOG_PAGE and "192.0.2.99" not in first
    older = int(first.split('href="?before=')[1].split('"')[0])
    rest = client.get(f"/account/security/?before={older}").content.decode()
    assert rest.count('class="security-record') == 61 - security.LOG_PAGE and "198.51.100.60<" in rest
    assert 'href="?before=' not in rest
    assert Client().get("/account/security/").status_code == 302  # logged out: the login page


def test_records_older_than_the_log_keeps_go(people):
    member = people["member"]
    now = timezone.now()
    SecurityRecord.objects.bulk_create([
        SecurityRecord(user=member, kind=security.LOGIN, at=now - timedelta(days=security.LOG_DAYS, minutes=1)),
        SecurityRecord(user=member, kind=security.LOGIN, at=now - timedelta(days=security.LOG_DAYS - 1))])
    assert security.prune_log() == 1
    assert SecurityRecord.objects.count() == 1


def test_administrators_see_everyones_log_and_cannot_change_it(people, make_user):
    member = people["member"]
    log_in(Client(), "member", "wrong")
    boss = make_user("boss", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(boss)
    admin.cookies["django_language"] = "en"
    listing = admin.get("/admin/accounts/securityrecord/").content.decode()
    assert "A wrong password was typed for your account." in listing and "Chrome · Windows, 203.0.113.7" in listing
    record = SecurityRecord.objects.get(user=member)
    assert admin.get("/admin/accounts/securityrecord/add/").status_code == 403
    admin.post(f"/admin/accounts/securityrecord/{record.pk}/change/", {"kind": "security.login"})
    assert SecurityRecord.objects.get(pk=record.pk).kind == security.LOGIN_FAILED
    # Deleting the person deletes their log with them.
    admin.post(f"/admin/auth/user/{member.pk}/delete/", {"post": "yes"})
    assert not SecurityRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db(transaction=True)  # the mail thread reads what was committed
def test_the_owner_hears_once_when_guessing_stops_their_logins(people, settings):
    from django.core import mail

    from accounts import outbox
    from accounts.models import SecurityRecord as Record
    from realtime.models import Event

    settings.SENDS_EMAIL = True
    member = people["member"]
    member.email = "member@example.org"
    member.save()
    client = Client()
    for _ in range(LIMIT + 5):
        log_in(client, "member", "wrong")
    outbox.wait_idle()
    locked = Event.objects.filter(stream_id=f"inbox:{member.pk}", type=security.LOCKED)
    assert locked.count() == 1 and locked.get().data == {"minutes": 15, "browser": "Chrome · Windows",
                                                          "ip": "203.0.113.7"}
    assert Record.objects.filter(user=member, kind=security.LOCKED).count() == 1
    (message,) = [m for m in mail.outbox if m.to == ["member@example.org"]]
    assert "15 分钟" in message.body and "203.0.113.7" in message.body
