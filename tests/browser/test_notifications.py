"""提醒 in browsers: a mention raises the header's count live on whatever page the member
has open; opening the notifications page lists it and clears the count in the other tab."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_forum_live import tag, topic_path, wait_live

pytestmark = pytest.mark.browser


def test_a_mention_shows_in_the_bell_live_and_seeing_it_clears_every_tab(own_server, open_page):
    server = own_server  # its own inbox counts
    branch = server.branch_id("第一党支部")
    member = open_page(server, "dangyuan", f"/branches/{branch}/announcements/")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    bell = member.locator("#bell-count")
    before = int(bell.inner_text().split()[0]) if bell.is_visible() else 0  # the demo's meetings, …

    moderator = open_page(server, "banzhu", topic_path(server))
    wait_live(moderator)
    marker = tag()
    moderator.fill("#reply-body", f"@dangyuan 请看一下 {marker}")
    moderator.click("#reply-form button[type=submit]")
    expect(moderator.locator("#post-list .post", has_text=marker)).to_have_count(1)

    expect(bell).to_be_visible()  # without reloading
    expect(bell).to_have_text(f"{before + 1} 条新提醒")

    page = member.context.new_page()
    page.goto("/notifications/")
    item = page.locator("#notification-list .notification").first
    expect(item).to_contain_text("李版主 在“")
    expect(item).to_contain_text("中提到了您")
    item.get_by_role("link").click()
    expect(page.locator("#post-list .post", has_text=marker)).to_be_visible()  # the link leads to it
    expect(bell).to_be_hidden()  # the first tab heard it was seen
