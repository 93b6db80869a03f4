"""通知公告 in two browsers: the secretary publishes, a member sees it without reloading."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BRANCH = "第一党支部"


def announcements_path(server) -> str:
    return f"/branches/{server.branch_id(BRANCH)}/announcements/"


def wait_online(page) -> None:
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")
    expect(page.locator("#announcement-list")).to_have_attribute("data-synced", "true")


def unread(page) -> int:
    return int(page.get_attribute("#unread-badge", "data-count"))


def test_secretary_post_appears_live_for_member(server, open_page):
    path = announcements_path(server)
    member = open_page(server, "dangyuan", path, background=True)  # what arrives stays unread
    secretary = open_page(server, "shuji", path)
    wait_online(member)
    wait_online(secretary)

    expect(member.locator("#compose")).to_have_count(0)  # only secretaries may publish
    expect(member.locator("#presence-names")).to_contain_text("王书记")  # who else is on the page
    member.evaluate("window.__sameDocument = true")
    before = unread(member)
    title = f"关于开展主题党日活动的通知 {uuid.uuid4().hex[:6]}"

    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "本周五下午三点在党群服务中心集合。\n请穿便装。")
    secretary.click("#compose button[type=submit]")

    newest = member.locator("#announcement-list .announcement").first
    expect(newest.locator(".announcement-title")).to_contain_text(title)
    expect(newest.locator(".author")).to_have_text("王书记")
    expect(newest).to_have_class(re.compile(r"\bis-unread\b"))
    expect(member.locator("#unread-badge")).to_have_attribute("data-count", str(before + 1))
    expect(member.locator("#unread-badge")).to_contain_text(f"{before + 1} 条未读")
    expect(member.locator(".announcement-title", has_text=title)).to_have_count(1)
    assert member.evaluate("window.__sameDocument") is True, "the member's page reloaded"

    # Shown in the branch's zone (Asia/Shanghai), not the browser's (New York).
    shown = newest.locator("time").inner_text()
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    allowed = {(now + timedelta(minutes=d)).strftime("%Y-%m-%d %H:%M") for d in (-1, 0, 1)}
    assert shown in allowed, f"time {shown!r} is not branch-local now ({sorted(allowed)})"

    # The secretary's own form is cleared and says so.
    expect(secretary.locator("#compose-status")).to_have_text("已发布。")
    expect(secretary.locator("#compose-title")).to_have_value("")
    expect(secretary.locator(".announcement-title", has_text=title)).to_have_count(1)

    # Mark all read: the badge goes away, and stays away after a reload (server state).
    member.click("#mark-all-read")
    expect(member.locator("#unread-badge")).to_be_hidden()
    expect(member.locator(".announcement.is-unread")).to_have_count(0)
    member.reload()
    wait_online(member)
    expect(member.locator("#unread-badge")).to_have_attribute("data-count", "0")


def test_compose_shows_the_servers_validation_errors(server, open_page):
    path = announcements_path(server)
    secretary = open_page(server, "shuji", path)
    wait_online(secretary)
    count = secretary.locator("#announcement-list .announcement").count()

    secretary.fill("#compose-title", "   ")
    secretary.fill("#compose-body", "正文")
    secretary.click("#compose button[type=submit]")

    error = secretary.locator("#compose-title-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("请填写标题。")  # the server's message, in the page's language
    expect(secretary.locator("#compose-title")).to_have_attribute("aria-invalid", "true")
    expect(secretary.locator("#compose-error")).to_contain_text("请修改标出的内容")
    expect(secretary.locator("#compose-body")).to_have_value("正文")  # nothing the user typed is lost

    secretary.fill("#compose-title", "标题")
    secretary.fill("#compose-body", "  ")
    secretary.click("#compose button[type=submit]")
    expect(secretary.locator("#compose-body-error")).to_contain_text("请填写正文。")
    expect(secretary.locator("#compose-title-error")).to_be_hidden()
    expect(secretary.locator("#announcement-list .announcement")).to_have_count(count)


def test_member_of_another_branch_cannot_open_the_page(server, open_page):
    page = open_page(server, "shuji2", "/")
    response = page.goto(announcements_path(server))
    assert response.status == 404


def test_times_are_in_the_branch_zone_with_and_without_javascript(server, browser, open_page):
    branch = server.branch_id("第二党支部")
    server.query("UPDATE accounts_branch SET time_zone = 'Pacific/Auckland' WHERE id = ?", (branch,))
    try:
        (created,) = server.query(
            "SELECT created_at FROM announcements_announcement WHERE branch_id = ? ORDER BY seq DESC LIMIT 1",
            (branch,),
        )[0]
        utc = datetime.fromisoformat(created).replace(tzinfo=ZoneInfo("UTC"))
        expected = utc.astimezone(ZoneInfo("Pacific/Auckland")).strftime("%Y-%m-%d %H:%M")
        path = f"/branches/{branch}/announcements/"

        live = open_page(server, "shuji2", path)
        expect(live.locator("#announcement-list")).to_have_attribute("data-synced", "true")
        expect(live.locator(".announcement time").first).to_have_text(expected)
        expect(live.locator("main")).to_contain_text("Pacific/Auckland")

        # Server-rendered (Django's timezone tag), as a browser without JavaScript sees it.
        context = browser.new_context(base_url=server.url, java_script_enabled=False, timezone_id="UTC")
        try:
            context.add_cookies(live.context.cookies())
            static = context.new_page()
            static.goto(path)
            expect(static.locator(".announcement time").first).to_have_text(expected)
        finally:
            context.close()
    finally:
        server.query("UPDATE accounts_branch SET time_zone = 'Asia/Shanghai' WHERE id = ?", (branch,))


def test_marking_all_read_in_one_tab_clears_the_other_tab(server, open_page):
    path = announcements_path(server)
    secretary = open_page(server, "shuji", path)
    wait_online(secretary)
    secretary.fill("#compose-title", f"两个标签页 {uuid.uuid4().hex[:6]}")
    secretary.fill("#compose-body", "正文")
    secretary.click("#compose button[type=submit]")

    # Two tabs of one member: the same cookies, so one person.
    tab1 = open_page(server, "yubei", path, background=True)
    tab2 = tab1.context.new_page()
    tab2.goto(path)
    wait_online(tab1)
    wait_online(tab2)
    expect(tab2.locator("#unread-badge")).not_to_have_attribute("data-count", "0")

    tab1.click("#mark-all-read")
    expect(tab1.locator("#unread-badge")).to_have_attribute("data-count", "0")
    expect(tab2.locator("#unread-badge")).to_have_attribute("data-count", "0")
    expect(tab2.locator("#announcement-list .is-unread")).to_have_count(0)


def test_past_the_presence_limit_the_page_says_how_many_and_names_them_again_below_it(server_with, open_page):
    server = server_with(WS_PRESENCE_LIST_MAX="2")
    path = announcements_path(server)
    member = open_page(server, "dangyuan", path)
    secretary = open_page(server, "shuji", path)
    wait_online(member)
    wait_online(secretary)
    expect(member.locator("#presence-names")).to_have_text("王书记")

    moderator = open_page(server, "banzhu", path)
    wait_online(moderator)
    # Three people, the limit two: everyone is told how many, not who.
    expect(member.locator("#presence-names")).to_have_text("3 人")
    expect(moderator.locator("#presence-names")).to_have_text("3 人")

    moderator.close()
    # Back under the limit, the page asks for the names again.
    expect(member.locator("#presence-names")).to_have_text("王书记")


def test_a_secretary_corrects_and_withdraws_and_members_see_it_live(server, open_page):
    path = announcements_path(server)
    # In the background, so what arrives stays unread: a page in view reads what it shows
    # after a moment, which made the counts below depend on how fast the test ran.
    member = open_page(server, "dangyuan", path, background=True)
    secretary = open_page(server, "shuji", path)
    wait_online(member)
    wait_online(secretary)
    expect(member.locator(".announcement-actions")).to_have_count(0)  # members cannot change them
    member.evaluate("window.__sameDocument = true")
    title = f"周五学习安排 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "下午两点")
    secretary.click("#compose button[type=submit]")
    mine = member.locator("#announcement-list .announcement", has_text=title)
    expect(mine).to_have_count(1)
    unread_with_it = unread(member)

    # Edit in place: a field error from the server shows at the field, and nothing is lost.
    item = secretary.locator("#announcement-list .announcement", has_text=title)
    item.get_by_role("button", name="编辑").click()
    form = secretary.locator(".announcement.is-editing form")
    form.get_by_label("标题").fill("   ")
    form.get_by_role("button", name="保存").click()
    expect(form.locator(".field[data-field=title] .field-error")).to_have_text("请填写标题。")
    corrected = f"{title}（改为三点）"
    form.get_by_label("标题").fill(corrected)
    form.get_by_label("正文").fill("下午三点，地点不变")
    form.get_by_role("button", name="保存").click()
    expect(secretary.locator(".announcement.is-editing")).to_have_count(0)

    # The member's page: corrected in place, marked edited, still unread, no reload.
    expect(mine.locator(".announcement-title")).to_contain_text("（改为三点）")
    expect(mine.locator(".announcement-body")).to_have_text("下午三点，地点不变")
    expect(mine.locator(".edited")).to_contain_text("修改")
    expect(mine).to_have_class(re.compile(r"\bis-unread\b"))
    assert unread(member) == unread_with_it

    # Withdraw: the first click asks, the second withdraws; gone for the member, unread down.
    withdraw = secretary.locator("#announcement-list .announcement", has_text=corrected).get_by_role(
        "button", name="撤回")
    withdraw.click()
    confirm = secretary.locator("#announcement-list .announcement", has_text=corrected).get_by_role(
        "button", name="确认撤回？")
    confirm.click()
    expect(secretary.locator(".announcement-title", has_text=corrected)).to_have_count(0)
    expect(member.locator(".announcement-title", has_text=corrected)).to_have_count(0)
    expect(member.locator("#unread-badge")).to_have_attribute("data-count", str(unread_with_it - 1))
    assert member.evaluate("window.__sameDocument") is True, "the member's page reloaded"
    member.reload()
    wait_online(member)
    expect(member.locator(".announcement-title", has_text=title)).to_have_count(0)
    expect(member.locator("#unread-badge")).to_have_attribute("data-count", str(unread_with_it - 1))


def test_the_announcements_tab_counts_new_ones_live_on_other_pages(server, open_page):
    """A member reading the forum sees the announcements tab's count go up when the
    secretary posts, and down when it is withdrawn, without being listed as reading
    the announcements."""
    branch = server.branch_id(BRANCH)
    member = open_page(server, "dangyuan", f"/branches/{branch}/forum/")
    secretary = open_page(server, "shuji", announcements_path(server))
    wait_online(secretary)
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    tab = member.get_by_role("navigation", name="本支部栏目").get_by_role("link", name=re.compile("通知公告"))
    badge = member.locator("#nav-unread-count")
    before = int(badge.inner_text().split()[0] or 0) if badge.is_visible() else 0
    member.evaluate("window.__sameDocument = true")

    title = f"临时通知 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "今晚七点开会")
    secretary.click("#compose button[type=submit]")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text(f"{before + 1}")
    expect(tab).to_contain_text(f"{before + 1} 条未读")
    expect(secretary.locator("#presence-names")).to_have_text("只有您")  # the member is not on this page

    item = secretary.locator("#announcement-list .announcement", has_text=title)
    item.get_by_role("button", name="撤回").click()
    item.get_by_role("button", name="确认撤回？").click()
    if before == 0:
        expect(badge).to_be_hidden()
    else:
        expect(badge).to_contain_text(f"{before}")

    # Marking all read on the announcements page, in another tab of the same member,
    # clears the tab's count here (through the member's inbox, which the forum page
    # follows too: one subscription, two listeners).
    secretary.fill("#compose-title", f"{title} 二")
    secretary.fill("#compose-body", "补充说明")
    secretary.click("#compose button[type=submit]")
    expect(badge).to_be_visible()
    reader = open_page(server, "dangyuan", announcements_path(server), background=True)
    wait_online(reader)
    reader.click("#mark-all-read")
    expect(reader.locator("#unread-badge")).to_be_hidden()
    expect(badge).to_be_hidden()
    assert member.evaluate("window.__sameDocument") is True, "the member's page reloaded"


def test_a_secretary_sees_who_has_read_an_announcement(server, open_page):
    path = announcements_path(server)
    member = open_page(server, "dangyuan", path, background=True)  # reads only with "mark all read"
    secretary = open_page(server, "shuji", path)
    wait_online(member)
    wait_online(secretary)
    expect(member.locator(".receipt-toggle")).to_have_count(0)  # members do not see others' reading
    title = f"支部大会材料 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "请会前阅读。")
    secretary.click("#compose button[type=submit]")
    expect(member.locator(".announcement-title", has_text=title)).to_have_count(1)

    # The new one shows its count at once (asked for when it arrived: events carry none).
    item = secretary.locator("#announcement-list .announcement", has_text=title)
    toggle = item.locator(".receipt-toggle")
    expect(toggle).to_have_text(re.compile(r"^已读 0/\d+$"))
    # Opening the reader list loads the names.
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(item.locator(".receipt-unread")).to_contain_text("张党员")
    expect(item.locator(".receipt-unread")).to_contain_text(re.compile(r"张党员、|、张党员"))  # names apart
    expect(item.locator(".receipt-read")).not_to_contain_text("张党员")
    expect(toggle).to_have_text(re.compile(r"^已读 \d+/\d+$"))
    read_before, of = map(int, re.findall(r"\d+", toggle.inner_text()))

    # The member marks all read; the secretary refreshes the list.
    member.click("#mark-all-read")
    expect(member.locator("#unread-badge")).to_have_attribute("data-count", "0")
    item.get_by_role("button", name="刷新").click()
    expect(item.locator(".receipt-read")).to_contain_text("张党员")
    expect(item.locator(".receipt-unread")).not_to_contain_text("张党员")
    expect(toggle).to_have_text(f"已读 {read_before + 1}/{of}")

    # After a reload the count comes with the list, and the open list stays closed.
    secretary.reload()
    wait_online(secretary)
    item = secretary.locator("#announcement-list .announcement", has_text=title)
    expect(item.locator(".receipt-toggle")).to_have_text(f"已读 {read_before + 1}/{of}")
    expect(item.locator(".receipt-panel")).to_be_hidden()


def test_an_announcement_is_written_in_markdown_previewed_and_shown_formatted(server, open_page):
    path = announcements_path(server)
    member = open_page(server, "dangyuan", path)
    secretary = open_page(server, "shuji", path)
    wait_online(member)
    wait_online(secretary)
    title = f"议程 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "**请准时参加**\n地点另行通知\n\n1. 学习\n2. 讨论\n\n<b>不是标签</b>")
    secretary.get_by_role("tab", name="预览").click()
    preview = secretary.locator("#compose-preview")
    expect(preview.locator("strong")).to_have_text("请准时参加")
    expect(preview.locator("ol li")).to_have_count(2)
    secretary.get_by_role("tab", name="编写").click()
    secretary.click("#compose button[type=submit]")
    expect(secretary.locator("#compose-body")).to_have_value("")
    expect(secretary.locator("#compose-body")).to_be_visible()  # back to writing

    body = member.locator("#announcement-list .announcement", has_text=title).locator(".announcement-body")
    expect(body.locator("strong")).to_have_text("请准时参加")
    expect(body.locator("br")).to_have_count(1)  # the typed line break
    expect(body.locator("ol li")).to_have_count(2)
    expect(body).to_contain_text("<b>不是标签</b>")  # HTML is shown as text
    assert body.locator("b").count() == 0
    member.reload()  # rendered by the server the same way
    wait_online(member)
    expect(member.locator("#announcement-list .announcement", has_text=title).locator("strong")).to_have_text(
        "请准时参加")


def test_a_secretary_pins_an_announcement_and_it_moves_to_the_top_live(server, open_page):
    path = announcements_path(server)
    member = open_page(server, "dangyuan", path)
    secretary = open_page(server, "shuji", path)
    wait_online(member)
    wait_online(secretary)
    older, newer = (f"{name} {uuid.uuid4().hex[:6]}" for name in ("先发", "后发"))
    for title in (older, newer):
        secretary.fill("#compose-title", title)
        secretary.fill("#compose-body", "正文")
        secretary.click("#compose button[type=submit]")
        expect(member.locator(".announcement-title", has_text=title)).to_have_count(1)
    first = member.locator("#announcement-list .announcement").first
    expect(first).to_contain_text(newer)

    item = secretary.locator("#announcement-list .announcement", has_text=older)
    item.get_by_role("button", name="置顶", exact=True).click()
    chooser = item.locator(".pin-chooser")  # for how long: until unpinned, unless chosen
    expect(chooser.get_by_role("combobox", name="置顶多久")).to_have_value("0")
    chooser.get_by_role("button", name="置顶", exact=True).click()
    expect(first).to_contain_text(older)  # moved to the top, without reloading
    expect(first.locator(".pin-label")).to_have_text("置顶")
    expect(secretary.locator("#announcement-list .announcement").first).to_contain_text(older)

    secretary.locator("#announcement-list .announcement", has_text=older).get_by_role(
        "button", name="取消置顶").click()
    expect(first).to_contain_text(newer)
    expect(member.locator("#announcement-list .announcement", has_text=older).locator(".pin-label")).to_have_count(0)

    # 置顶至: for a week; the label says until when, on the branch's clock.
    item = secretary.locator("#announcement-list .announcement", has_text=newer)
    item.get_by_role("button", name="置顶", exact=True).click()
    item.locator(".pin-chooser select").select_option(label="一周")
    item.locator(".pin-chooser").get_by_role("button", name="置顶", exact=True).click()
    week = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=7)).strftime("%Y-%m-%d")
    expect(first.locator(".pin-label")).to_contain_text(f"置顶至 {week}")
    secretary.locator("#announcement-list .announcement", has_text=newer).get_by_role("button", name="取消置顶").click()
    expect(first.locator(".pin-label")).to_have_count(0)


def png(width: int, height: int) -> bytes:
    """A real PNG of one colour, for a picture attachment."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xb3\x12\x1f" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_a_secretary_attaches_files_and_members_download_them(server, open_page):
    path = announcements_path(server)
    member = open_page(server, "dangyuan", path)
    secretary = open_page(server, "shuji", path)
    wait_online(member)
    wait_online(secretary)
    pdf = b"%PDF-1.4\n% study material\n%%EOF\n"
    secretary.set_input_files("#compose-files", files=[
        {"name": "学习材料.pdf", "mimeType": "application/pdf", "buffer": pdf},
        {"name": "病毒.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"},
        {"name": "海报.png", "mimeType": "image/png", "buffer": png(40, 20)},
    ])
    uploads = secretary.locator("#compose-uploads .upload")
    expect(uploads).to_have_count(3)
    expect(uploads.nth(2)).to_have_class(re.compile(r"\bis-ready\b"))
    expect(uploads.nth(0)).to_have_class(re.compile(r"\bis-ready\b"))
    expect(uploads.nth(0)).to_contain_text("已上传")
    expect(uploads.nth(1)).to_have_class(re.compile(r"\bis-failed\b"))
    expect(uploads.nth(1)).to_contain_text("不能上传此类文件")

    title = f"学习材料 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "请在会前阅读附件。")
    secretary.click("#compose button[type=submit]")
    expect(secretary.locator("#compose-attachments-error")).to_contain_text("请移除未能上传的文件")
    uploads.nth(1).get_by_role("button").click()  # take the refused one out
    secretary.click("#compose button[type=submit]")
    expect(secretary.locator("#compose-status")).to_have_text("已发布。")
    expect(uploads).to_have_count(0)

    newest = member.locator("#announcement-list .announcement", has_text=title)
    link = newest.locator(".attachments a", has_text="学习材料.pdf")
    expect(link).to_have_text("学习材料.pdf")  # live, without a reload
    picture = newest.locator(".attachment-picture img")
    expect(picture).to_have_attribute("alt", "海报.png")
    expect(picture).to_have_attribute("src", re.compile(r"\?preview=1$"))  # the smaller copy
    member.wait_for_function("img => img.complete && img.naturalWidth === 40", arg=picture.element_handle())
    expect(newest.locator(".attachments")).to_contain_text(f"{len(pdf)} 字节")  # its size
    response = member.context.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.body() == pdf
    assert response.headers["content-type"] == "application/pdf"
    member.reload()  # as the server renders it
    listed = member.locator("#announcement-list .announcement", has_text=title).locator(".attachments")
    expect(listed.locator("li", has_text="学习材料.pdf")).to_contain_text(f"{len(pdf)} 字节")
    expect(listed.locator(".attachment-picture img")).to_have_attribute("alt", "海报.png")

    # A correction takes the file off and adds another; the member's page follows.
    item = secretary.locator("#announcement-list .announcement", has_text=title)
    item.get_by_role("button", name="编辑").click()
    form = secretary.locator(".announcement.is-editing form")
    form.get_by_role("button", name="删除 学习材料.pdf").click()
    form.get_by_role("button", name="删除 海报.png").click()
    form.locator("input[type=file]").set_input_files(files=[
        {"name": "报名表.docx", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04 form"}])
    expect(form.locator(".upload.is-ready")).to_contain_text("已上传")
    form.get_by_role("button", name="保存").click()
    expect(secretary.locator(".announcement.is-editing")).to_have_count(0)
    expect(listed.locator("a")).to_have_text("报名表.docx")
    assert member.context.request.get(link_href := listed.locator("a").get_attribute("href")).ok
    assert member.context.request.get(response.url).status == 404  # the file taken off is gone
    assert link_href != response.url


def test_what_has_been_on_screen_is_read_and_the_secretary_reminds_the_rest(own_server, open_page):
    """已读 by being seen: the long one the member scrolled to is read, the one below it that
    never came into view is not; the secretary's 提醒未读 reaches the member's bell, and
    opening the announcement from the notification reads it."""
    server = own_server  # its own reading and reminders
    branch = server.branch_id(BRANCH)
    path = announcements_path(server)
    marker = uuid.uuid4().hex[:6]
    below, long_one = f"会议纪要 {marker}", f"学习材料 {marker}"
    server.post_announcement(username="shuji", branch_id=branch, title=below, body="请会前阅读。")
    server.post_announcement(username="shuji", branch_id=branch, title=long_one,
                             body="\n\n".join(f"第{i}段学习内容。" for i in range(1, 90)))

    member = open_page(server, "dangyuan", path)
    wait_online(member)
    long_item = member.locator("#announcement-list .announcement", has_text=long_one)
    below_item = member.locator("#announcement-list .announcement", has_text=below)
    expect(below_item).to_have_class(re.compile(r"\bis-unread\b"))
    long_item.evaluate("node => node.scrollIntoView({block: 'start'})")
    expect(long_item).not_to_have_class(re.compile(r"\bis-unread\b"))  # after a moment in view
    member.wait_for_timeout(2500)
    expect(below_item).to_have_class(re.compile(r"\bis-unread\b"))  # never in view: still unread
    bell = member.locator("#bell-count")
    bell_before = int(bell.inner_text().split()[0]) if bell.is_visible() else 0

    # The secretary sees who has read which, and reminds the rest.
    secretary = open_page(server, "shuji", path)
    wait_online(secretary)
    read_item = secretary.locator("#announcement-list .announcement", has_text=long_one)
    read_item.locator(".receipt-toggle").click()
    expect(read_item.locator(".receipt-read")).to_contain_text("张党员")
    item = secretary.locator("#announcement-list .announcement", has_text=below)
    item.locator(".receipt-toggle").click()
    expect(item.locator(".receipt-unread")).to_contain_text("张党员")
    remind = item.get_by_role("button", name="提醒未读的同志")
    remind.click()
    expect(item.locator(".receipt-remind")).to_contain_text(re.compile(r"已提醒 \d+ 人"))
    expect(bell).to_have_text(f"{bell_before + 1} 条新提醒")  # live, on the member's page

    # Once is enough for half an hour: a second try says when.
    item.get_by_role("button", name="刷新").click()
    expect(item.locator(".receipt-remind")).to_contain_text("上次提醒")
    item.get_by_role("button", name="提醒未读的同志").click()
    expect(item.locator(".receipt-remind")).to_contain_text("起可以再次提醒")

    # The notification leads to the announcement, and opening it reads it.
    notices = member.context.new_page()
    notices.goto("/notifications/")
    notice = notices.locator("#notification-list .notification").first
    expect(notice).to_contain_text(f"王书记 提醒您阅读通知“{below}”")
    notice.get_by_role("link").click()
    expect(notices.locator("h1")).to_contain_text(below)
    expect(below_item).not_to_have_class(re.compile(r"\bis-unread\b"))  # the list tab heard it
    # The secretary's open list moves by itself (receipts:<branch>), without 刷新.
    expect(item.locator(".receipt-read")).to_contain_text("张党员")
    expect(item.locator(".receipt-unread")).not_to_contain_text("张党员")


def test_each_branch_tab_counts_its_new_announcements_live(own_server, open_page):
    """张党员 is in 第一党支部 and in its 第一党小组: a notice to the group shows on the group's
    tab on whatever page he has open, and goes once he has read it in another tab."""
    server = own_server
    group = server.branch_id("第一党小组")
    member = open_page(server, "dangyuan", f"/branches/{server.branch_id(BRANCH)}/forum/")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    badge = member.locator(f'.branch-nav [data-unread-branch="{group}"]')
    before = int(badge.inner_text().split()[0] or 0) if badge.is_visible() else 0
    title = f"小组学习安排 {uuid.uuid4().hex[:6]}"
    server.post_announcement(username="shuji", branch_id=group, title=title, body="周四晚上七点")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text(f"{before + 1}")

    reader = member.context.new_page()  # the same member, another tab
    reader.goto(f"/branches/{group}/announcements/")
    expect(reader.locator("#announcement-list .announcement", has_text=title)).not_to_have_class(
        re.compile(r"\bis-unread\b"))  # read once seen there
    if before == 0:
        expect(badge).to_be_hidden()
    else:
        expect(badge).to_contain_text(f"{before}")


def test_a_secretary_schedules_an_announcement_and_it_goes_out_by_itself(own_server, open_page):
    """定时发布: the secretary writes it for later on the branch's clock; the committee's
    secretary sees it wait, live; members see nothing of it until the server publishes it
    at its time, when it arrives on their page like any other."""
    server = own_server  # its own database: the job publishes into it
    path = announcements_path(server)
    member = open_page(server, "dangyuan", path, background=True)
    secretary = open_page(server, "shuji", path)
    above = open_page(server, "dangwei", path)
    for page in (member, secretary, above):
        wait_online(page)
    waiting = secretary.locator("#scheduled-list .scheduled-item").count()  # the demo's own, at least
    title = f"下周一支委会通知 {uuid.uuid4().hex[:6]}"

    secretary.fill("#compose-title", title)
    secretary.fill("#compose-body", "周一上午九点，二楼会议室。")
    secretary.check("#compose-later")
    expect(secretary.locator("#compose-submit")).to_have_text("定时发布")
    secretary.click("#compose-submit")
    expect(secretary.locator("#compose-publish-at-error")).to_have_text("请选择发布时间。")
    tomorrow = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).strftime("%Y-%m-%d")
    secretary.fill("#compose-publish-at", f"{tomorrow}T08:00")  # the browser is in New York: still Shanghai's 08:00
    secretary.click("#compose-submit")
    expect(secretary.locator("#compose-status")).to_have_text(f"已定时，将于 {tomorrow} 08:00 发布。")
    expect(secretary.locator("#compose-submit")).to_have_text("发布")  # the form is back to posting now
    for page in (secretary, above):  # the other secretary's page, live
        item = page.locator("#scheduled-list .scheduled-item", has_text=title)
        expect(item.locator(".scheduled-when")).to_have_text(f"将于 {tomorrow} 08:00 发布")
        expect(page.locator("#scheduled-count")).to_have_text(str(waiting + 1))
    expect(member.locator("#scheduled-section")).to_have_count(0)
    expect(member.locator(".announcement-title", has_text=title)).to_have_count(0)

    # Moved to 09:30, with the agenda attached, from the committee secretary's page; the
    # author's page follows.
    item = above.locator("#scheduled-list .scheduled-item", has_text=title)
    item.get_by_role("button", name="更改").click()
    above.locator("#scheduled-list input[type=datetime-local]").fill(f"{tomorrow}T09:30")
    above.locator("#scheduled-list input[type=file]").set_input_files(
        files=[{"name": "会议议程.txt", "mimeType": "text/plain", "buffer": "一、学习\n二、讨论\n".encode()}])
    expect(above.locator("#scheduled-list .upload.is-ready")).to_contain_text("会议议程.txt")
    above.locator("#scheduled-list form button[type=submit]").click()
    moved = secretary.locator("#scheduled-list .scheduled-item", has_text=title)
    expect(moved.locator(".scheduled-when")).to_have_text(f"将于 {tomorrow} 09:30 发布")
    expect(moved.get_by_role("link", name="会议议程.txt")).to_be_visible()

    # Its time comes (moved to a moment ago): the server publishes it by itself.
    before = unread(member)
    server.manage("shell", "-c", (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from announcements.models import ScheduledAnnouncement\n"
        f"ScheduledAnnouncement.objects.filter(title={title!r}).update(publish_at=timezone.now() - timedelta(seconds=1))\n"
    ))
    newest = member.locator("#announcement-list .announcement").first
    expect(newest.locator(".announcement-title")).to_contain_text(title, timeout=25_000)
    expect(newest.locator(".author")).to_have_text("王书记")
    expect(newest.get_by_role("link", name="会议议程.txt")).to_be_visible()  # its file went out with it
    expect(member.locator("#unread-badge")).to_have_attribute("data-count", str(before + 1))
    expect(secretary.locator("#scheduled-list .scheduled-item", has_text=title)).to_have_count(0)
    expect(secretary.locator("#scheduled-count")).to_have_text(str(waiting))
    expect(secretary.locator(".announcement-title", has_text=title)).to_have_count(1)

    # Another one, cancelled: pressed twice, it is gone from both secretaries' pages.
    secretary.fill("#compose-title", "取消的通知")
    secretary.fill("#compose-body", "不会发出。")
    secretary.check("#compose-later")
    secretary.fill("#compose-publish-at", f"{tomorrow}T10:00")
    secretary.click("#compose-submit")
    cancel = secretary.locator("#scheduled-list .scheduled-item", has_text="取消的通知").locator("button.danger")
    expect(cancel).to_have_text("取消定时")
    cancel.click()
    expect(cancel).to_have_text("确定取消？附件将一并删除")
    cancel.click()
    for page in (secretary, above):
        expect(page.locator("#scheduled-list .scheduled-item", has_text="取消的通知")).to_have_count(0)
        expect(page.locator("#scheduled-count")).to_have_text(str(waiting))


def test_an_announcement_prints_as_the_notice_itself(server, open_page):
    """For the branch's board or records: printed, the page is the notice (with who has
    read it, for the secretary), without navigation, buttons or forms."""
    path = announcements_path(server)
    secretary = open_page(server, "shuji", path)
    wait_online(secretary)
    secretary.locator("#announcement-list .announcement-title a").first.click()
    title = secretary.locator("h1.announcement-title").inner_text()
    secretary.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".receipt-remind", ".back-link"):
        expect(secretary.locator(hidden)).to_be_hidden()
    expect(secretary.locator("h1.announcement-title")).to_have_text(title)
    expect(secretary.locator(".announcement-body")).to_be_visible()
    expect(secretary.locator("#receipt")).to_be_visible()
    pdf = secretary.pdf(format="A4")  # what the browser's own print would send to paper
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    secretary.emulate_media(media="screen")
    expect(secretary.locator(".site-header")).to_be_visible()
