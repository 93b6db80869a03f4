"""微论坛 tools in the browser: topic discussions (话题讨论) opened from the board page,
live counts and the summary; revision history for moderators; own reactions shown
pressed after a reload; @mentions highlighted.

Every test writes text of its own (a random tag) on the shared server.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import PHONE
from .test_forum_live import board_path, post_reply, tag, topic_path, wait_live

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_moderator_opens_a_discussion_members_see_live_counts_then_the_summary(server, open_page):
    board = board_path(server, "支部交流")
    # The moderator works at phone width; the browser's own zone is New York.
    moderator = open_page(server, "banzhu", board, viewport=PHONE)
    wait_live(moderator, "#topic-list")
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date()
    title = f"社区议事会议题征集 {tag()}"

    form = moderator.locator("#new-discussion")
    form.locator("summary").click()
    form.get_by_label("标题").fill(title)
    form.get_by_label("讨论的问题").fill("请大家提出下次议事会最需要讨论的一件事。")
    expect(moderator.locator("#discussion-opens")).to_be_disabled()  # "now" is the default
    moderator.fill("#discussion-closes", f"{tomorrow}T21:30")
    expect(form).to_contain_text("Asia/Shanghai")
    box = form.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
    form.get_by_role("button", name="发起讨论").click()

    moderator.wait_for_url(re.compile(r"/forum/topics/\d+/$"))
    wait_live(moderator)
    path = moderator.url.replace(server.url, "")
    # Closing time as typed, in the branch's zone, though the browser is in New York.
    expect(moderator.locator("#discussion-status")).to_have_text(f"讨论进行中，截止时间 {tomorrow} 21:30")
    expect(moderator.locator("#discussion-counts")).to_have_text("已有 1 人参与 · 1 条发言")

    member = open_page(server, "dangyuan", path)
    writer = open_page(server, "shuji", path)
    wait_live(member)
    wait_live(writer)
    member.evaluate("window.__sameDocument = true")
    expect(member.locator("#discussion-counts")).to_have_text("已有 1 人参与 · 1 条发言")
    expect(member.locator("#discussion-close")).to_have_count(0)  # moderators only

    text = f"建议讨论小区加装电梯 {tag()}"
    post_reply(writer, text)
    expect(member.locator("#discussion-counts")).to_have_text("已有 2 人参与 · 2 条发言")
    expect(moderator.locator("#discussion-counts")).to_have_text("已有 2 人参与 · 2 条发言")
    expect(member.locator("#discussion-counts")).to_have_attribute("data-posts", "2")

    # The moderator reacts to the secretary's post, then ends the discussion early.
    reply = moderator.locator("#post-list .post", has_text=text)
    reply.get_by_role("button", name=re.compile("回应")).click()
    reply.get_by_role("button", name="👏").click()
    expect(reply.locator("button.reaction.is-mine")).to_have_text("👏 1")
    moderator.get_by_role("button", name="立即结束讨论").click()

    for page in (member, moderator):
        expect(page.locator("#discussion-status")).to_have_text("讨论已结束：共 2 人参与，2 个帖子。")
        expect(page.locator("#discussion-top")).to_be_visible()
        expect(page.locator("#discussion-top-list li").first).to_have_text(re.compile(r"#\d+ 王书记 \(1\)"))
        expect(page.locator("#discussion-counts")).to_be_hidden()
    expect(member.locator("#reply-form")).to_be_hidden()
    expect(member.locator("#closed-note")).to_be_visible()
    assert member.evaluate("window.__sameDocument") is True, "the member's page reloaded"

    # A fresh load shows the same summary, rendered by the server.
    member.reload()
    expect(member.locator("#discussion-status")).to_have_text("讨论已结束：共 2 人参与，2 个帖子。")
    expect(member.locator("#discussion-top-list li").first).to_contain_text("王书记")


def test_a_scheduled_discussion_shows_its_opening_time_in_the_branchs_zone(server, open_page):
    board = board_path(server, "支部交流")
    moderator = open_page(server, "banzhu", board)
    member_board = open_page(server, "dangyuan", board)
    wait_live(moderator, "#topic-list")
    wait_live(member_board, "#topic-list")
    day = (datetime.now(SHANGHAI) + timedelta(days=2)).date()
    title = f"年度民主评议 {tag()}"

    moderator.locator("#new-discussion summary").click()
    moderator.fill("#discussion-title", title)
    moderator.fill("#discussion-prompt", "请对照检查，准备发言提纲。")
    moderator.get_by_label("定时开始").check()
    moderator.fill("#discussion-opens", f"{day}T08:00")
    # Closing before opening is refused at the field, and nothing is created.
    moderator.fill("#discussion-closes", f"{day}T07:00")
    moderator.get_by_role("button", name="发起讨论").click()
    expect(moderator.locator("#discussion-closes-error")).to_have_text("话题讨论的结束时间必须晚于开始时间。")
    assert not server.query("SELECT id FROM forum_topic WHERE title = ?", (title,))

    moderator.fill("#discussion-closes", f"{day}T20:00")
    moderator.get_by_role("button", name="发起讨论").click()
    moderator.wait_for_url(re.compile(r"/forum/topics/\d+/$"))
    expect(moderator.locator("#discussion-status")).to_have_text(f"讨论将于 {day} 08:00 开始")
    expect(moderator.locator("#tag-closed")).to_be_visible()

    # The member's board page: the new topic arrives live, closed and marked as a discussion.
    row = member_board.locator("#topic-list .topic-row", has_text=title)
    expect(row.locator(".tag-discussion")).to_have_count(1)
    expect(row.locator(".tag-closed")).to_have_count(1)


def test_moderators_see_earlier_versions_of_an_edited_post(server, open_page):
    path = topic_path(server)
    writer = open_page(server, "shuji", path)
    moderator = open_page(server, "banzhu", path)
    member = open_page(server, "dangyuan", path)
    for page in (writer, moderator, member):
        wait_live(page)
    original = f"周六集合时间：上午八点 {tag()}"
    post_reply(writer, original)
    found = writer.locator("#post-list .post", has_text=original)
    expect(found).to_have_count(1)
    # By id: while editing, the text is in a textarea (a value, not the post's text).
    mine = writer.locator(f'#post-list .post[data-id="{found.get_attribute("data-id")}"]')
    mine.get_by_role("button", name="编辑").click()
    corrected = original.replace("八点", "八点半")
    mine.locator("textarea.edit-body").fill(corrected)
    mine.get_by_role("button", name="保存").click()

    seen = moderator.locator("#post-list .post", has_text=corrected)
    expect(seen.locator(".post-edited")).to_have_text("已编辑")
    # Members see the marker, not a way into the history.
    expect(member.locator("#post-list .post", has_text=corrected).locator("span.post-edited")).to_have_count(1)
    expect(member.locator("#post-list .post", has_text=corrected).locator("button.post-edited")).to_have_count(0)

    seen.locator("button.post-edited").click()
    dialog = moderator.locator("#history-dialog")
    expect(dialog).to_be_visible()
    versions = dialog.locator(".history-version")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("第 2 版")
    expect(versions.nth(0)).to_contain_text("当前版本")
    expect(versions.nth(0).locator(".history-body")).to_have_text(corrected)
    expect(versions.nth(1)).to_contain_text("第 1 版")
    expect(versions.nth(1)).to_contain_text("王书记 于")
    expect(versions.nth(1).locator(".history-body")).to_have_text(original)
    dialog.get_by_role("button", name="关闭").click()
    expect(dialog).to_be_hidden()


def test_own_reactions_stay_pressed_after_a_reload_and_mentions_stand_out(server, open_page):
    path = topic_path(server)
    member = open_page(server, "dangyuan", path)
    writer = open_page(server, "shuji", path)
    wait_live(member)
    wait_live(writer)

    text = f"@dangyuan 请把报名表发给 @banzhu，@nobody 不用 {tag()}"
    post_reply(writer, text)
    post = member.locator("#post-list .post", has_text=text.split(" ")[-1])
    expect(post.locator(".mention")).to_have_count(2)
    expect(post.locator(".mention.is-me")).to_have_text("@dangyuan")
    expect(post.locator(".mention:not(.is-me)")).to_have_text("@banzhu")
    expect(writer.locator("#post-list .post", has_text=text.split(" ")[-1]).locator(".mention.is-me")).to_have_count(0)

    post.get_by_role("button", name=re.compile("回应")).click()
    post.get_by_role("button", name="🎉").click()
    pressed = post.locator("button.reaction[aria-pressed=true]")
    expect(pressed).to_have_text("🎉 1")
    # The writer sees the count, not pressed: it is not theirs.
    other = writer.locator("#post-list .post", has_text=text.split(" ")[-1]).locator("button.reaction")
    expect(other).to_have_text("🎉 1")
    expect(other).to_have_attribute("aria-pressed", "false")

    member.reload()
    wait_live(member)
    post = member.locator("#post-list .post", has_text=text.split(" ")[-1])
    expect(post.locator("button.reaction[aria-pressed=true]")).to_have_text("🎉 1")
    # A second tab of the same member follows the first one's toggle.
    tab = member.context.new_page()
    tab.goto(path)
    wait_live(tab)
    post.locator("button.reaction[aria-pressed=true]").click()
    expect(tab.locator("#post-list .post", has_text=text.split(" ")[-1]).locator("button.reaction")).to_have_count(0)


def _fill_topic(server, title: str, posts: int) -> str:
    """A topic of `posts` posts by the secretary, written through the actions."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from accounts.identity import identity_for_user\n"
        "from forum.actions import create_post, create_topic\n"
        "from forum.models import Board\n"
        "me = identity_for_user(get_user_model().objects.get(username='shuji'))\n"
        "board = Board.objects.get(name='支部交流')\n"
        f"topic, _ = create_topic(identity=me, board=board, title={title!r}, body='第 1 楼')\n"
        f"for n in range(2, {posts} + 1):\n"
        "    create_post(identity=me, topic_id=topic.pk, body=f'第 {n} 楼')\n"
    )
    server.manage("shell", "-c", code)
    return topic_path(server, title)


def test_a_long_topic_loads_more_posts_and_new_ones_wait_behind_the_button(server, open_page):
    title = f"长帖分页 {tag()}"
    path = _fill_topic(server, title, 201)
    reader = open_page(server, "dangyuan", path, viewport=PHONE)
    writer = open_page(server, "banzhu", path)
    wait_live(reader)
    wait_live(writer)
    posts = reader.locator("#post-list > .post")
    expect(posts).to_have_count(200)
    more = reader.locator("#posts-more")
    expect(more).to_have_text("加载更多帖子")

    # A new post while #201 is unloaded: counted on the button, not shown after a gap.
    text = f"第 202 楼，实时 {tag()}"
    post_reply(writer, text)
    expect(more).to_have_text("加载更多帖子（1 条新帖）")
    expect(reader.locator("#post-list .post", has_text=text)).to_have_count(0)

    more.click()
    expect(posts).to_have_count(202)
    expect(posts.nth(200)).to_contain_text("第 201 楼")
    expect(posts.nth(201)).to_contain_text(text)
    expect(more).to_be_hidden()
    # Everything loaded: the next post simply appears.
    later = f"第 203 楼 {tag()}"
    post_reply(writer, later)
    expect(posts.last).to_contain_text(later)


def test_a_full_board_loads_more_topics_in_its_order(server, open_page):
    board_name = f"分页版块 {tag()}"
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from accounts.identity import identity_for_user\n"
        "from accounts.models import Branch\n"
        "from forum.actions import create_topic\n"
        "from forum.models import Board\n"
        "me = identity_for_user(get_user_model().objects.get(username='shuji'))\n"
        f"board = Board.objects.create(branch=Branch.objects.get(name='第一党支部'), name={board_name!r})\n"
        "for n in range(1, 103):\n"
        "    create_topic(identity=me, board=board, title=f'分页主题 {n:03d}', body='b')\n"
    )
    server.manage("shell", "-c", code)
    member = open_page(server, "dangyuan", board_path(server, board_name))
    wait_live(member, "#topic-list")
    rows = member.locator("#topic-list > .topic-row")
    expect(rows).to_have_count(100)
    expect(rows.first).to_contain_text("分页主题 102")  # newest first
    member.get_by_role("button", name="加载更多主题").click()
    expect(rows).to_have_count(102)
    expect(rows.last).to_contain_text("分页主题 001")
    expect(member.locator("#topics-more")).to_be_hidden()


def test_the_review_queue_loads_past_its_first_100_items(own_server, open_page):
    # A server of its own: a hundred more pending items would push other tests' items
    # behind "load more" on the shared server's queue page.
    server = own_server
    marker = tag()
    code = (
        "from accounts.actions import create_citizen\n"
        "from accounts.identity import identity_for_citizen\n"
        "from forum.actions import create_post\n"
        "from forum.models import Topic\n"
        "citizen = identity_for_citizen(create_citizen(display_name='居民')[0])\n"
        "topic = Topic.objects.get(title='小区停车难的问题')\n"
        "for n in range(101):\n"
        f"    create_post(identity=citizen, topic_id=topic.pk, body=f'居民留言 {{n:03d}} {marker}')\n"
    )
    server.manage("shell", "-c", code)
    branch = server.branch_id("第一党支部")
    pending = server.query(
        "SELECT COUNT(*) FROM moderation_reviewitem WHERE branch_id = ? AND status = 'pending'", (branch,))[0][0]
    assert pending > 100
    moderator = open_page(server, "banzhu", f"/branches/{branch}/review/")
    expect(moderator.locator("#conn-status")).to_have_attribute("data-status", "online")
    items = moderator.locator("#review-list > .review-item")
    expect(items).to_have_count(100)
    # The newest of them is past the first page (oldest first).
    expect(moderator.locator("#review-list .review-item", has_text=f"居民留言 100 {marker}")).to_have_count(0)
    moderator.get_by_role("button", name="加载更多待审内容").click()
    expect(items).to_have_count(pending)
    expect(moderator.locator("#review-list .review-item", has_text=f"居民留言 100 {marker}")).to_have_count(1)
    expect(moderator.locator("#queue-more")).to_be_hidden()


def test_reply_edit_and_flag_forms_show_field_errors_and_wait_offline(own_server, open_page):
    server = own_server
    path = topic_path(server)
    writer = open_page(server, "shuji", path)
    flagger = open_page(server, "dangyuan", path)
    wait_live(writer)
    wait_live(flagger)

    # Field errors at their field: a blocked word in a reply, then in an edit.
    writer.fill("#reply-body", "周末一起去赌博吧")
    writer.click("#reply-form button[type=submit]")
    expect(writer.locator("#reply-body-error")).to_have_text("您的内容含有禁止使用的词语：赌博")
    expect(writer.locator("#reply-form-error")).to_have_text("请修改标出的内容。")
    expect(writer.locator("#reply-body")).to_have_attribute("aria-invalid", "true")
    expect(writer.locator("#reply-body")).to_have_value("周末一起去赌博吧")  # nothing typed is lost

    mine = writer.locator("#post-list .post", has_text="本月主题党日安排在").first
    post_id = mine.get_attribute("data-id")
    mine = writer.locator(f'#post-list .post[data-id="{post_id}"]')
    mine.get_by_role("button", name="编辑").click()
    mine.locator("textarea.edit-body").fill("改成赌博")
    mine.get_by_role("button", name="保存").click()
    expect(mine.locator(".edit-form .field-error")).to_have_text("您的内容含有禁止使用的词语：赌博")
    expect(mine.locator(".edit-form .alert-error")).to_have_text("请修改标出的内容。")

    # Offline: each form says its write waits, and each lands once on reconnect.
    server.stop()
    expect(writer.locator("#conn-status")).to_have_attribute("data-status", "offline")
    expect(flagger.locator("#conn-status")).to_have_attribute("data-status", "offline")
    marker = tag()
    edited = f"本月主题党日安排在 28日上午（离线时修改 {marker}）"
    mine.locator("textarea.edit-body").fill(edited)
    mine.get_by_role("button", name="保存").click()
    expect(mine.locator(".edit-form .form-status")).to_have_text("您已离线。连接恢复后将自动发送。")
    reply = f"离线时写的回复 {marker}"
    writer.fill("#reply-body", reply)
    writer.click("#reply-form button[type=submit]")
    expect(writer.locator("#reply-form-status")).to_have_text("您已离线。连接恢复后将自动发送。")

    target = flagger.locator("#post-list .post", has_text="报名参加，我可以负责登记").first
    target.get_by_role("button", name="举报").click()
    dialog = flagger.locator("#flag-dialog")
    dialog.get_by_role("radio", name="其他").check()
    dialog.get_by_role("button", name="举报").click()
    expect(flagger.locator("#flag-note-error")).to_have_text("请说明问题所在。")  # checked before sending
    flagger.fill("#flag-note", f"离线举报 {marker}")
    dialog.get_by_role("button", name="举报").click()
    expect(flagger.locator("#flag-status")).to_have_text("您已离线。连接恢复后将自动发送。")

    server.start()
    expect(writer.locator("#conn-status")).to_have_attribute("data-status", "online", timeout=30_000)
    expect(writer.locator("#reply-form-status")).to_have_text("已发布。", timeout=30_000)
    expect(writer.locator("#post-list .post", has_text=reply)).to_have_count(1)
    expect(mine.locator(".post-body")).to_have_text(edited, timeout=30_000)
    expect(dialog).to_be_hidden(timeout=30_000)
    expect(flagger.locator("#topic-notice")).to_have_text("感谢举报，版主会尽快处理。")
    expect(flagger.locator("#post-list .post", has_text=reply)).to_have_count(1)

    assert server.query("SELECT COUNT(*) FROM forum_post WHERE source = ?", (reply,)) == [(1,)]
    assert server.query("SELECT COUNT(*) FROM forum_post WHERE source = ?", (edited,)) == [(1,)]
    assert server.query("SELECT COUNT(*) FROM moderation_flag WHERE note = ?", (f"离线举报 {marker}",)) == [(1,)]
