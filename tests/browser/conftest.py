"""Browser tests: Playwright for Python driving Debian's Chromium against a real daphne.

Never downloads a browser. Without /usr/bin/chromium the tests skip locally and fail
on CI (CI=true), where a missing browser means the suite did not run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .server import BranchlineServer, build_seeded_database, copy_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
DEMO_PASSWORD = "branchline-demo"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="package")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        reason = (
            f"Debian's Chromium is not installed at {CHROMIUM} "
            "(apt-get install -y chromium fonts-noto-cjk); the browser tests never download a browser"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def browser_workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="package")
def seeded_database(browser_workdir: Path) -> Path:
    """Migrated and seeded once; every server starts from its own copy."""
    path = browser_workdir / "seeded.sqlite3"
    build_seeded_database(path)
    return path


def _server_from(workdir: Path, template: Path, name: str, env: dict[str, str] | None = None) -> BranchlineServer:
    folder = workdir / name
    folder.mkdir()
    db_path = folder / "db.sqlite3"
    copy_database(template, db_path)
    return BranchlineServer(db_path, folder / "daphne.log", env=env)


@pytest.fixture(scope="package")
def server(browser_workdir: Path, seeded_database: Path) -> Iterator[BranchlineServer]:
    """One server shared by the tests that do not stop it."""
    instance = _server_from(browser_workdir, seeded_database, "shared")
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def own_server(browser_workdir: Path, seeded_database: Path) -> Iterator[BranchlineServer]:
    """A server (and database) of the test's own, for tests that stop and restart it."""
    instance = _server_from(browser_workdir, seeded_database, f"own-{uuid.uuid4().hex[:8]}")
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def server_with(browser_workdir: Path, seeded_database: Path) -> Iterator[Callable[..., BranchlineServer]]:
    """server_with(WS_…="…"): a server of the test's own with settings of its own."""
    started: list[BranchlineServer] = []

    def start(**env: str) -> BranchlineServer:
        instance = _server_from(browser_workdir, seeded_database, f"own-{uuid.uuid4().hex[:8]}", env)
        started.append(instance)
        instance.start()
        return instance

    yield start
    for instance in started:
        instance.stop()


def log_in(page, username: str, next_path: str = "/") -> None:
    page.goto(f"/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url, timeout=10_000)



def log_out(page) -> None:
    """退出登录, waiting until the server has answered (the header offers 登录 again):
    a page.goto straight after the click cancels the navigation in the browser but not
    the request, whose reply (the session cookie deleted) can then land after a new login."""
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("header").get_by_role("link", name="登录")).to_be_visible()

# A tab behind another: the document says it is hidden, as Chromium's does for a tab in
# the background, until `to_front(page)`. On such a page nothing counts as seen (an
# announcement in view is not read), so a test can watch unread counts without racing
# the reading of what happens to be on screen.
IN_BACKGROUND = """
(() => {
  let state = "hidden";
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => state === "hidden" });
  window.__toFront = () => {
    state = "visible";
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


def to_front(page) -> None:
    page.evaluate("window.__toFront()")


def _note_refusal(message, who: str | None, refused: list[str]) -> None:
    # Chromium tells the console of everything a page's policy refused
    # (server/middleware.py): a page of ours that needs more than its policy allows.
    # It also warns of a Permissions-Policy naming a feature it does not know.
    if (message.type == "error" and "Content Security Policy" in message.text) or (
            "Permissions-Policy header" in message.text):
        refused.append(f"{who}: {message.text}")


@pytest.fixture
def open_page(browser) -> Iterator[Callable]:
    """open_page(server, username, path, ...) -> a Page in its own browser context.

    Each page gets its own context (cookies), so two pages are two people. The browser's
    own time zone is New York on purpose: times must show in the branch's zone anyway.
    Uncaught JavaScript errors on any page fail the test, and so does anything the
    pages' Content-Security-Policy refuses. `background=True`: its tabs are
    in the background (IN_BACKGROUND). `color_scheme`: the device's setting, "light"
    or "dark".
    """
    contexts = []
    servers: set = set()
    errors: list[str] = []
    refused: list[str] = []

    def open_(
        server: BranchlineServer,
        username: str | None = None,
        path: str = "/",
        *,
        locale: str = "zh-CN",
        timezone_id: str = "America/New_York",
        viewport: dict = DESKTOP,
        background: bool = False,
        color_scheme: str = "light",
    ):
        servers.add(server)
        context = browser.new_context(base_url=server.url, locale=locale, timezone_id=timezone_id, viewport=viewport,
                                      color_scheme=color_scheme)
        context.set_default_timeout(10_000)
        if background:  # every page of this context, from its first script on
            context.add_init_script(IN_BACKGROUND)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc, who=username: errors.append(f"{who}: {exc}"))
        context.on("console", lambda message, who=username: _note_refusal(message, who, refused))
        if username:
            log_in(page, username, path)
        if page.url != server.url + path:
            page.goto(path)
        return page

    open_.policy_refusals = refused  # a test that provokes refusals on purpose clears them
    yield open_
    for context in contexts:
        context.close()
    # A language chosen while logged in is kept on the account (accounts/language.py):
    # the next test's people start without one, as its browsers start without cookies.
    for server in servers:
        server.query("UPDATE accounts_mailsettings SET language = ''")
    assert not errors, f"uncaught JavaScript errors: {errors}"
    assert not refused, f"the pages' Content-Security-Policy refused: {refused}"
