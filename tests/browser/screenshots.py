"""Screenshots of the pages for a human to look at (not a test).

    .venv/bin/python -m tests.browser.screenshots /tmp/branchline-shots

Starts its own server on a throwaway database with the demo data, opens the pages as
the demo people at desktop and phone width, and writes PNGs into the folder given.
docs/screenshot.png is announcements-desktop.png from a run of this script.
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
    with tempfile.TemporaryDirectory(prefix="branchline-shots-") as tmp:
        db = Path(tmp) / "db.sqlite3"
        build_seeded_database(db)
        server = BranchlineServer(db, Path(tmp) / "daphne.log")
        server.start()
        try:
            branch = server.branch_id("第一党支部")
            server.post_announcement(
                username="shuji",
                branch_id=branch,
                title="关于开展“我为群众办实事”志愿服务的通知",
                body="请各位党员于本周六上午8:30在社区服务中心门口集合，参加环境整治志愿服务。\n请提前在支部微论坛报名。",
            )
            path = f"/branches/{branch}/announcements/"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

                def page_for(username, viewport, locale="zh-CN"):
                    context = browser.new_context(
                        base_url=server.url, viewport=viewport, locale=locale, timezone_id="Asia/Shanghai"
                    )
                    page = context.new_page()
                    if username:
                        log_in(page, username, path)
                    return page

                member = page_for("dangyuan", DESKTOP)
                member.goto(path)
                secretary = page_for("shuji", DESKTOP)
                secretary.goto(path)
                for page in (member, secretary):
                    expect(page.locator("#announcement-list")).to_have_attribute("data-synced", "true")
                expect(secretary.locator("#presence-names")).to_contain_text("张党员", timeout=10_000)
                expect(member.locator("#presence-names")).to_contain_text("王书记", timeout=10_000)
                secretary.screenshot(path=out / "announcements-desktop.png", full_page=True)
                member.screenshot(path=out / "announcements-member-desktop.png", full_page=True)

                phone = page_for("dangyuan", PHONE)
                phone.goto(path)
                expect(phone.locator("#announcement-list")).to_have_attribute("data-synced", "true")
                phone.screenshot(path=out / "announcements-phone.png", full_page=True)
                phone.context.grant_permissions(["notifications"], origin=server.url)
                phone.goto("/notifications/")
                expect(phone.locator("#desktop-switch")).to_have_attribute("data-state", "on")
                phone.screenshot(path=out / "notifications-phone.png", full_page=True)
                phone.goto(path)
                expect(phone.locator("#announcement-list")).to_have_attribute("data-synced", "true")

                english = page_for("shuji", PHONE)
                english.goto(path)
                english.get_by_role("button", name="English").click()
                expect(english.locator("html")).to_have_attribute("lang", "en")
                english.fill("#compose-title", " ")
                english.click("#compose button[type=submit]")
                expect(english.locator("#compose-title-error")).to_be_visible()
                english.screenshot(path=out / "announcements-phone-en-error.png", full_page=True)

                visitor = page_for(None, PHONE)
                visitor.goto("/")
                visitor.screenshot(path=out / "home-phone.png", full_page=True)
                visitor.goto("/login/")
                visitor.fill("#id_username", "dangyuan")
                visitor.fill("#id_password", "wrong")
                visitor.click("#login-form button[type=submit]")
                visitor.screenshot(path=out / "login-phone-error.png", full_page=True)

                server.stop()
                expect(phone.locator("#conn-status")).to_have_attribute("data-status", "offline")
                phone.screenshot(path=out / "announcements-phone-offline.png")
                browser.close()
        finally:
            server.stop()
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/branchline-shots"))
