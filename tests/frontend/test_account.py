"""我的账号: a member sees their branches and roles and changes their password; the change
keeps this session and ends every other one (their sockets close at the next check)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.identity import identity_for_user
from realtime.sessions import invalid_identities

pytestmark = pytest.mark.django_db


def logged_in(username: str, password: str) -> Client:
    client = Client()
    assert client.login(username=username, password=password)
    return client


def test_the_account_page_shows_branches_and_roles(client, people, tree):
    client.force_login(people["secretary"])
    html = client.get(reverse("account")).content.decode()
    assert "我的账号" in html and "<code>secretary</code>" in html
    assert tree["a"].name in html and "支部书记" in html
    # The header's name leads here.
    assert f'<a class="who" href="{reverse("account")}"' in html


def test_the_account_page_needs_a_login(client):
    response = client.get(reverse("account"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_changing_the_password_keeps_this_session_and_ends_the_others(people):
    here = logged_in("member", "pw-member")
    phone = logged_in("member", "pw-member")
    someone_else = logged_in("secretary", "pw-secretary")
    phone_identity = identity_for_user(people["member"], phone.session.session_key)
    assert not invalid_identities([phone_identity])

    response = here.post(reverse("account"), {
        "old_password": "pw-member", "new_password1": "new-pass-2026", "new_password2": "new-pass-2026",
    })
    assert response.status_code == 302 and response["Location"] == reverse("account")
    page = here.get(reverse("account")).content.decode()
    assert "您的密码已修改。" in page and "已在另外 1 个会话中退出登录。" in page
    # This session stays; the phone's is gone (its socket closes at the next check); others untouched.
    assert here.get(reverse("account")).status_code == 200
    assert phone.get(reverse("account")).status_code == 302
    assert invalid_identities([phone_identity]) == {phone_identity}
    assert someone_else.get(reverse("account")).status_code == 200
    assert Session.objects.filter(session_key=someone_else.session.session_key).exists()
    assert logged_in("member", "new-pass-2026")


def test_a_wrong_old_password_or_a_mismatch_is_shown_at_its_field_and_changes_nothing(people):
    here = logged_in("member", "pw-member")
    response = here.post(reverse("account"), {
        "old_password": "wrong", "new_password1": "new-pass-2026", "new_password2": "new-pass-2026",
    })
    html = response.content.decode()
    assert response.status_code == 200 and 'aria-invalid="true"' in html and "旧密码不正确" in html
    response = here.post(reverse("account"), {
        "old_password": "pw-member", "new_password1": "new-pass-2026", "new_password2": "other-pass-2026",
    })
    assert "输入的两个密码不一致。" in response.content.decode()
    assert logged_in("member", "pw-member")  # unchanged


def test_wrong_current_passwords_count_as_failed_logins_and_stop_at_the_limit(people):
    from accounts.models import LoginFailure, SecurityRecord
    from accounts.throttle import LIMIT

    here = logged_in("member", "pw-member")
    for _ in range(LIMIT):
        here.post(reverse("account"), {"old_password": "wrong", "new_password1": "new-pass-2026",
                                       "new_password2": "new-pass-2026"})
    assert LoginFailure.objects.filter(username="member").count() == LIMIT
    assert SecurityRecord.objects.filter(user=people["member"], kind="security.login_failed").count() == LIMIT
    # Past the limit even the right one is refused for now, unchecked, and not counted again.
    response = here.post(reverse("account"), {"old_password": "pw-member", "new_password1": "new-pass-2026",
                                              "new_password2": "new-pass-2026"}, follow=True)
    assert "登录失败次数过多" in response.content.decode()
    assert LoginFailure.objects.filter(username="member").count() == LIMIT
    people["member"].refresh_from_db()
    assert people["member"].check_password("pw-member")


def test_a_socket_holding_an_old_copy_of_the_person_is_told_apart_from_an_ended_one(people):
    from accounts.identity import identity_for_citizen
    from accounts.models import Citizen
    from realtime.sessions import check_identities

    member, staff = identity_for_user(people["member"]), identity_for_user(people["secretary"])
    citizen = Citizen.objects.create(display_name="王阿姨", token_hash="x" * 64)
    visitor = identity_for_citizen(citizen)
    assert check_identities([member, staff, visitor]) == (set(), set())
    people["member"].first_name = "张"
    people["member"].save()
    people["secretary"].is_staff = True
    people["secretary"].save()
    citizen.display_name = "王大妈"
    citizen.save()
    assert check_identities([member, staff, visitor]) == (set(), {member, staff, visitor})
    people["member"].is_active = False
    people["member"].save()
    assert check_identities([member]) == ({member}, set())  # ended first: not asked to reconnect
