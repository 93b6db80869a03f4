"""记录签字 in Chromium: at the demo's past general meeting, the minute-taker (李版主) and
the chair (王书记) sign the minutes on their page; then the record is final, and the
meeting's page, open meanwhile, no longer offers remarks, until the chair reopens it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_chair_and_the_minute_taker_sign_the_minutes(own_server, open_page):
    server = own_server
    ((meeting,),) = server.query("SELECT id FROM meetings_meeting WHERE status = 'ended' ORDER BY id LIMIT 1")
    taker = open_page(server, "banzhu", f"/meetings/{meeting}/minutes/")
    signatures = taker.locator("#minutes-signatures")
    expect(signatures.locator("li[data-role='minute_taker']")).to_contain_text("尚未签字")
    taker.get_by_role("button", name="签字确认").click()
    expect(taker.locator(".flash, .messages").first).to_contain_text("您已在会议记录上签字")
    expect(signatures.locator("li[data-role='minute_taker']")).to_contain_text("签字")
    expect(signatures).to_have_attribute("data-final", "false")

    chair = open_page(server, "shuji", f"/meetings/{meeting}/")
    expect(chair.locator("#conn-status")).to_have_attribute("data-status", "online")
    expect(chair.locator("#remark-form")).to_be_visible()
    minutes = open_page(server, "shuji", f"/meetings/{meeting}/minutes/")
    minutes.get_by_role("button", name="签字确认").click()
    expect(minutes.locator("#minutes-signatures")).to_have_attribute("data-final", "true")
    expect(minutes.locator("#minutes-signatures li[data-role='chair']")).to_contain_text("已于")
    # The chair's meeting page, open all along, hears it: no more remarks.
    expect(chair.locator("#remark-form")).to_be_hidden()
    expect(chair.locator("#minutes-final")).to_be_visible()

    # Reopened, saying why: both come back.
    minutes.locator("#reopen-minutes summary").click()
    minutes.get_by_label("原因").fill("漏记一项决议")
    minutes.get_by_role("button", name="撤回签字").click()
    expect(minutes.locator("#minutes-signatures")).to_have_attribute("data-final", "false")
    expect(chair.locator("#remark-form")).to_be_visible()
