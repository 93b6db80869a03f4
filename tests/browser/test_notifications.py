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


# Records each desktop notification the page creates, then lets Chromium's own
# Notification make it; and lets a test say the tab went to the background (headless
# Chromium keeps every page "visible").
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.shownNotifications = [];
  window.Notification = class extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.shownNotifications.push({ title, body: options.body, tag: options.tag });
      window.lastNotification = this;
    }
  };
  let state = "visible";
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  window.setVisibility = (value) => {
    state = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


def test_a_mention_pops_up_on_the_desktop_while_the_tab_is_in_the_background(own_server, open_page):
    server = own_server
    branch = server.branch_id("第一党支部")
    member = open_page(server, "dangyuan", "/notifications/")
    member.context.grant_permissions(["notifications"], origin=server.url)
    member.context.add_init_script(RECORD_NOTIFICATIONS)
    member.reload()
    switch = member.locator("#desktop-switch")
    expect(switch).to_have_attribute("data-state", "on")  # allowed in the browser: on until switched off
    expect(switch).to_contain_text("此浏览器的桌面提醒已开启")
    member.click("#desktop-toggle")
    expect(switch).to_have_attribute("data-state", "off")
    expect(member.locator("#desktop-toggle")).to_have_text("开启桌面提醒")
    member.reload()
    expect(switch).to_have_attribute("data-state", "off")  # remembered by this browser

    member.goto(f"/branches/{branch}/announcements/")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    member.evaluate("setVisibility('hidden')")
    moderator = open_page(server, "banzhu", topic_path(server))
    wait_live(moderator)

    def mention(marker: str) -> None:
        moderator.fill("#reply-body", f"@dangyuan 请看一下 {marker}")
        moderator.click("#reply-form button[type=submit]")
        expect(moderator.locator("#post-list .post", has_text=marker)).to_have_count(1)

    bell = member.locator("#bell-count")
    mention(tag())
    expect(bell).to_be_visible()
    assert member.evaluate("shownNotifications.length") == 0  # switched off here

    member.goto("/notifications/")  # which also marks them seen
    member.click("#desktop-toggle")
    expect(switch).to_have_attribute("data-state", "on")
    member.goto(f"/branches/{branch}/announcements/")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    expect(bell).to_be_hidden()
    mention(tag())  # while the member looks at the page: the header counts it, nothing pops up
    expect(bell).to_have_text("1 条新提醒")
    member.evaluate("setVisibility('hidden')")
    marker = tag()
    mention(marker)
    member.wait_for_function("() => shownNotifications.length === 1")
    expect(bell).to_have_text("2 条新提醒")
    assert member.evaluate("shownNotifications.length") == 1  # only the one that came in the background
    shown = member.evaluate("shownNotifications[0]")
    assert shown["title"] == "Branchline 提醒"
    assert shown["body"].startswith("李版主 在“") and shown["body"].endswith("中提到了您")
    assert shown["tag"].startswith("branchline-notification-")

    member.evaluate("setVisibility('visible'); lastNotification.onclick()")  # a click on it
    member.wait_for_url("**/forum/topics/**")
    expect(member.locator("#post-list .post", has_text=marker)).to_be_visible()


def test_the_switch_asks_the_browser_first(server, open_page):
    page = open_page(server, "dangyuan", "/notifications/")
    switch = page.locator("#desktop-switch")
    expect(switch).to_have_attribute("data-state", "ask")
    expect(switch).to_contain_text("新提醒和通知公告可以在桌面上弹出")
    page.click("#desktop-toggle")  # the browser asks the member ...
    expect(page.locator("#desktop-toggle")).to_be_disabled()
    page.context.grant_permissions(["notifications"], origin=server.url)  # ... who allows it
    expect(switch).to_have_attribute("data-state", "on")
    expect(page.locator("#desktop-toggle")).to_have_text("关闭桌面提醒")


def test_a_new_announcement_pops_up_on_the_desktop_from_any_page(own_server, open_page):
    server = own_server
    branch = server.branch_id("第一党支部")
    member = open_page(server, "dangyuan", topic_path(server))  # a page that does not list announcements
    member.context.grant_permissions(["notifications"], origin=server.url)
    member.context.add_init_script(RECORD_NOTIFICATIONS)
    member.reload()
    wait_live(member)
    tab = member.locator("#nav-unread-count")
    unread = int(tab.inner_text().split()[0])
    server.post_announcement(username="shuji", branch_id=branch, title="看得见的通知", body="正文")
    expect(tab).to_contain_text(f"{unread + 1} ")  # it arrived ...
    assert member.evaluate("shownNotifications.length") == 0  # ... while the member looked at the page

    member.evaluate("setVisibility('hidden')")
    server.post_announcement(username="shuji", branch_id=branch, title="关于周六志愿服务的通知", body="正文")
    member.wait_for_function("() => shownNotifications.length === 1")
    shown = member.evaluate("shownNotifications[0]")
    assert shown["title"] == "第一党支部 · 通知公告"
    assert shown["body"] == "王书记：关于周六志愿服务的通知"
    member.evaluate("setVisibility('visible'); lastNotification.onclick()")
    member.wait_for_url("**/announcements/*/")
    expect(member.locator("h1")).to_contain_text("关于周六志愿服务的通知")

    # Never for the announcements one posts oneself.
    secretary = open_page(server, "shuji", f"/branches/{branch}/announcements/")
    secretary.context.grant_permissions(["notifications"], origin=server.url)
    secretary.context.add_init_script(RECORD_NOTIFICATIONS)
    secretary.reload()
    expect(secretary.locator("#announcement-list")).to_have_attribute("data-synced", "true")
    secretary.evaluate("setVisibility('hidden')")
    expect(member.locator("#conn-status")).to_have_attribute("data-status", "online")
    member.evaluate("setVisibility('hidden')")
    server.post_announcement(username="shuji", branch_id=branch, title="自己发的通知", body="正文")
    member.wait_for_function("() => shownNotifications.length === 1")  # the member's new page
    assert member.evaluate("shownNotifications[0].body") == "王书记：自己发的通知"
    assert secretary.evaluate("shownNotifications.length") == 0
