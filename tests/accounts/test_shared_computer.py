"""公用电脑: a login ticked as on a shared computer lasts until the browser closes (a
session cookie, no expiry), through the two-step code as well, where the browser is
never remembered; pages then say so to drafts.js, which keeps drafts for the tab
alone. An ordinary login keeps its usual lifetime."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.accounts.test_two_factor import fresh_code, logged_in, member_with_it  # noqa: F401

pytestmark = pytest.mark.django_db


def session_cookie(response):
    return response.cookies[settings.SESSION_COOKIE_NAME]


def test_a_shared_computer_login_ends_with_the_browser(people):
    shared = Client()
    page = shared.get("/login/").content.decode()
    assert 'name="public"' in page and "这是公用电脑：关闭浏览器即退出登录" in page
    answer = shared.post("/login/", {"username": "member", "password": "pw-member", "public": "on"})
    assert answer.status_code == 302 and logged_in(shared)
    cookie = session_cookie(answer)
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie
    assert shared.session.get_expire_at_browser_close()
    assert 'data-shared-computer="true"' in shared.get("/account/").content.decode()

    own = Client()
    answer = own.post("/login/", {"username": "member", "password": "pw-member"})
    assert session_cookie(answer)["max-age"] == settings.SESSION_COOKIE_AGE
    assert "data-shared-computer" not in own.get("/account/").content.decode()


def test_through_the_code_and_never_remembered(member_with_it):
    user, totp, _codes = member_with_it
    shared = Client()
    answer = shared.post("/login/?next=/account/", {"username": "member", "password": "pw-member", "public": "on"})
    assert answer["Location"] == "/login/code/"
    page = shared.get("/login/code/").content.decode()
    assert 'name="remember"' not in page  # nothing to offer on a shared computer
    answer = shared.post("/login/code/", {"code": fresh_code(totp), "remember": "on"})  # asked anyway
    assert answer.status_code == 302 and logged_in(shared)
    assert session_cookie(answer)["max-age"] == ""
    assert not any(name.startswith("bl_2fa") or "trust" in name for name in answer.cookies)
    shared.post("/logout/")
    # Not remembered: the next login here asks for the code again.
    again = shared.post("/login/", {"username": "member", "password": "pw-member"})
    assert again["Location"] == "/login/code/"


def test_with_a_passkey_too(people):
    from tests.accounts.authenticator import SoftAuthenticator
    from tests.accounts.test_passkeys import add_passkey, new_browser, post, signed_in

    member, device = people["member"], SoftAuthenticator()
    add_passkey(signed_in(member), member, device)
    for public, lifetime in ((True, ""), (False, settings.SESSION_COOKIE_AGE)):
        client = new_browser()
        _status, data = post(client, "/login/passkey/options/", {})
        answer = client.post("/login/passkey/", {"credential": device.get(data["options"]), "next": "/", "public": public},
                             content_type="application/json")
        assert answer.status_code == 200 and logged_in(client)
        assert session_cookie(answer)["max-age"] == lifetime
