"""The connection indicator through a server restart, and nothing missed across it."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def wait_synced(page, timeout: float = 10_000) -> None:
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "online", timeout=timeout)
    expect(page.locator("#announcement-list")).to_have_attribute("data-synced", "true")


def test_offline_then_online_with_what_was_posted_meanwhile(own_server, open_page):
    branch = own_server.branch_id("第一党支部")
    path = f"/branches/{branch}/announcements/"
    member = open_page(own_server, "dangyuan", path, background=True)  # what arrives stays unread
    secretary = open_page(own_server, "shuji", path)
    wait_synced(member)
    wait_synced(secretary)
    member.evaluate("window.__sameDocument = true")
    before = int(member.get_attribute("#unread-badge", "data-count"))
    status = member.locator("#conn-status")
    expect(status).to_contain_text("在线")

    own_server.stop()
    expect(status).to_have_attribute("data-status", "offline")
    expect(status).to_contain_text(re.compile(r"离线"))
    expect(secretary.locator("#conn-status")).to_have_attribute("data-status", "offline")

    # Posted by another process while no server runs: only the log knows about it.
    from_shell = f"停电期间发布的通知 {uuid.uuid4().hex[:6]}"
    own_server.post_announcement(username="shuji", branch_id=branch, title=from_shell, body="由命令行发布。")

    # The secretary publishes while offline: the write waits and goes out on reconnect.
    queued = f"离线时撰写的通知 {uuid.uuid4().hex[:6]}"
    secretary.fill("#compose-title", queued)
    secretary.fill("#compose-body", "连接恢复后自动发布。")
    secretary.click("#compose button[type=submit]")
    expect(secretary.locator("#compose-status")).to_contain_text("连接恢复后将自动发布")

    own_server.start()  # same port, same database
    expect(status).to_have_attribute("data-status", "online", timeout=30_000)
    expect(status).to_contain_text("在线")

    titles = member.locator("#announcement-list .announcement-title")
    expect(titles.filter(has_text=from_shell)).to_have_count(1, timeout=10_000)
    expect(titles.filter(has_text=queued)).to_have_count(1, timeout=10_000)
    expect(titles.first).to_contain_text(queued)  # newest first
    expect(member.locator("#unread-badge")).to_have_attribute("data-count", str(before + 2))
    assert member.evaluate("window.__sameDocument") is True, "the member's page reloaded"

    expect(secretary.locator("#compose-status")).to_have_text("已发布。", timeout=30_000)
    count = own_server.query("SELECT COUNT(*) FROM announcements_announcement WHERE title = ?", (queued,))
    assert count == [(1,)], "the queued write must be stored exactly once"
