"""两步验证 in Chromium: set up from 我的账号 with the key the page shows, then log in
with a password and a code (the codes are computed here as an authenticator app would)."""

from __future__ import annotations

import os
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, log_out
from .test_accessibility import violations

pytestmark = pytest.mark.browser


def test_a_member_turns_it_on_and_then_logs_in_with_a_code(own_server, open_page):
    page = open_page(own_server, "yubei", "/account/")
    section = page.locator("#two-factor")
    expect(section).to_contain_text("未开启")
    section.get_by_role("button", name="开启两步验证").click()

    expect(section.locator(".qr-box svg")).to_be_visible()
    assert not violations(page)  # axe-core: the set-up steps and the QR code's name
    if os.environ.get("BL_SHOTS"):
        section.screenshot(path=os.path.join(os.environ["BL_SHOTS"], "two-factor-setup.png"))
    key = section.locator("#two-factor-key").inner_text().replace(" ", "")
    totp = pyotp.TOTP(key)
    section.get_by_label("您的密码").fill(DEMO_PASSWORD)
    # A wrong code: the page comes back to the section, with the message there, in view.
    section.get_by_label("验证码").fill("000000" if totp.now() != "000000" else "111111")
    section.get_by_role("button", name="开启", exact=True).click()
    refusal = section.locator(".flash-error")
    expect(refusal).to_have_text("验证码不正确。请输入应用当前显示的 6 位数字。")
    expect(refusal).to_be_in_viewport()
    section.get_by_label("您的密码").fill(DEMO_PASSWORD)
    section.get_by_label("验证码").fill(totp.now())
    section.get_by_role("button", name="开启", exact=True).click()

    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    expect(section).to_contain_text("两步验证已开启")
    if os.environ.get("BL_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["BL_SHOTS"], "two-factor-codes.png"), full_page=True)
    section.get_by_role("button", name="我已保存好").click()
    expect(section).to_contain_text("还剩 10 个恢复码")

    password_login(page)
    expect(page).to_have_url(re.compile(r"/login/code/$"))
    expect(page.locator("h1")).to_have_text("两步验证")
    assert not violations(page)

    page.get_by_label("验证码", exact=True).fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="登录").last.click()
    expect(page.locator("#code-error")).to_contain_text("验证码不正确")

    # The next step's code (the one typed at set-up is spent), and this browser is
    # to be remembered.
    page.get_by_label("验证码", exact=True).fill(totp.at(time.time() + 30))
    page.get_by_label("此浏览器 30 天内不再询问验证码").check()
    page.get_by_role("button", name="登录").last.click()
    expect(page).to_have_url(re.compile(r"//[^/?]+/account/$"))  # the page itself, not "?next=/account/"
    expect(page.locator("#two-factor")).to_contain_text("已开启")
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")  # the socket has the session

    # Remembered: the password alone logs in here, until 我的账号 asks every browser again.
    password_login(page)
    expect(page).to_have_url(re.compile(r"//[^/?]+/account/$"))  # the page itself, not "?next=/account/"
    page.locator("#two-factor").get_by_role("button", name="让所有浏览器重新询问验证码").click()
    expect(page.locator("#two-factor .flash-success")).to_have_text("所有浏览器下次登录时都会重新询问验证码。")
    password_login(page)
    expect(page).to_have_url(re.compile(r"/login/code/$"))


def password_login(page) -> None:
    log_out(page)
    page.goto("/login/?next=/account/")
    page.fill("#id_username", "yubei")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
