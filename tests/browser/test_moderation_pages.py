"""Moderators' pages: the review queue when two moderators act at once, watched words,
the audit log, and who may open them."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BRANCH = "第一党支部"


def create_pending_post(server, text: str) -> None:
    """A probationary member's post through the same action the page uses: it waits for review."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from accounts.identity import identity_for_user\n"
        "from forum.actions import create_post\n"
        "from forum.models import Topic\n"
        "user = get_user_model().objects.get(username='yubei')\n"
        "topic = Topic.objects.get(title='本月主题党日活动安排')\n"
        f"post = create_post(identity=identity_for_user(user), topic_id=topic.pk, body={text!r})\n"
        "assert post.status == 'pending', post.status\n"
    )
    server.manage("shell", "-c", code)


def hold_back_queue_events(page) -> None:
    """Let this page's socket miss the queue's live events, as if they were still in flight."""

    def handler(ws):
        server = ws.connect_to_server()

        def from_server(message):
            try:
                frame = json.loads(message)
            except (TypeError, ValueError):
                frame = {}
            if frame.get("op") == "event" and str(frame.get("stream", "")).startswith("modqueue:"):
                return
            ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws/$"), handler)


def test_the_second_moderator_gets_a_clear_conflict_with_the_new_state(server, open_page):
    text = f"我想报名，但周六上午要值班 {uuid.uuid4().hex[:6]}"
    create_pending_post(server, text)
    path = f"/branches/{server.branch_id(BRANCH)}/review/"
    first = open_page(server, "banzhu", path)
    second = open_page(server, "shuji", "/")
    hold_back_queue_events(second)
    second.goto(path)
    for page in (first, second):
        expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")

    item_first = first.locator("#review-list .review-item", has_text=text)
    item_second = second.locator("#review-list .review-item", has_text=text)
    item_first.get_by_role("button", name="通过", exact=True).click()
    expect(item_first.locator(".item-status")).to_have_text("已通过")

    # The second moderator still sees it pending and rejects it, with a reason.
    expect(item_second.locator(".item-status")).to_have_text("待审核")
    item_second.get_by_role("button", name="驳回", exact=True).click()
    item_second.locator(".review-panel textarea").fill("与活动无关")
    item_second.locator(".review-panel button[type=submit]").click()

    message = item_second.locator(".item-message")
    expect(message).to_have_text(re.compile(r"另一位版主已先处理了此项，当前状态：已通过（李版主）"))
    expect(item_second.locator(".item-status")).to_have_text("已通过")
    expect(item_second.locator(".post-state")).to_have_text("帖子状态：已发布")
    rows = server.query("SELECT status FROM forum_post WHERE source = ?", (text,))
    assert rows == [("visible",)], "the second decision must not have been applied"


def test_watched_words_can_be_added_and_removed_and_bad_patterns_are_explained(server, open_page):
    page = open_page(server, "banzhu", f"/branches/{server.branch_id(BRANCH)}/watched-words/")
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online")
    expect(page.locator("#word-list")).to_contain_text("赌博")

    page.fill("#word-pattern", "**")
    page.click("#word-form button[type=submit]")
    expect(page.locator("#word-pattern-error")).to_be_visible()
    expect(page.locator("#word-pattern-error")).not_to_be_empty()
    expect(page.locator("#word-pattern")).to_have_attribute("aria-invalid", "true")

    word = f"刷单{uuid.uuid4().hex[:4]}"
    page.fill("#word-pattern", word)
    page.get_by_label("屏蔽").check()
    page.click("#word-form button[type=submit]")
    row = page.locator("#word-list .word-row", has_text=word)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("屏蔽")
    expect(page.locator("#word-pattern-error")).to_be_hidden()

    row.get_by_role("button", name="删除").click()
    row.get_by_role("button", name="确认删除？").click()
    expect(page.locator("#word-list .word-row", has_text=word)).to_have_count(0)

    # Both changes are in the audit log, and the filter narrows it.
    page.goto(f"/branches/{server.branch_id(BRANCH)}/audit/")
    table = page.locator("#audit-table tbody")
    expect(table.locator("tr", has_text=word)).to_have_count(2)
    page.select_option("#audit-action", "watched_word.add")
    page.click("#audit-filter button[type=submit]")
    expect(table.locator("tr", has_text=word)).to_have_count(1)
    expect(table.locator("tr", has_text=word)).to_contain_text("添加敏感词")


def test_only_moderators_open_the_moderation_pages(server, open_page):
    branch = server.branch_id(BRANCH)
    pages = ("review", "watched-words", "audit")
    for username, status in (("dangyuan", 404), ("shuji2", 404), ("shuji", 200)):
        page = open_page(server, username, "/")
        for path in pages:
            assert page.goto(f"/branches/{branch}/{path}/").status == status, (username, path)
