"""通行密钥 in Chromium, with its virtual authenticator (the DevTools WebAuthn domain)
standing in for the phone's fingerprint: a member adds a passkey on 我的账号, logs out,
and logs in with it alone; an answer the server refuses says so and adds nothing; opened by its
IP address, the site says passkeys need its name."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, log_in, log_out
from .test_accessibility import violations

pytestmark = pytest.mark.browser


class ByName:
    """The same server, opened as localhost: browsers make passkeys only for a name."""

    def __init__(self, server) -> None:
        self._server = server
        self.url = server.url.replace("127.0.0.1", "localhost")

    def __getattr__(self, name):
        return getattr(self._server, name)


def with_authenticator(page) -> tuple:
    """A platform authenticator that keeps passkeys and verifies its user (the finger
    on the sensor), answering at once."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    found = session.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return session, found["authenticatorId"]


def test_a_member_adds_a_passkey_and_logs_in_with_it(own_server, open_page):
    site = ByName(own_server)
    page = open_page(site, None, "/login/")
    session, authenticator = with_authenticator(page)
    log_in(page, "dangyuan", "/account/")
    section = page.locator("#passkeys")
    expect(section).to_contain_text("您还没有通行密钥。")
    expect(section.locator("#passkey-unsupported")).to_be_hidden()

    # A device that answers without having verified its user: refused, nothing added,
    # and the page says so.
    bits = {"authenticatorId": authenticator, "isBogusSignature": False, "isBadUP": False}
    session.send("WebAuthn.setResponseOverrideBits", {**bits, "isBadUV": True})
    section.get_by_label("名称（便于在列表中辨认）").fill("办公室电脑")
    section.get_by_label("您的密码").fill(DEMO_PASSWORD)
    section.get_by_role("button", name="添加通行密钥").click()
    expect(section.locator("#passkey-error")).to_have_text("无法核验浏览器的应答，未添加任何内容。请重试。")
    expect(section.get_by_role("button", name="添加通行密钥")).to_be_enabled()
    assert own_server.query("SELECT count(*) FROM accounts_passkey") == [(0,)]
    session.send("WebAuthn.setResponseOverrideBits", {**bits, "isBadUV": False})
    session.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})

    # A wrong password: the server refuses before the device is asked.
    section.get_by_label("您的密码").fill("not-the-password")
    section.get_by_role("button", name="添加通行密钥").click()
    expect(section.locator("#passkey-error")).to_have_text("密码不正确。")

    section.get_by_label("您的密码").fill(DEMO_PASSWORD)
    section.get_by_role("button", name="添加通行密钥").click()
    expect(page.locator("#passkeys .flash-success")).to_have_text("已添加通行密钥“办公室电脑”。今后用它登录无需密码。")
    expect(page.locator("#passkey-list li")).to_have_count(1)
    expect(page.locator("#passkey-list")).to_contain_text("尚未使用")
    assert not violations(page)
    if os.environ.get("BL_SHOTS"):
        page.locator("#passkeys").screenshot(path=os.path.join(os.environ["BL_SHOTS"], "passkeys.png"))
    (credential,) = session.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    # Logged out, in with the passkey alone: no username, no password.
    log_out(page)
    page.goto("/login/?next=/account/")
    page.get_by_role("button", name="用通行密钥登录").click()
    expect(page).to_have_url(re.compile(r"//[^/?]+/account/$"))  # the page itself, not "?next=/account/"
    expect(page.locator(".account-facts")).to_contain_text("dangyuan")
    expect(page.locator("#passkey-list")).to_contain_text("最近使用于")
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")  # the socket has the session

    # Removed: the device still offers it, and the server no longer knows it.
    page.locator("#passkey-list").get_by_role("button", name="删除").click()
    expect(page.locator("#passkeys .flash-success")).to_have_text("通行密钥已删除，不能再用它登录。")
    expect(page.locator("#passkey-none")).to_be_visible()
    log_out(page)
    page.goto("/login/")
    page.get_by_role("button", name="用通行密钥登录").click()
    expect(page.locator("#passkey-login-error")).to_contain_text("本站不认识这个通行密钥")
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_by_ip_address_the_site_says_passkeys_need_its_name(server, open_page):
    page = open_page(server, None, "/login/")
    expect(page.locator("#passkey-login")).to_have_count(0)
    log_in(page, "dangyuan", "/account/")
    expect(page.locator("#passkey-by-name")).to_have_text(
        "通行密钥只能在用域名（例如 localhost）打开本站时使用，用 IP 地址打开时不可用。")
