"""Screenshots of the forum and moderators' pages for a human to look at (not a test).

    .venv/bin/python -m tests.browser.forum_screenshots /tmp/branchline-forum-shots

Starts its own server on a throwaway database with the demo data, opens the pages as
the demo people at desktop and phone width, and writes PNGs into the folder given.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from .conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, log_in
from .server import BranchlineServer, build_seeded_database


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="branchline-forum-shots-") as tmp:
        db = Path(tmp) / "db.sqlite3"
        build_seeded_database(db)
        server = BranchlineServer(db, Path(tmp) / "daphne.log")
        server.start()
        try:
            branch = server.branch_id("第一党支部")
            topic = server.query("SELECT id FROM forum_topic WHERE title = '本月主题党日活动安排'")[0][0]
            board = server.query("SELECT id FROM forum_board WHERE name = '支部交流'")[0][0]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

                def page_for(username, viewport, path):
                    context = browser.new_context(
                        base_url=server.url, viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai"
                    )
                    page = context.new_page()
                    if username:
                        log_in(page, username, path)
                    page.goto(path)
                    return page

                def shot(page, name, ready="#conn-status"):
                    if ready:
                        expect(page.locator(ready).first).to_be_visible()
                    page.wait_for_timeout(600)  # snapshot rendered, presence settled
                    page.screenshot(path=out / f"{name}.png", full_page=True)

                topic_path = f"/forum/topics/{topic}/"
                moderator = page_for("banzhu", DESKTOP, topic_path)
                member = page_for("dangyuan", DESKTOP, topic_path)
                expect(member.locator("#post-list")).to_have_attribute("data-synced", "true")
                moderator.fill("#reply-body", "> 报名！建议提前准备手套和垃圾袋。\n\n好主意，手套我来准备。@dangyuan")
                moderator.click("#reply-form button[type=submit]")
                expect(member.locator("#post-list .post", has_text="手套我来准备")).to_have_count(1)
                moderator.click("#mod-tools summary")
                moderator.click("#mod-pin")
                expect(member.locator(".small-action")).to_have_count(1)
                member.locator("#reply-body").press_sequentially("我也来")
                shot(moderator, "topic-moderator-desktop")
                shot(member, "topic-member-desktop")

                shot(page_for("yubei", PHONE, topic_path), "topic-probationary-phone")
                shot(page_for("dangyuan", DESKTOP, f"/branches/{branch}/forum/"), "boards-desktop")
                shot(page_for("dangyuan", PHONE, f"/branches/{branch}/forum/"), "boards-phone")
                shot(page_for("dangyuan", DESKTOP, f"/forum/boards/{board}/"), "board-desktop")
                shot(page_for("yubei", PHONE, f"/forum/boards/{board}/"), "board-phone")
                shot(page_for("dangyuan", PHONE, "/forum/search/?q=报名"), "search-phone")
                shot(page_for(None, PHONE, "/forum/topics/2/"), "public-topic-visitor-phone", ready="#post-list")

                review = page_for("banzhu", DESKTOP, f"/branches/{branch}/review/")
                shot(review, "review-desktop")
                review.locator(".review-item").first.get_by_role("button", name="驳回", exact=True).click()
                shot(review, "review-reject-form-desktop")
                shot(page_for("shuji", PHONE, f"/branches/{branch}/review/"), "review-phone")
                words = page_for("banzhu", DESKTOP, f"/branches/{branch}/watched-words/")
                words.fill("#word-pattern", "**")
                words.click("#word-form button[type=submit]")
                expect(words.locator("#word-pattern-error")).to_be_visible()
                shot(words, "watched-words-error-desktop")
                shot(page_for("banzhu", PHONE, f"/branches/{branch}/audit/"), "audit-phone")

                # Topic discussions: the moderator's form on the board (phone), an open
                # discussion with live counts, the history of an edited post.
                board_mod = page_for("banzhu", PHONE, f"/forum/boards/{board}/")
                board_mod.locator("#new-discussion summary").click()
                shot(board_mod, "board-discussion-form-phone")
                discussion = server.query("SELECT topic_id FROM forum_discussion LIMIT 1")[0][0]
                shot(page_for("dangyuan", PHONE, f"/forum/topics/{discussion}/"), "discussion-open-phone")
                editor = page_for("banzhu", PHONE, topic_path)
                mine = editor.locator("#post-list .post", has_text="手套我来准备").first
                mine.get_by_role("button", name="编辑").click()
                editor.locator("textarea.edit-body").fill("好主意，手套和垃圾袋我来准备。@dangyuan")
                editor.get_by_role("button", name="保存").click()
                edited = editor.locator("#post-list .post", has_text="手套和垃圾袋我来准备").first
                edited.locator("button.post-edited").click()
                expect(editor.locator("#history-dialog .history-version")).to_have_count(2)
                shot(editor, "history-dialog-phone")

                english = page_for("dangyuan", PHONE, topic_path)
                english.get_by_role("button", name="English").click()
                expect(english.locator("html")).to_have_attribute("lang", "en")
                shot(english, "topic-phone-en")
                browser.close()
        finally:
            server.stop()
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/branchline-forum-shots"))
