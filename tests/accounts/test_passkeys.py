"""通行密钥: a member adds a passkey on 我的账号 (with their password) and from then on
logs in with it alone, no username, no password and no two-step code; every answer is
checked (the challenge used once, the site, the user verification, the signature, the
use counter, the account it was made for), refusals change nothing and say why, and
adding or removing one is a security notice."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.admin.sites import AdminSite
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from accounts import passkeys, security
from accounts.admin import PasskeyAdmin
from accounts.models import LoginSession, Passkey, SecurityRecord
from accounts.streams import inbox_stream
from frontend.notification_text import describe
from realtime.models import Event
from tests.accounts.authenticator import SoftAuthenticator, b64
from tests.accounts.test_two_factor import logged_in, turn_on

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body) -> tuple[int, dict]:
    answer = client.post(url, json.dumps(body) if not isinstance(body, bytes) else body,
                         content_type="application/json")
    return answer.status_code, answer.json()


def new_browser(**headers) -> Client:
    """A browser with the English UI (the messages checked here are in English)."""
    client = Client(**headers)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def signed_in(user) -> Client:
    client = new_browser()
    client.force_login(user)
    return client


def add_passkey(client: Client, user, device: SoftAuthenticator, name: str = "我的手机") -> Passkey:
    status, data = post(client, "/account/passkeys/options/", {"password": "pw-" + user.username})
    assert status == 200, data
    status, data = post(client, "/account/passkeys/", {"name": name, "credential": device.create(data["options"])})
    assert status == 200 and data == {"ok": True, "redirect": "/account/#passkeys"}, data
    return Passkey.objects.get(user=user, name=name)


def passkey_login(device: SoftAuthenticator, client: Client | None = None, **get) -> tuple[Client, int, dict]:
    client = client or new_browser()
    status, data = post(client, "/login/passkey/options/", {})
    assert status == 200, data
    status, data = post(client, "/login/passkey/", {"credential": device.get(data["options"], **get), "next": "/account/"})
    return client, status, data


def notices(user, kind: str) -> list[Event]:
    return list(Event.objects.filter(stream_id=inbox_stream(user.pk), type=kind).order_by("seq"))


@pytest.fixture
def member(people):
    return people["member"]


@pytest.fixture
def device() -> SoftAuthenticator:
    return SoftAuthenticator()


def test_a_member_adds_a_passkey_and_then_logs_in_with_it_alone(member, device):
    owner = signed_in(member)
    status, data = post(owner, "/account/passkeys/options/", {"password": "pw-member"})
    options = data["options"]
    assert status == 200 and options["rp"] == {"name": "Branchline", "id": "testserver"}
    assert options["user"]["name"] == "member" and options["user"]["id"] != b64(str(member.pk).encode())
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    status, data = post(owner, "/account/passkeys/", {"name": "  我的   手机 ", "credential": device.create(options)})
    assert status == 200 and data["ok"]
    passkey = Passkey.objects.get(user=member)
    assert passkey.name == "我的 手机" and passkey.sign_count == 0 and passkey.last_used_at is None
    page = owner.get("/account/").content.decode()
    assert "我的 手机" in page and 'id="passkey-add"' in page

    browser, status, data = passkey_login(device)
    assert status == 200 and data == {"ok": True, "redirect": "/account/"}
    assert logged_in(browser) and int(browser.session["_auth_user_id"]) == member.pk
    assert browser.get("/account/").status_code == 200
    assert LoginSession.objects.filter(user=member, session_key=browser.session.session_key).exists()
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert SecurityRecord.objects.filter(user=member, kind="security.login").latest("at").data["how"] == "passkey"
    # A second login counts on.
    _browser, status, _data = passkey_login(device)
    assert status == 200
    passkey.refresh_from_db()
    assert passkey.sign_count == 2


def test_the_passkey_is_both_steps_so_no_code_is_asked(member, device):
    owner = signed_in(member)
    turn_on(owner, member)
    add_passkey(owner, member, device)
    assert new_browser().post("/login/", {"username": "member", "password": "pw-member"})["Location"] == "/login/code/"
    browser, status, data = passkey_login(device)
    assert status == 200 and data["redirect"] == "/account/" and logged_in(browser)


def test_adding_one_takes_the_password_and_is_a_security_notice(member, device):
    owner = signed_in(member)
    status, data = post(owner, "/account/passkeys/options/", {"password": "wrong"})
    assert status == 403 and data["error"] == "That is not your password."
    # No options were given, so an answer made up without them adds nothing.
    made_up = device.create({"rp": {"id": "testserver"}, "user": {"id": b64(b"x")}, "challenge": b64(b"y" * 32)})
    status, data = post(owner, "/account/passkeys/", {"name": "x", "credential": made_up})
    assert status == 400 and "run out" in data["error"]
    assert not Passkey.objects.exists() and not notices(member, security.PASSKEY_ADDED)

    add_passkey(owner, member, device, name="办公室电脑")
    (notice,) = notices(member, security.PASSKEY_ADDED)
    assert notice.data["name"] == "办公室电脑"
    (item,) = describe([notice])
    assert "办公室电脑" in item["text"] and item["url"] == "/account/#passkeys"
    # Logged out: no options, no passkey.
    status, data = post(new_browser(), "/account/passkeys/options/", {"password": "pw-member"})
    assert status == 403 and "logged out" in data["error"]


def test_an_answer_is_good_once_and_only_for_its_own_challenge(member, device):
    add_passkey(signed_in(member), member, device)
    client = new_browser()
    _status, data = post(client, "/login/passkey/options/", {})
    answer = device.get(data["options"])
    assert post(client, "/login/passkey/", {"credential": answer})[0] == 200
    # The same answer again, in a new browser with a challenge of its own, or in the
    # first browser, whose challenge is used up.
    other = new_browser()
    post(other, "/login/passkey/options/", {})
    status, data = post(other, "/login/passkey/", {"credential": answer})
    assert status == 400 and not logged_in(other)
    status, data = post(client, "/login/passkey/", {"credential": answer})
    assert status == 400 and "run out" in data["error"]


def test_an_answer_without_user_verification_is_refused(member, device):
    owner = signed_in(member)
    device.verifies_user = False
    _status, data = post(owner, "/account/passkeys/options/", {"password": "pw-member"})
    status, data = post(owner, "/account/passkeys/", {"name": "key", "credential": device.create(data["options"])})
    assert status == 400 and "nothing was added" in data["error"]
    assert not Passkey.objects.exists()

    device.credentials.clear()  # the refused one
    device.verifies_user = True
    add_passkey(owner, member, device)
    device.verifies_user = False
    browser, status, data = passkey_login(device)
    assert status == 400 and not logged_in(browser) and "log in with your password" in data["error"]


def test_an_answer_for_another_site_is_refused(member, device):
    owner = signed_in(member)
    _status, data = post(owner, "/account/passkeys/options/", {"password": "pw-member"})
    phished = SoftAuthenticator(origin="https://branchline.example.net")
    status, data = post(owner, "/account/passkeys/", {"name": "key", "credential": phished.create(data["options"])})
    assert status == 400 and not Passkey.objects.exists()


def test_a_copied_key_whose_counter_went_back_is_refused(member, device):
    add_passkey(signed_in(member), member, device)
    assert passkey_login(device)[1] == 200
    clone = next(iter(device.credentials.values()))
    clone["count"] = 0  # a copy of the key, made before that login
    browser, status, _data = passkey_login(device)
    assert status == 400 and not logged_in(browser)
    assert Passkey.objects.get().sign_count == 1


def test_a_passkey_made_for_another_account_is_refused(member, people, device):
    passkey = add_passkey(signed_in(member), member, device)
    kept = next(iter(device.credentials.values()))
    kept["user"] = passkeys._handle(people["secretary"])
    browser, status, _data = passkey_login(device)
    assert status == 400 and not logged_in(browser)
    passkey.refresh_from_db()
    assert passkey.sign_count == 0


def test_a_removed_passkey_or_a_switched_off_account_does_not_log_in(member, device):
    passkey = add_passkey(signed_in(member), member, device)
    member.is_active = False
    member.save()
    browser, status, data = passkey_login(device)
    assert status == 400 and not logged_in(browser) and "switched off" in data["error"]
    member.is_active = True
    member.save()
    passkey.delete()
    browser, status, data = passkey_login(device)
    assert status == 400 and not logged_in(browser) and "not known here" in data["error"]


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", {}, {"credential": "a string"}, {"credential": {"id": 5}},
    {"credential": {"id": "AAAA", "response": []}}, {"credential": {"id": "x" * 2000}},
])
def test_unreadable_answers_get_an_error_and_change_nothing(member, device, body):
    add_passkey(signed_in(member), member, device)
    client = new_browser()
    post(client, "/login/passkey/options/", {})
    status, data = post(client, "/login/passkey/", body)
    assert status == 400 and data["error"] and not logged_in(client)
    owner = signed_in(member)
    post(owner, "/account/passkeys/options/", {"password": "pw-member"})
    status, data = post(owner, "/account/passkeys/", body)
    assert status == 400 and data["error"]
    assert Passkey.objects.count() == 1


def test_a_member_removes_their_own_passkey_only(member, people, device):
    owner = signed_in(member)
    passkey = add_passkey(owner, member, device)
    theirs = add_passkey(signed_in(people["secretary"]), people["secretary"], SoftAuthenticator(), name="书记的手机")
    answer = owner.post("/account/", {"form": "passkey-remove", "passkey": str(theirs.pk)}, follow=True)
    assert "removed already" in answer.content.decode() and Passkey.objects.filter(pk=theirs.pk).exists()
    answer = owner.post("/account/", {"form": "passkey-remove", "passkey": str(passkey.pk)})
    assert answer["Location"] == "/account/#passkeys" and not Passkey.objects.filter(pk=passkey.pk).exists()
    (notice,) = notices(member, security.PASSKEY_REMOVED)
    assert notice.data["name"] == "我的手机"
    assert passkey_login(device)[1] == 400


def test_an_administrator_removing_one_tells_the_member(member, device, people):
    passkey = add_passkey(signed_in(member), member, device)
    request = RequestFactory().post("/admin/")
    request.user = get_user_model().objects.create_superuser("root", password="x")
    PasskeyAdmin(Passkey, AdminSite()).delete_model(request, passkey)
    (notice,) = notices(member, security.PASSKEY_REMOVED)
    assert notice.data == {"by": "admin", "name": "我的手机"}
    assert "administrator" in security.text(notice.type, notice.data)[0]


def test_the_limit_of_passkeys_per_account(member, device, monkeypatch):
    monkeypatch.setattr(passkeys, "MAX_PER_MEMBER", 2)
    owner = signed_in(member)
    add_passkey(owner, member, device, name="one")
    add_passkey(owner, member, SoftAuthenticator(), name="two")
    status, data = post(owner, "/account/passkeys/options/", {"password": "pw-member"})
    assert status == 400 and "Remove one first" in data["error"]


def test_the_same_passkey_is_not_added_twice(member, device):
    owner = signed_in(member)
    add_passkey(owner, member, device)
    _status, data = post(owner, "/account/passkeys/options/", {"password": "pw-member"})
    assert data["options"]["excludeCredentials"] == [{"type": "public-key", "id": Passkey.objects.get().credential_id}]
    # A device that ignores that (or someone posting another's credential id, to take
    # it over before its owner adds it): the id is kept for one account only.
    again = device.create(data["options"], credential_id=next(iter(device.credentials)))
    status, data = post(owner, "/account/passkeys/", {"name": "again", "credential": again})
    assert status == 400 and "already" in data["error"] and Passkey.objects.count() == 1


def test_passkeys_need_the_site_by_name_not_an_ip_address(member):
    owner = new_browser(HTTP_HOST="127.0.0.1:8000")
    owner.force_login(member)
    status, data = post(owner, "/account/passkeys/options/", {"password": "pw-member"})
    assert status == 400 and "IP address" in data["error"]
    page = owner.get("/account/").content.decode()
    assert 'id="passkey-by-name"' in page and 'id="passkey-add"' not in page
    status, data = post(new_browser(HTTP_HOST="127.0.0.1:8000"), "/login/passkey/options/", {})
    assert status == 400
    assert 'id="passkey-login"' not in new_browser(HTTP_HOST="127.0.0.1:8000").get("/login/").content.decode()
    assert 'id="passkey-login"' in new_browser(HTTP_HOST="localhost:8000").get("/login/").content.decode()


def test_the_login_goes_to_next_only_on_this_site(member, device):
    add_passkey(signed_in(member), member, device)
    client = new_browser()
    _status, data = post(client, "/login/passkey/options/", {})
    status, data = post(client, "/login/passkey/", {"credential": device.get(data["options"]),
                                                    "next": "https://evil.example.com/"})
    assert status == 200 and data["redirect"] == "/"
