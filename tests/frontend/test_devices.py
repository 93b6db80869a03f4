"""登录设备 on 我的账号: every browser a member is signed in on, with what they would know it
by; signing out of one of them or of all but this one logs those out at once; logging
out and a password change keep the list true."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.devices import describe_agent
from accounts.models import LoginSession

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.0.0 Safari/537.36")
WECHAT_ANDROID = ("Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 "
                  "Mobile Safari/537.36 XWEB/1160117 MicroMessenger/8.0.49.2600(0x28003133) NetType/WIFI")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")


def browser(user, agent: str, address: str = "10.0.0.1") -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post(reverse("login"), {"username": user.username, "password": "pw-" + user.username})
    assert response.status_code == 302
    return client


def test_browsers_are_named_as_members_know_them():
    assert describe_agent(CHROME_WINDOWS) == "Chrome · Windows"
    assert describe_agent(WECHAT_ANDROID) == "WeChat · Android"
    assert describe_agent(SAFARI_IPHONE) == "Safari · iPhone"
    assert describe_agent("") == "未知浏览器"  # in the default language


@pytest.mark.django_db
def test_a_member_sees_where_they_are_signed_in_and_signs_one_out(people):
    member = people["member"]
    office, phone = browser(member, CHROME_WINDOWS, "10.0.0.7"), browser(member, WECHAT_ANDROID, "10.0.0.9")
    browser(people["moderator"], SAFARI_IPHONE)  # someone else's: never listed here
    assert LoginSession.objects.filter(user=member).count() == 2

    page = phone.get(reverse("account")).content.decode()
    assert "Chrome · Windows" in page and "10.0.0.7" in page
    assert "WeChat · Android" in page and "本浏览器" in page
    assert "Safari · iPhone" not in page

    office_device = LoginSession.objects.get(user=member, user_agent=CHROME_WINDOWS)
    response = phone.post(reverse("account"), {"form": "end-device", "device": office_device.pk})
    assert response.status_code == 302 and response["Location"].endswith("#devices")
    assert not Session.objects.filter(session_key=office_device.session_key).exists()
    assert office.get(reverse("account")).status_code == 302  # logged out there: sent to the login page
    page = phone.get(reverse("account")).content.decode()
    assert "Chrome · Windows" not in page[page.index('id="devices"'):]  # (its login stays in the security log)

    # Not someone else's browser, and not this one.
    theirs = LoginSession.objects.get(user=people["moderator"])
    mine = LoginSession.objects.get(user=member)
    for device in (theirs.pk, mine.pk, 999_999, "x"):
        phone.post(reverse("account"), {"form": "end-device", "device": device})
    assert Session.objects.filter(session_key__in=[theirs.session_key, mine.session_key]).count() == 2
    assert phone.get(reverse("account")).status_code == 200


@pytest.mark.django_db
def test_signing_out_everywhere_else_keeps_this_browser(people):
    member = people["member"]
    here, *others = [browser(member, agent) for agent in (CHROME_WINDOWS, WECHAT_ANDROID, SAFARI_IPHONE)]
    response = here.post(reverse("account"), {"form": "end-others"}, follow=True)
    assert "已在其他 2 个浏览器上退出登录。" in response.content.decode()
    assert all(other.get(reverse("account")).status_code == 302 for other in others)
    assert here.get(reverse("account")).status_code == 200
    assert list(LoginSession.objects.filter(user=member).values_list("user_agent", flat=True)) == [CHROME_WINDOWS]


@pytest.mark.django_db
def test_logging_out_and_changing_the_password_keep_the_list_true(people):
    member = people["member"]
    here, there = browser(member, CHROME_WINDOWS), browser(member, WECHAT_ANDROID)
    there.post(reverse("logout"))
    assert list(LoginSession.objects.filter(user=member).values_list("user_agent", flat=True)) == [CHROME_WINDOWS]

    browser(member, SAFARI_IPHONE)
    response = here.post(reverse("account"), {"old_password": "pw-member", "new_password1": "a-new-pass-2026",
                                              "new_password2": "a-new-pass-2026"})
    assert response.status_code == 302
    # This browser stays listed (under its session's new key); the others are gone.
    [device] = LoginSession.objects.filter(user=member)
    assert device.user_agent == CHROME_WINDOWS
    assert Session.objects.filter(session_key=device.session_key).exists()
    assert "本浏览器" in here.get(reverse("account")).content.decode()


@pytest.mark.django_db
def test_a_session_from_before_devices_were_recorded_is_listed_at_its_next_request(people):
    here = browser(people["member"], SAFARI_IPHONE)
    LoginSession.objects.all().delete()
    session = here.session
    del session["bl_device_seen"]
    session.save()
    assert "Safari · iPhone" in here.get(reverse("account")).content.decode()
    assert LoginSession.objects.get().session_key == session.session_key
