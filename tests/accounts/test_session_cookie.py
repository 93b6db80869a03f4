"""A login gives the session a new key and deletes the old one. A request the browser
sent meanwhile with the old cookie (the service worker's update check, a script's fetch)
must not answer by deleting the session cookie: landing after the login's answer, that
would log the member straight out again. A logout still deletes it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

pytestmark = pytest.mark.django_db

COOKIE = settings.SESSION_COOKIE_NAME


def test_a_stale_session_cookie_is_not_deleted_but_a_logout_deletes_it(people):
    before = SessionStore()
    before["passkey_challenge"] = "abc"  # a visitor's session, as the passkey login's first step makes
    before.create()
    browser = Client()
    browser.cookies[COOKIE] = before.session_key
    logged_in = browser.post("/login/", {"username": "member", "password": "pw-member"})
    assert logged_in.status_code == 302
    after = browser.cookies[COOKIE].value
    assert after and after != before.session_key  # a new key; the old session is gone
    assert not SessionStore().exists(before.session_key)

    # The same browser's request sent before the login's answer came, with the old key.
    late = Client()
    late.cookies[COOKIE] = before.session_key
    answer = late.get("/sw.js")
    assert answer.status_code == 200
    assert COOKIE not in answer.cookies, answer.cookies  # the new session's cookie is left alone
    assert browser.get("/account/").status_code == 200  # still signed in

    out = browser.post("/logout/")
    assert out.cookies[COOKIE].value == "" and out.cookies[COOKIE]["max-age"] == 0
