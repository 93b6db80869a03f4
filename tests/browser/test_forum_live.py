"""微论坛 in several browsers: posts, moderator tools and review decisions appear live.

Every test writes text of its own (a random tag) on the shared server, so the tests
do not depend on each other's order.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TOPIC = "本月主题党日活动安排"  # in 支部交流 (members only), from the demo data


def topic_path(server, title: str = TOPIC) -> str:
    rows = server.query("SELECT id FROM forum_topic WHERE title = ?", (title,))
    assert rows, f"no topic {title!r} in the demo data"
    return f"/forum/topics/{rows[0][0]}/"


def board_path(server, name: str) -> str:
    rows = server.query("SELECT id FROM forum_board WHERE name = ?", (name,))
    assert rows, f"no board {name!r} in the demo data"
    return f"/forum/boards/{rows[0][0]}/"


def wait_live(page, list_id: str = "#post-list") -> None:
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")
    expect(page.locator(list_id)).to_have_attribute("data-synced", "true")


def tag() -> str:
    return uuid.uuid4().hex[:8]


def post_reply(page, text: str) -> None:
    page.fill("#reply-body", text)
    page.click("#reply-form button[type=submit]")


def test_a_members_post_appears_live_for_another_reader(server, open_page):
    path = topic_path(server)
    reader = open_page(server, "dangyuan", path)
    writer = open_page(server, "shuji", path)
    wait_live(reader)
    wait_live(writer)
    reader.evaluate("window.__sameDocument = true")

    # Who is reading, and who is typing.
    expect(reader.locator("#presence-names")).to_contain_text("王书记")
    writer.locator("#reply-body").press_sequentially("报名", delay=20)
    expect(reader.locator("#typing")).to_have_text("王书记 正在输入…")

    text = f"我也报名参加，负责带急救包 {tag()}"
    post_reply(writer, text)

    post = reader.locator("#post-list .post", has_text=text)
    expect(post).to_have_count(1)
    expect(post.locator(".post-author")).to_have_text("王书记")
    expect(post).to_have_attribute("data-status", "visible")
    expect(post.locator(".post-status")).to_have_count(0)
    assert reader.evaluate("window.__sameDocument") is True, "the reader's page reloaded"
    # In the branch's zone (Asia/Shanghai), not the browser's (New York).
    shown = post.locator(".post-head time").inner_text()
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert shown in {(now + timedelta(minutes=d)).strftime("%Y-%m-%d %H:%M") for d in (-1, 0, 1)}, shown

    # The writer's form is cleared; their own post shows once, published.
    expect(writer.locator("#reply-form-status")).to_have_text("已发布。")
    expect(writer.locator("#reply-body")).to_have_value("")
    expect(writer.locator("#post-list .post", has_text=text)).to_have_count(1)

    # Reply with a quote: the new post says whom it answers, on the other page too.
    writer.locator("#post-list .post", has_text=text).get_by_role("button", name="引用").click()
    expect(writer.locator("#reply-to-text")).to_contain_text("正在回复")
    expect(writer.locator("#reply-body")).to_have_value(re.compile(r"王书记 写道：\n> 我也报名参加"))
    writer.locator("#reply-body").press_sequentially("好的，谢谢！")
    writer.click("#reply-form button[type=submit]")
    answer = reader.locator("#post-list .post", has_text="好的，谢谢！").last
    expect(answer.locator(".post-reply-to")).to_contain_text("回复 #")
    expect(answer.locator(".post-body blockquote")).to_contain_text("我也报名参加")


def test_a_moderator_approves_a_queued_post_and_the_author_sees_it_appear(server, open_page):
    path = topic_path(server)
    branch = server.branch_id("第一党支部")
    moderator = open_page(server, "banzhu", f"/branches/{branch}/review/")
    author = open_page(server, "yubei", path)  # a probationary member: first posts wait for review
    other = open_page(server, "dangyuan", path)
    wait_live(author)
    wait_live(other)
    expect(moderator.locator("#conn-status")).to_have_attribute("data-status", "online")
    for page in (author, other):
        page.evaluate("window.__sameDocument = true")

    text = f"请问需要自带水杯吗？ {tag()}"
    post_reply(author, text)
    mine = author.locator("#post-list .post", has_text=text)
    expect(mine.locator(".post-status")).to_have_text("待审核")
    expect(author.locator("#reply-form-status")).to_contain_text("待审核")
    expect(other.locator("#post-list .post", has_text=text)).to_have_count(0)

    # The item arrives on the open queue page, with the post's text.
    item = moderator.locator("#review-list .review-item", has_text=text)
    expect(item).to_have_count(1)
    expect(item.locator(".review-reasons")).to_contain_text("新成员的前几条帖子")
    item.get_by_role("button", name="通过", exact=True).click()
    expect(item.locator(".item-status")).to_have_text("已通过")
    expect(item.locator(".item-message")).to_have_text("已处理：通过。")

    # The author's page: no longer awaiting review; the other member's page: it appears.
    expect(mine).to_have_attribute("data-status", "visible")
    expect(mine.locator(".post-status")).to_have_count(0)
    appeared = other.locator("#post-list .post", has_text=text)
    expect(appeared).to_have_count(1)
    expect(appeared.locator(".post-author")).to_have_text("赵预备")
    for page in (author, other):
        assert page.evaluate("window.__sameDocument") is True, "a page reloaded"


def test_a_visitor_writes_as_a_citizen_and_sees_the_moderators_approval(server, open_page):
    """No account: the home page leads to the public board, one click makes this browser
    a citizen, the topic waits for review, and the approval reaches the citizen's page live."""
    branch = server.branch_id("第一党支部")
    moderator = open_page(server, "banzhu", f"/branches/{branch}/review/")
    visitor = open_page(server, None, "/")
    visitor.get_by_role("link", name="群众之声").click()
    visitor.fill("#citizen-name", "居民老李")
    visitor.click("#citizen-join button[type=submit]")
    expect(visitor.locator("#topic-form")).to_be_visible()
    expect(visitor.locator(".account .who")).to_have_text("居民老李")
    expect(visitor.locator("#conn-status")).to_have_attribute("data-status", "online")

    title = f"三号楼路灯坏了 {tag()}"
    visitor.fill("#topic-title", title)
    visitor.fill("#topic-body", "晚上很不安全，请帮忙联系物业。")
    visitor.click("#topic-form button[type=submit]")
    mine = visitor.locator("#post-list .post").first
    expect(mine.locator(".post-status")).to_have_text("待审核")
    expect(mine.locator(".post-author")).to_have_text("居民老李")
    visitor.evaluate("window.__sameDocument = true")

    item = moderator.locator("#review-list .review-item", has_text="请帮忙联系物业")
    expect(item).to_have_count(1)
    expect(item.locator(".review-reasons")).to_contain_text("群众")
    item.get_by_role("button", name="通过", exact=True).click()
    expect(item.locator(".item-status")).to_have_text("已通过")
    expect(mine).to_have_attribute("data-status", "visible")
    assert visitor.evaluate("window.__sameDocument") is True, "the citizen's page reloaded"

    # "Forget me": this browser is a visitor again, and the topic stays for everyone.
    visitor.get_by_role("button", name="忘记我").click()
    expect(visitor.locator(".account")).not_to_contain_text("居民老李")
    expect(visitor.locator("#post-list .post", has_text="请帮忙联系物业")).to_have_count(1)


XSS_BODY = "看这里 <img src=x onerror=alert(1)> 和 [x](javascript:alert(1)) 还有 <script>alert(2)</script> {tag}"


def assert_inert(page, body_locator) -> None:
    expect(body_locator).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text
    assert body_locator.locator("img, script, iframe, [onerror]").count() == 0
    hrefs = body_locator.locator("a").evaluate_all("(links) => links.map((a) => a.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")], hrefs


def test_html_and_javascript_links_in_a_post_are_inert(server, open_page):
    path = topic_path(server)
    dialogs: list[str] = []
    reader = open_page(server, "dangyuan", path)
    writer = open_page(server, "shuji", path)
    for page in (reader, writer):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    wait_live(reader)
    wait_live(writer)

    marker = tag()
    body = XSS_BODY.format(tag=marker)
    writer.fill("#reply-body", f"**预览** {body}")
    # The preview is the server's rendering, as inert as the post will be.
    writer.click("#reply-tab-preview")
    preview = writer.locator("#reply-preview")
    expect(preview.locator("strong")).to_have_text("预览")
    assert_inert(writer, preview)
    writer.click("#reply-tab-write")
    writer.click("#reply-form button[type=submit]")

    live = reader.locator("#post-list .post", has_text=marker).locator(".post-body")
    expect(live).to_have_count(1)
    assert_inert(reader, live)
    assert_inert(writer, writer.locator("#post-list .post", has_text=marker).locator(".post-body"))

    # Rendered by the server (a fresh page load, before and after the script runs).
    reader.reload()
    wait_live(reader)
    assert_inert(reader, reader.locator("#post-list .post", has_text=marker).locator(".post-body"))

    # Search shows it escaped too.
    reader.goto(f"/forum/search/?q={marker}")
    snippet = reader.locator(".hit-snippet", has_text=marker)
    expect(snippet).to_have_count(1)
    assert snippet.locator("img, script").count() == 0
    reader.wait_for_timeout(300)  # a dialog, if one were to fire, fires at once
    assert dialogs == [], f"a dialog fired: {dialogs}"


def test_moderator_tools_show_as_lines_and_new_topics_arrive_on_the_board(server, open_page):
    board = board_path(server, "支部交流")
    member_board = open_page(server, "dangyuan", board)
    moderator = open_page(server, "banzhu", board)
    wait_live(member_board, "#topic-list")
    wait_live(moderator, "#topic-list")

    title = f"周六志愿服务分工 {tag()}"
    moderator.fill("#topic-title", title)
    moderator.fill("#topic-body", "请在下面回复认领任务。")
    moderator.click("#topic-form button[type=submit]")
    row = member_board.locator("#topic-list .topic-row", has_text=title)
    expect(row).to_have_count(1)  # live on the member's board page
    expect(row.locator(".tag-unread")).to_have_count(1)

    moderator.wait_for_url(re.compile(r"/forum/topics/\d+/$"))
    wait_live(moderator)
    member = open_page(server, "dangyuan", moderator.url.replace(server.url, ""))
    wait_live(member)
    expect(member.locator("#reply-form")).to_be_visible()

    moderator.click("#mod-tools summary")
    moderator.click("#mod-pin")
    expect(member.locator(".small-action").last).to_have_text(re.compile(r"李版主 置顶了此主题"))
    expect(member.locator("#tag-pinned")).to_be_visible()
    expect(row.locator(".tag-pinned")).to_have_count(1)  # the board page follows too
    expect(member_board.locator("#topic-list .topic-row").first).to_contain_text(title)  # pinned first

    moderator.select_option("#mod-slow", "60")
    moderator.click("#mod-slow-form button[type=submit]")
    expect(member.locator(".small-action").last).to_have_text(re.compile(r"开启了慢速模式：每人每 1 分钟最多发一帖"))

    moderator.click("#mod-close")
    expect(member.locator(".small-action").last).to_have_text(re.compile(r"李版主 关闭了此主题"))
    expect(member.locator("#reply-form")).to_be_hidden()
    expect(member.locator("#closed-note")).to_be_visible()

    # English: the same lines, rendered in the reader's language.
    member.get_by_role("button", name="English").click()
    expect(member.locator(".small-action").last).to_have_text(re.compile(r"李版主 closed this topic"))


def test_flagging_a_post_offers_the_four_reasons(server, open_page):
    path = topic_path(server)
    member = open_page(server, "dangyuan", path)
    wait_live(member)
    post = member.locator("#post-list .post", has_text="报名参加，我可以负责登记").first
    post.get_by_role("button", name="举报").click()
    dialog = member.locator("#flag-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=reason]")).to_have_count(4)
    expect(dialog).to_contain_text("垃圾信息")
    expect(dialog).to_contain_text("不当言论")
    expect(dialog).to_contain_text("偏离主题")
    dialog.get_by_role("radio", name="其他").check()
    dialog.get_by_role("button", name="举报").click()
    expect(member.locator("#flag-note-error")).to_have_text("请说明问题所在。")  # a note is needed
    member.fill("#flag-note", "与主题无关的广告")
    dialog.get_by_role("button", name="举报").click()
    expect(dialog).to_be_hidden()
    expect(member.locator("#topic-notice")).to_have_text("感谢举报，版主会尽快处理。")


def test_unread_counts_on_the_board_list_follow_new_topics_and_reading(server, open_page):
    branch = server.branch_id("第一党支部")
    member = open_page(server, "dangyuan", f"/branches/{branch}/forum/")
    writer = open_page(server, "shuji", board_path(server, "支部交流"))
    wait_live(member, "#board-list")
    wait_live(writer, "#topic-list")
    card = member.locator(".board-card", has_text="支部交流")
    badge = card.locator(".board-unread")
    before = int(badge.get_attribute("data-count"))
    topics = int(card.locator(".board-topics").get_attribute("data-count"))

    title = f"支委会会前征求意见 {tag()}"
    writer.fill("#topic-title", title)
    writer.fill("#topic-body", "请大家提出对支部工作的意见和建议。")
    writer.click("#topic-form button[type=submit]")
    expect(badge).to_have_attribute("data-count", str(before + 1))
    expect(badge).to_be_visible()
    expect(card.locator(".board-topics")).to_have_attribute("data-count", str(topics + 1))

    # Reading the topic in another tab of the same member clears it here.
    writer.wait_for_url(re.compile(r"/forum/topics/\d+/$"))
    tab = member.context.new_page()
    tab.goto(writer.url.replace(server.url, ""))
    wait_live(tab)
    expect(badge).to_have_attribute("data-count", str(before))
