"""草稿 in Chromium: what a member typed into a compose form comes back after a reload,
until it is posted or discarded; logging out removes it from the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_forum_live import tag, topic_path, wait_live

pytestmark = pytest.mark.browser

RESTORED = "已恢复您尚未发布的草稿。"


def wait_saved(page, words: str, *, on_server: bool = False) -> None:
    """Until the browser has kept a draft holding `words` (saved a moment after typing);
    `on_server`: until its copy also says the server has it."""
    page.wait_for_function(
        "([words, onServer]) => Object.keys(localStorage).some((key) => key.startsWith('bl-draft:') "
        "&& localStorage.getItem(key).includes(words) && (!onServer || JSON.parse(localStorage.getItem(key)).synced))",
        arg=[words, on_server],
    )


def test_an_announcement_being_written_survives_a_reload_until_it_is_posted(own_server, open_page):
    server = own_server
    path = f"/branches/{server.branch_id('第一党支部')}/announcements/"
    secretary = open_page(server, "shuji", path)
    wait_live(secretary, "#announcement-list")
    title, body = f"关于换届选举的通知 {tag()}", "各党小组：\n请于本周五前报送候选人名单。"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", body)
    wait_saved(secretary, "候选人名单")

    secretary.reload()
    wait_live(secretary, "#announcement-list")
    expect(secretary.locator("#compose .draft-note")).to_contain_text(RESTORED)
    expect(secretary.locator("#compose-title")).to_have_value(title)
    expect(secretary.locator("#compose-body")).to_have_value(body)

    secretary.click("#compose button[type=submit]")
    expect(secretary.locator("#compose-status")).to_have_text("已发布。")
    expect(secretary.locator("#compose .draft-note")).to_have_count(0)
    secretary.reload()
    wait_live(secretary, "#announcement-list")
    expect(secretary.locator("#compose-title")).to_have_value("")
    expect(secretary.locator("#compose .draft-note")).to_have_count(0)


def test_a_reply_draft_comes_back_can_be_discarded_and_is_gone_after_logging_out(own_server, open_page):
    server = own_server
    member = open_page(server, "dangyuan", topic_path(server))
    wait_live(member)
    words = f"我补充一点意见 {tag()}"
    member.fill("#reply-body", words)
    wait_saved(member, words)
    member.reload()
    wait_live(member)
    expect(member.locator("#reply-body")).to_have_value(words)
    member.locator("#reply-form .draft-note").get_by_role("button", name="放弃草稿").click()
    expect(member.locator("#reply-body")).to_have_value("")
    member.reload()
    wait_live(member)
    expect(member.locator("#reply-body")).to_have_value("")
    expect(member.locator("#reply-form .draft-note")).to_have_count(0)

    # Kept again, then the member logs out: a shared computer keeps nothing of it.
    member.fill("#reply-body", words)
    wait_saved(member, words)
    member.locator("#logout-form button").click()
    expect(member.locator("#logout-form")).to_have_count(0)  # logged out
    assert member.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('bl-draft:'))") == []


def test_a_draft_follows_the_member_to_another_device_and_goes_everywhere_once_posted(own_server, open_page):
    """Begun on the phone, finished on the computer: the computer's compose form holds
    what was typed on the phone, says where it came from, and once it is posted there
    the phone's copy goes too (when that page next comes online)."""
    server = own_server
    path = f"/branches/{server.branch_id('第一党支部')}/announcements/"
    phone = open_page(server, "shuji", path)  # each page is its own browser: two devices
    wait_live(phone, "#announcement-list")
    title, body = f"关于组织生活会的通知 {tag()}", "请各位党员认真准备发言提纲。"
    phone.fill("#compose-title", title)
    phone.fill("#compose-body", body)
    wait_saved(phone, "发言提纲", on_server=True)

    computer = open_page(server, "shuji", path)
    wait_live(computer, "#announcement-list")
    expect(computer.locator("#compose-title")).to_have_value(title)
    expect(computer.locator("#compose-body")).to_have_value(body)
    expect(computer.locator("#compose .draft-note")).to_contain_text("已恢复您在其他设备上的草稿。")
    computer.fill("#compose-body", body + "\n时间另行通知。")  # finished here
    computer.click("#compose button[type=submit]")
    expect(computer.locator("#compose-status")).to_have_text("已发布。")
    computer.wait_for_function("() => !Object.keys(localStorage).some((key) => key.startsWith('bl-draft:'))")

    # The phone's page still shows what it had (nothing typed there is taken away while
    # it is open); opened again, its copy is gone, as posted.
    phone.reload()
    wait_live(phone, "#announcement-list")
    expect(phone.locator("#compose-title")).to_have_value("")
    expect(phone.locator("#compose-body")).to_have_value("")
    expect(phone.locator("#compose .draft-note")).to_have_count(0)
    assert phone.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('bl-draft:'))") == []


def test_a_draft_changed_on_two_devices_at_once_keeps_both_texts(own_server, open_page):
    """Both open, both typing: the second to save is told the draft moved on elsewhere,
    keeps its own text in the form and the other one click away (the click swaps back,
    too); the first device, reloaded, gets the newer text and keeps its own a click
    away. Nothing typed on either is lost."""
    server = own_server
    path = f"/branches/{server.branch_id('第一党支部')}/announcements/"
    phone = open_page(server, "shuji", path)
    computer = open_page(server, "shuji", path)
    wait_live(phone, "#announcement-list")
    wait_live(computer, "#announcement-list")
    on_phone, on_computer = f"手机上写的标题 {tag()}", f"电脑上写的标题 {tag()}"

    phone.fill("#compose-title", on_phone)
    phone.fill("#compose-body", "手机上写的正文")
    wait_saved(phone, "手机上写的正文", on_server=True)

    computer.fill("#compose-title", on_computer)
    computer.fill("#compose-body", "电脑上写的正文")
    note = computer.locator("#compose .draft-note")
    expect(note).to_contain_text("这份草稿在另一台设备上也改过。")
    expect(computer.locator("#compose-title")).to_have_value(on_computer)  # its own text stays
    wait_saved(computer, "电脑上写的正文", on_server=True)  # and went up on top of the other

    note.get_by_role("button", name="换成另一个版本").click()
    expect(computer.locator("#compose-title")).to_have_value(on_phone)
    expect(computer.locator("#compose-body")).to_have_value("手机上写的正文")
    note.get_by_role("button", name="换成另一个版本").click()  # and back
    expect(computer.locator("#compose-title")).to_have_value(on_computer)
    wait_saved(computer, "电脑上写的正文", on_server=True)

    # The phone, opened again: the newer text, and its own a click away.
    phone.reload()
    wait_live(phone, "#announcement-list")
    expect(phone.locator("#compose-title")).to_have_value(on_computer)
    phone_note = phone.locator("#compose .draft-note")
    expect(phone_note).to_contain_text("已恢复您在其他设备上的草稿。")
    phone_note.get_by_role("button", name="换成另一个版本").click()
    expect(phone.locator("#compose-title")).to_have_value(on_phone)


def test_on_a_shared_computer_a_draft_is_kept_for_the_tab_alone(own_server, open_page):
    """Logged in as on a shared computer: the draft is in the tab's sessionStorage, which
    closing the browser clears, and none is in the browser's localStorage."""
    server = own_server
    path = topic_path(server)
    member = open_page(server, None, "/login/")
    member.goto(f"/login/?next={path}")
    member.fill("#id_username", "dangyuan")
    member.fill("#id_password", "branchline-demo")
    member.get_by_label("这是公用电脑：关闭浏览器即退出登录").check()
    member.click("#login-form button[type=submit]")
    member.wait_for_url(lambda url: "/login/" not in url)
    wait_live(member)
    words = f"在公用电脑上写的 {tag()}"
    member.fill("#reply-body", words)
    member.wait_for_function(
        "(words) => Object.keys(sessionStorage).some((key) => key.startsWith('bl-draft:') "
        "&& sessionStorage.getItem(key).includes(words))", arg=words)
    assert member.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('bl-draft:')).length") == 0
    member.reload()
    wait_live(member)
    expect(member.locator("#reply-body")).to_have_value(words)  # the tab still has it
    cookies = {c["name"]: c for c in member.context.cookies()}
    assert cookies["sessionid"]["expires"] == -1  # gone when the browser closes
