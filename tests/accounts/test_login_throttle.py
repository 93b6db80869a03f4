"""Password guessing is slowed: after LIMIT failed logins for a username within the
window, its logins are refused (the site's form says why; the admin's too refuses),
until the window has passed; a success forgets the failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import throttle
from accounts.models import LoginFailure

pytestmark = pytest.mark.django_db


def try_login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_too_many_failures_refuse_even_the_right_password_and_say_why(people):
    client = Client()
    for _ in range(throttle.LIMIT):
        response = try_login(client, "member", "wrong")
        assert response.status_code == 200 and "请输入一个正确的" in response.content.decode()
    response = try_login(client, "member", "pw-member")
    assert not logged_in(client)
    assert "该用户名登录失败次数过多，请 15 分钟后再试。" in response.content.decode()
    # Refused attempts do not lengthen the lockout.
    assert LoginFailure.objects.filter(username="member").count() == throttle.LIMIT
    # The admin has no login form of its own (the site's is the one way in): nobody is logged in.
    admin = Client()
    admin.post("/admin/login/", {"username": "member", "password": "pw-member", "next": "/admin/"})
    assert not logged_in(admin)
    # Typing it in capitals is the same username; other usernames are not affected.
    assert "登录失败次数过多" in try_login(Client(), "MEMBER", "pw-member").content.decode()
    other = Client()
    try_login(other, "secretary", "pw-secretary")
    assert logged_in(other)


def test_the_lockout_ends_with_the_window_and_a_success_forgets_the_failures(people, monkeypatch):
    for _ in range(throttle.LIMIT):
        try_login(Client(), "member", "wrong")
    later = timezone.now() + throttle.WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client = Client()
    try_login(client, "member", "pw-member")
    assert logged_in(client)
    assert not LoginFailure.objects.filter(username="member").exists()


def test_a_few_failures_do_not_lock_anyone_out(people):
    for _ in range(throttle.LIMIT - 1):
        try_login(Client(), "member", "wrong")
    client = Client()
    try_login(client, "member", "pw-member")
    assert logged_in(client)
