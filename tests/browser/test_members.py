"""成员 in a browser: a secretary gives a member who forgot their password a one-time
link, copies it, and the member sets a new password through it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_a_secretary_gives_a_link_and_the_member_sets_a_new_password(own_server, browser, open_page):
    server = own_server  # its own database: the member's password changes
    path = f"/branches/{server.branch_id('第一党支部')}/members/"
    member_phone = open_page(server, "dangyuan", path)  # logged in somewhere, to be logged out
    expect(member_phone.locator("#members-table")).to_contain_text("王书记")
    expect(member_phone.get_by_role("button", name="生成设置新密码的链接")).to_have_count(0)

    secretary = open_page(server, "shuji", path)
    secretary.context.grant_permissions(["clipboard-read", "clipboard-write"])
    expect(secretary.get_by_role("link", name="成员")).to_have_attribute("aria-current", "page")
    row = secretary.locator("#members-table tr[data-user]", has_text="张党员")
    row.get_by_role("button", name="生成设置新密码的链接").click()
    issued = secretary.locator("#issued-link")
    expect(issued).to_contain_text("给 张党员 的设置新密码链接")
    expect(issued).to_be_focused()
    secretary.get_by_role("button", name="复制").click()
    expect(secretary.locator("#copy-status")).to_have_text("已复制。")
    link = secretary.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(rf"{re.escape(server.url)}/password/set/[^/]+/[^/]+/", link), link
    secretary.reload()
    expect(secretary.locator("#issued-link")).to_have_count(0)  # shown once

    # The member, in a browser of their own, opens the link and sets a new password.
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto(link)
    expect(page.locator("h1")).to_have_text("设置新密码")
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("新密码确认").fill("short")
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator(".field-error").first).to_be_visible()  # too short: said at the field
    page.get_by_label("新密码", exact=True).fill("dangyuan-new-2026")
    page.get_by_label("新密码确认").fill("dangyuan-new-2026")
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator("h1")).to_have_text("密码已设置")

    page.get_by_role("link", name="登录").last.click()
    page.fill("#id_username", "dangyuan")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_be_visible()  # the old password no longer works
    page.fill("#id_password", "dangyuan-new-2026")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/branches/\d+/$"))

    # The phone that was logged in is logged out.
    member_phone.reload()
    expect(member_phone).to_have_url(re.compile(r"/login/"))
    # The link works once.
    page.goto(link)
    expect(page.locator("#link-invalid")).to_be_visible()
    context.close()


def test_a_secretary_adds_a_new_member_who_sets_a_password_and_comes_in(own_server, browser, open_page):
    server = own_server
    path = f"/branches/{server.branch_id('第一党支部')}/members/"
    secretary = open_page(server, "shuji", path)
    form = secretary.locator("#add-member form")
    form.get_by_label("用户名").fill("xiaoli")
    form.get_by_label("姓名").fill("")
    form.get_by_role("button", name="添加").click()
    expect(secretary.locator("#add-member .field-error")).to_have_text("请填写姓名。")  # and the rest kept
    expect(secretary.locator("#add-member").get_by_label("用户名")).to_have_value("xiaoli")
    form = secretary.locator("#add-member form")
    form.get_by_label("姓名").fill("李小红")
    form.get_by_label("预备党员", exact=True).check()
    form.get_by_label("入党日期（可不填）").fill("2026-07-01")  # accounts/party_dates.py
    form.get_by_role("button", name="添加").click()
    issued = secretary.locator("#issued-link")
    expect(issued).to_contain_text("李小红 有账号了")
    link = secretary.locator("#issued-url").input_value()
    expect(secretary.locator("#members-table tr[data-user]", has_text="李小红").locator(".probation")).to_have_text(
        "预备期至 2027-07-01")

    # 转正: the secretary changes her standing.
    row = secretary.locator("#members-table tr[data-user]", has_text="李小红")
    row.locator("summary", has_text="更改").click()
    expect(row.get_by_label("入党日期")).to_have_value("2026-07-01")
    row.get_by_label("正式党员").check()
    row.get_by_role("button", name="保存").click()
    expect(secretary.locator(".flash")).to_contain_text("已保存")
    # The message sits under her row, where the secretary is looking (flash.js).
    saved = secretary.locator("#members-table tr[data-user] + tr.flash-row")
    expect(saved).to_contain_text("已保存")
    expect(saved).to_be_in_viewport()
    expect(secretary.locator("#members-table tr[data-user]", has_text="李小红")).to_contain_text("正式党员")
    # The day she joined the party stays with her standing (party_dates.py).
    expect(secretary.locator("#members-table tr[data-user]", has_text="李小红").locator(".joined-party")).to_have_text(
        "入党日期 2026-07-01")

    # 更正姓名: typed wrong, corrected in place.
    row = secretary.locator("#members-table tr[data-user]", has_text="李小红")
    row.locator("summary", has_text="更改").click()
    row.get_by_label("姓名").fill("李晓红")
    row.get_by_role("button", name="更正姓名").click()
    expect(secretary.locator(".flash")).to_contain_text("现在的姓名是李晓红。")
    expect(secretary.locator("#members-table tr[data-user]", has_text="李晓红")).to_contain_text("正式党员")

    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto(link)
    page.get_by_label("新密码", exact=True).fill("xiaoli-pass-2026")
    page.get_by_label("新密码确认").fill("xiaoli-pass-2026")
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator("h1")).to_have_text("密码已设置")
    page.goto("/login/")
    page.fill("#id_username", "xiaoli")
    page.fill("#id_password", "xiaoli-pass-2026")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/branches/\d+/$"))  # her branch's overview
    expect(page.locator(".overview-announcements li a").first).to_be_visible()

    # Taken off again: her open page is told at once, and the branch is gone from her view.
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")
    row = secretary.locator("#members-table tr[data-user]", has_text="李晓红")
    row.locator("summary", has_text="更改").click()
    row.locator("summary", has_text="移出本支部").click()
    row.get_by_role("button", name="将 李晓红 移出").click()
    expect(secretary.locator(".flash")).to_contain_text("已移出本支部")
    expect(secretary.locator("#members-table")).not_to_contain_text("李晓红")
    expect(page.locator("#page-error")).to_contain_text("您在该支部的成员身份已变更")
    context.close()


def test_a_corrected_name_reaches_the_pages_already_open(server_with, open_page):
    """The member's open page reconnects at once (every process is asked to check that
    person's sockets; the periodic session check, every 20 s here, would be too late for
    the wait below), so the others see the corrected name among who is here, without
    anyone reloading; the member's page stays online."""
    server = server_with(WS_SESSION_CHECK_SECONDS="20")
    branch = server.branch_id("第一党支部")
    path = f"/branches/{branch}/announcements/"
    member = open_page(server, "yubei", path)
    secretary = open_page(server, "shuji", path)
    expect(secretary.locator("#presence-names")).to_contain_text("赵预备")

    members = open_page(server, "shuji", f"/branches/{branch}/members/")
    row = members.locator("#members-table tr[data-user]", has_text="赵预备")
    row.locator("summary", has_text="更改").click()
    row.get_by_label("姓名").fill("赵宇")
    row.get_by_role("button", name="更正姓名").click()
    expect(members.locator(".flash")).to_contain_text("现在的姓名是赵宇。")

    expect(secretary.locator("#presence-names")).to_contain_text("赵宇")
    expect(secretary.locator("#presence-names")).not_to_contain_text("赵预备")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")


def test_a_member_is_found_by_name_and_the_secretary_also_by_username(server, open_page):
    path = f"/branches/{server.branch_id('第一党支部')}/members/"
    secretary = open_page(server, "shuji", path)
    rows = secretary.locator("#members-table tbody tr")
    total = rows.count()
    assert total >= 4
    field = secretary.get_by_label("查找成员（姓名或用户名）")
    field.fill("张")
    expect(secretary.locator("#members-table tbody tr:visible")).to_have_count(1)
    expect(secretary.locator("#members-table tbody tr:visible")).to_contain_text("张党员")
    expect(secretary.locator("#member-filter-status")).to_have_text(f"显示 1 人，共 {total} 人。")
    field.fill("YUBEI")  # a username, in any case
    expect(secretary.locator("#members-table tbody tr:visible")).to_contain_text("赵预备")
    field.fill("没有这个人")
    expect(secretary.locator("#members-table tbody tr:visible")).to_have_count(0)
    expect(secretary.locator("#member-filter-status")).to_have_text("没有符合的成员。")
    field.fill("")
    expect(secretary.locator("#members-table tbody tr:visible")).to_have_count(total)

    member = open_page(server, "dangyuan", path)
    field = member.get_by_label("查找成员", exact=True)
    field.fill("yubei")  # a member does not see usernames, and does not find by them
    expect(member.locator("#members-table tbody tr:visible")).to_have_count(0)
    field.fill("赵")
    expect(member.locator("#members-table tbody tr:visible")).to_contain_text("赵预备")
