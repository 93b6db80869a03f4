"""两步验证: turning it on from 我的账号, logging in with a code, recovery codes, and
what a wrong or replayed code gets."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from accounts import throttle, two_factor
from accounts.models import LoginFailure, TwoFactor
from frontend import two_factor_views

pytestmark = pytest.mark.django_db


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def turn_on(client, user) -> tuple[pyotp.TOTP, list[str]]:
    client.post("/account/", {"form": "2fa-start"})
    setup = TwoFactor.objects.get(user=user)
    totp = pyotp.TOTP(two_factor.app_key(setup))
    page = client.post("/account/", {"form": "2fa-confirm", "code": totp.now(), "password": f"pw-{user.username}"},
                       follow=True).content.decode()
    codes = re.findall(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4})</code></li>", page)
    return totp, codes


def at_step(totp: pyotp.TOTP, steps: int) -> str:
    return totp.at(timezone.now() + timedelta(seconds=30 * steps))


@pytest.fixture
def member_with_it(people) -> tuple:
    """The member, with 两步验证 turned on from their account page: (user, app, recovery codes)."""
    user = people["member"]
    owner = Client()
    owner.force_login(user)
    totp, codes = turn_on(owner, user)
    return user, totp, codes


def password_step(username: str, next_url: str = "/account/") -> Client:
    client = Client()
    answer = client.post(f"/login/?next={next_url}", {"username": username, "password": "pw-" + username})
    assert answer.status_code == 302 and answer["Location"] == "/login/code/", answer
    assert not logged_in(client)
    return client


def test_turning_it_on_shows_a_qr_code_and_needs_a_code_from_the_app(people):
    user = people["member"]
    client = Client()
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert 'value="2fa-start"' in page

    client.post("/account/", {"form": "2fa-start"})
    page = client.get("/account/").content.decode()
    setup = TwoFactor.objects.get(user=user)
    assert setup.confirmed_at is None and len(two_factor.app_key(setup)) == 32
    assert '<svg width=' in page and 'class="qr"' in page and " style=" not in page.split('class="qr-box"')[1][:4000]
    assert two_factor.grouped_secret(setup) in page
    assert not two_factor.enabled(user)

    # A wrong code leaves it off; the password alone still logs in.
    client.post("/account/", {"form": "2fa-confirm", "code": "000000", "password": "pw-member"})
    assert not two_factor.enabled(user)
    # So does a right code without the password (a stolen session could otherwise lock
    # the owner out with the thief's phone), which counts as a failed login.
    client.post("/account/", {"form": "2fa-confirm", "code": pyotp.TOTP(two_factor.app_key(setup)).now(), "password": "guess"})
    assert not two_factor.enabled(user) and LoginFailure.objects.filter(username="member").count() == 1
    assert Client().post("/login/", {"username": "member", "password": "pw-member"})["Location"] == "/"

    page = client.post("/account/", {"form": "2fa-confirm", "code": pyotp.TOTP(two_factor.app_key(setup)).now(),
                                     "password": "pw-member"}, follow=True).content.decode()
    assert two_factor.enabled(user)
    codes = re.findall(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4})</code></li>", page)
    assert len(codes) == 10 and len(set(codes)) == 10
    # Only their digests are kept, and the page does not show them again.
    assert not any(code in str(TwoFactor.objects.get(user=user).recovery) for code in codes)
    again = client.get("/account/").content.decode()
    assert codes[0] not in again and two_factor.recovery_left(user) == 10


def test_login_asks_for_the_code_after_the_password(member_with_it):
    user, totp, _codes = member_with_it

    client = password_step("member", "/account/")
    assert client.get("/account/")["Location"].startswith("/login/")  # not logged in meanwhile
    page = client.get("/login/code/")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()

    wrong = client.post("/login/code/", {"code": "123456" if totp.now() != "123456" else "654321"})
    assert wrong.status_code == 400 and not logged_in(client)
    assert LoginFailure.objects.filter(username="member").count() == 1  # counts as a failed login

    answer = client.post("/login/code/", {"code": at_step(totp, 1)})  # a phone a little ahead
    assert answer.status_code == 302 and answer["Location"] == "/account/"
    assert logged_in(client) and int(client.session["_auth_user_id"]) == user.pk
    assert two_factor_views.PENDING not in client.session
    assert not LoginFailure.objects.filter(username="member").exists()

    # That code, and any of its step or before, is spent: a second login cannot reuse it.
    second = password_step("member")
    assert second.post("/login/code/", {"code": at_step(totp, 1)}).status_code == 400
    assert second.post("/login/code/", {"code": at_step(totp, 0)}).status_code == 400
    assert not logged_in(second)


def fresh_code(totp) -> str:
    """The app's code now, as if no code had been used yet (each is good once)."""
    TwoFactor.objects.update(last_step=0)
    return totp.now()


def remembered(totp) -> Client:
    """A browser that logged in with a code and the box "do not ask again" ticked."""
    client = password_step("member")
    page = client.get("/login/code/").content.decode()
    assert 'name="remember"' in page and "30 天内" in page
    assert client.post("/login/code/", {"code": fresh_code(totp), "remember": "on"}).status_code == 302
    client.post("/logout/")
    return client


def password_alone(client: Client) -> str:
    answer = client.post("/login/", {"username": "member", "password": "pw-member"})
    assert answer.status_code == 302
    return answer["Location"]


def test_a_remembered_browser_logs_in_with_the_password_alone(member_with_it):
    user, totp, _codes = member_with_it
    browser = remembered(totp)
    assert password_alone(browser) == "/" and logged_in(browser)

    # Other browsers still owe a code, and so does this one without the password.
    password_step("member")
    browser.post("/logout/")
    assert browser.post("/login/", {"username": "member", "password": "guess"}).status_code == 200
    assert not logged_in(browser)

    # Without the box ticked, nothing is remembered.
    plain = password_step("member")
    assert plain.post("/login/code/", {"code": fresh_code(totp)}).status_code == 302 and logged_in(plain)
    plain.post("/logout/")
    assert password_alone(plain) == "/login/code/"


def test_remembering_ends_with_a_new_password_or_when_asked_or_in_30_days(member_with_it, monkeypatch):
    user, totp, _codes = member_with_it
    # Asked on 我的账号: every remembered browser owes a code again.
    browser = remembered(totp)
    owner = Client()
    owner.force_login(user)
    page = owner.get("/account/").content.decode()
    assert 'value="2fa-forget"' in page
    owner.post("/account/", {"form": "2fa-forget"})
    assert password_alone(browser) == "/login/code/"

    # A new password.
    browser = remembered(totp)
    user.set_password("pw-member")  # the same words, a new hash: as after any change
    user.save()
    assert password_alone(browser) == "/login/code/"

    # A cookie older than TRUST_DAYS.
    long_ago = int(time.time()) - two_factor.TRUST_DAYS * 86400 - 60
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(long_ago))
    browser = remembered(totp)
    monkeypatch.undo()
    assert password_alone(browser) == "/login/code/"


def test_a_tampered_or_borrowed_cookie_is_not_remembering(member_with_it, people):
    user, totp, _codes = member_with_it
    browser = remembered(totp)
    [name] = [n for n in browser.cookies if n.startswith("bl_2fa_")]
    stranger = Client()
    stranger.cookies[name] = browser.cookies[name].value[:-2] + "xx"
    assert password_alone(stranger) == "/login/code/"
    # Turned off and on again (a new key): the old cookie no longer counts.
    TwoFactor.objects.filter(user=user).delete()
    totp, _codes = turn_on(_owner(user), user)
    assert password_alone(browser) == "/login/code/"


def _owner(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_recovery_code_works_once_and_says_how_many_are_left(member_with_it):
    user, _totp, codes = member_with_it

    client = password_step("member")
    answer = client.post("/login/code/", {"code": codes[3].upper().replace("-", " ")}, follow=True)
    assert logged_in(client) and 'class="flash-warning"' in answer.content.decode()
    assert two_factor.recovery_left(user) == 9
    again = password_step("member")
    assert again.post("/login/code/", {"code": codes[3]}).status_code == 400


def test_wrong_codes_send_back_to_the_password_and_throttle_the_username(member_with_it):
    user, totp, _codes = member_with_it

    client = password_step("member")
    for _ in range(two_factor_views.TRIES - 1):
        assert client.post("/login/code/", {"code": "abcdefgh"}).status_code == 400
    last = client.post("/login/code/", {"code": "abcdefgh"})
    assert last.status_code == 302 and last["Location"] == "/login/"
    assert client.get("/login/code/")["Location"] == "/login/"  # the password again
    assert not logged_in(client)

    # Past the username's limit the code step refuses even a right code, and the
    # password step refuses the password.
    waiting = password_step("member")
    for _ in range(throttle.LIMIT):
        throttle.record_failure("member", None)
    assert waiting.post("/login/code/", {"code": at_step(totp, 1)})["Location"] == "/login/"
    assert not logged_in(waiting)
    refused = Client().post("/login/", {"username": "member", "password": "pw-member"})
    assert refused.status_code == 200 and 'id="login-error"' in refused.content.decode()


def test_the_time_for_the_code_runs_out(member_with_it):
    user, totp, _codes = member_with_it
    client = password_step("member")
    session = client.session
    session[two_factor_views.PENDING]["at"] -= two_factor_views.PENDING_SECONDS + 1
    session.save()
    answer = client.post("/login/code/", {"code": at_step(totp, 1)})
    assert answer["Location"] == "/login/" and not logged_in(client)


def test_turning_it_off_and_new_recovery_codes_need_a_good_code(people):
    user = people["member"]
    client = Client()
    client.force_login(user)
    totp, codes = turn_on(client, user)

    client.post("/account/", {"form": "2fa-off", "code": "000000"})
    assert two_factor.enabled(user)
    page = client.post("/account/", {"form": "2fa-codes", "code": codes[0]}, follow=True).content.decode()
    fresh = re.findall(r"<li><code>([a-z0-9]{4}-[a-z0-9]{4})</code></li>", page)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert two_factor.check(user, codes[1]) is None  # the old ones are gone

    client.post("/account/", {"form": "2fa-off", "code": at_step(totp, 1)})
    assert not two_factor.enabled(user) and not TwoFactor.objects.filter(user=user).exists()
    assert Client().post("/login/", {"username": "member", "password": "pw-member"})["Location"] == "/"


def test_the_admin_login_is_the_sites_and_asks_for_the_code(people, make_user):
    staff = make_user("boss", is_staff=True, is_superuser=True)
    owner = Client()
    owner.force_login(staff)
    totp, _codes = turn_on(owner, staff)

    client = Client()
    answer = client.get("/admin/login/?next=/admin/accounts/branch/")
    assert answer["Location"] == "/login/?next=%2Fadmin%2Faccounts%2Fbranch%2F"
    assert client.get("/admin/login/?next=https://evil.example/")["Location"] == "/login/?next=%2Fadmin%2F"
    # Django's own admin login form is not reachable: posting to it changes nothing.
    client.post("/admin/login/", {"username": "boss", "password": "pw-boss"})
    assert not logged_in(client)

    client = password_step("boss", "/admin/")
    assert client.post("/login/code/", {"code": at_step(totp, 1)})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    # Someone logged in without the admin right is told so, not sent round in a loop.
    member = Client()
    member.force_login(people["member"])
    assert member.get("/admin/login/?next=/admin/").status_code == 403


def test_guessing_codes_on_the_account_page_counts_as_failed_logins(people):
    user = people["member"]
    client = Client()
    client.force_login(user)
    totp, _codes = turn_on(client, user)
    for _ in range(throttle.LIMIT):
        client.post("/account/", {"form": "2fa-off", "code": "000000" if totp.now() != "000000" else "111111"})
    assert LoginFailure.objects.filter(username="member").count() == throttle.LIMIT
    page = client.post("/account/", {"form": "2fa-off", "code": at_step(totp, 1)}, follow=True).content.decode()
    assert two_factor.enabled(user) and "15 分钟后再试" in page


def test_the_admin_can_require_it_of_staff(make_user, settings):
    settings.ADMIN_TWO_FACTOR = True
    staff = make_user("boss", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    answer = client.get("/admin/accounts/branch/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    page = client.get(answer["Location"], follow=True)
    assert page.redirect_chain[-1][0] == "/account/#two-factor"
    assert "管理后台只对使用两步验证登录的工作人员开放" in page.content.decode()

    turn_on(client, staff)
    assert client.get("/admin/accounts/branch/").status_code == 200
    settings.ADMIN_TWO_FACTOR = False
    other = make_user("boss2", is_staff=True, is_superuser=True)
    client.force_login(other)
    assert client.get("/admin/accounts/branch/").status_code == 200


# -- the app's key, sealed under SECRET_KEY -------------------------------------------------


def test_the_key_is_kept_sealed_and_opens_only_on_its_own_row(people):
    member, other = people["member"], people["moderator"]
    client = Client()
    client.force_login(member)
    totp, _codes = turn_on(client, member)
    row = TwoFactor.objects.get(user=member)
    stored = bytes(row.sealed_key)
    assert totp.secret.encode() not in stored and len(stored) == 1 + 12 + 32 + 16
    # Copied onto another member's row (someone with the database alone), it opens on none.
    copied = TwoFactor.objects.create(user=other, sealed_key=stored, confirmed_at=timezone.now())
    assert two_factor.app_key(copied) is None
    assert two_factor.check(other, totp.now()) is None


def test_after_the_secret_key_changes_the_old_one_opens_keys_and_each_is_sealed_again(people, settings):
    member = people["member"]
    client = Client()
    client.force_login(member)
    totp, _codes = turn_on(client, member)
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [old]
    client = password_step(member.username)
    assert client.post("/login/code/", {"code": at_step(totp, 1)}).status_code == 302 and logged_in(client)
    settings.SECRET_KEY_FALLBACKS = []  # sealed again at that code: the old key is no longer needed
    assert two_factor.app_key(TwoFactor.objects.get(user=member)) == totp.secret


def test_without_the_old_key_a_recovery_code_logs_in_and_says_what_to_do(people, settings):
    member = people["member"]
    client = Client()
    client.force_login(member)
    totp, codes = turn_on(client, member)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, []
    client = password_step(member.username)
    client.cookies["django_language"] = "en"
    refused = client.post("/login/code/", {"code": at_step(totp, 1)})
    assert refused.status_code == 400 and "its secret key was changed" in refused.content.decode()
    assert client.post("/login/code/", {"code": codes[0]}).status_code == 302 and logged_in(client)
    # Turned off with another recovery code, and on again with a new key.
    client.post("/account/", {"form": "2fa-off", "code": codes[1]})
    assert not two_factor.enabled(member)
    turn_on(client, member)
    assert two_factor.enabled(member) and two_factor.app_key(TwoFactor.objects.get(user=member)) is not None


def test_the_command_seals_every_key_again_under_the_new_one(people, make_user, settings, capsys):
    from django.core.management import call_command

    for user in (people["member"], people["moderator"]):
        client = Client()
        client.force_login(user)
        turn_on(client, user)
    stranger = make_user("stranger")
    TwoFactor.objects.create(user=stranger, sealed_key=b"\x01" + bytes(60), confirmed_at=timezone.now())
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [old]
    call_command("reseal_two_factor")
    out, err = capsys.readouterr()
    assert "sealed 2 keys again" in out and "1 keys open with no configured key" in err
    settings.SECRET_KEY_FALLBACKS = []
    assert all(two_factor.app_key(TwoFactor.objects.get(user=people[name])) for name in ("member", "moderator"))
    call_command("reseal_two_factor")
    assert "sealed 0 keys again" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_keys_kept_as_text(people):
    from django.core.management import call_command
    from django.db import connection

    member = people["member"]
    try:
        call_command("migrate", "accounts", "0010", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO accounts_twofactor (user_id, secret, confirmed_at, last_step, recovery, "
                           "trust_epoch, created_at) VALUES (%s, %s, %s, 0, %s, 0, %s)",
                           [member.pk, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", timezone.now(), "[]", timezone.now()])
    finally:
        call_command("migrate", verbosity=0)  # every app: going back took what depends on accounts too
    row = TwoFactor.objects.get(user=member)
    assert b"JBSWY3DP" not in bytes(row.sealed_key)
    assert two_factor.app_key(row) == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert two_factor.check(member, pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now()) == "app"


def test_a_setup_begun_under_a_key_no_longer_kept_starts_again(people, settings):
    member = people["member"]
    client = Client()
    client.force_login(member)
    client.post("/account/", {"form": "2fa-start"})
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, []
    client.force_login(member)  # the old key's sessions are gone too
    page = client.get("/account/")
    assert page.status_code == 200 and not TwoFactor.objects.filter(user=member).exists()
    turn_on(client, member)
    assert two_factor.enabled(member)
