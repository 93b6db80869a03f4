"""Editing a meeting from its page: the chair changes the title and the start time and
reorders, renames and extends the agenda (before the lobby opens too); a member's open
meeting page and their calendar show the change live; an end before the start is refused at its field."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from .conftest import PHONE
from .test_meetings_live import BRANCH, meeting_id, upcoming_general_meeting, wait_online

pytestmark = pytest.mark.browser


def agenda_titles(page) -> list[str]:
    return [text.strip() for text in page.locator("#agenda li").all_inner_texts()]


def test_chair_edits_meeting_and_agenda_live(own_server, open_page):
    server = own_server
    branch = server.branch_id(BRANCH)
    # Demo data: Saturday 09:00–11:00 (Asia/Shanghai), three agenda items.
    meeting, upcoming = upcoming_general_meeting(server)
    path = f"/meetings/{meeting}/"
    title = f"{upcoming}（改期）{uuid.uuid4().hex[:4]}"

    chair = open_page(server, "shuji", path)
    member_calendar = open_page(server, "dangyuan", f"/branches/{branch}/meetings/")
    wait_online(chair)
    wait_online(member_calendar)
    # Members see neither form.
    member = open_page(server, "dangyuan", path, viewport=PHONE)
    wait_online(member)
    expect(member.locator("#edit-form")).to_have_count(0)
    expect(member.locator("#agenda-form")).to_have_count(0)

    # The edit form is prefilled, in the branch's zone (the browser is in New York).
    chair.locator("#edit-details summary").click()
    expect(chair.locator("#e-title")).to_have_value(upcoming)
    start = chair.input_value("#e-start")
    assert start.endswith("T09:00"), start
    day = start[:10]
    expect(chair.locator("#e-end")).to_have_value(f"{day}T11:00")

    # An end before the start: refused at its field, nothing typed is lost, nothing changes.
    chair.fill("#e-title", title)
    chair.fill("#e-end", f"{day}T08:00")
    chair.click("#edit-form button[type=submit]")
    expect(chair.locator("#e-end")).to_have_attribute("aria-invalid", "true")
    expect(chair.locator("#e-end-error")).to_have_text("会议结束时间必须晚于开始时间。")
    expect(chair.locator("#e-title")).to_have_value(title)
    expect(member.locator("#meeting-title")).to_have_text(upcoming)

    # A new title and a start an hour later.
    chair.fill("#e-start", f"{day}T10:00")
    chair.fill("#e-end", f"{day}T12:00")
    chair.click("#edit-form button[type=submit]")
    expect(chair.locator("#edit-status")).to_have_text("已保存修改。")
    expect(chair.locator("#e-end")).not_to_have_attribute("aria-invalid", "true")
    expect(chair.locator("#e-title")).to_have_value(title)  # the form keeps the saved values
    expect(chair.locator("#e-start")).to_have_value(f"{day}T10:00")
    expect(chair.locator("#meeting-title")).to_have_text(title)

    # The member's open page (not in the room yet: told through their inbox) shows it
    # live, in the branch's zone.
    expect(member.locator("#meeting-title")).to_have_text(title)
    expect(member.locator("#meeting-starts")).to_have_text(f"{day} 10:00")
    expect(member.locator("#meeting-ends")).to_have_text("12:00")
    assert title in member.title()
    # And their calendar, refreshed by the inbox notice.
    row = member_calendar.locator("#meeting-calendar .meeting-row", has_text=title)
    expect(row).to_have_count(1)
    expect(row.locator("time").first).to_have_text(f"{day} 10:00")

    # Before the lobby opens the member is not on the meeting's stream: an agenda change
    # reaches their open page through the inbox.
    chair.locator("#agenda-edit-details summary").click()
    rows = chair.locator("#agenda-editor li")
    expect(rows).to_have_count(3)
    rows.nth(2).locator("input").fill("接收预备党员转正讨论（补充材料）")
    chair.click("#agenda-form button[type=submit]")
    expect(chair.locator("#agenda-status")).to_have_text("议程已保存。")
    expect(member.locator("#agenda li").nth(2)).to_have_text("接收预备党员转正讨论（补充材料）")

    # The chair opens the lobby; the member's page joins and follows the meeting's stream.
    chair.click("#btn-open-lobby")
    expect(chair.locator("#meeting-status")).to_have_attribute("data-status", "open")
    expect(member.locator("#room-actions")).to_be_visible()

    # The agenda: rename the first item, move it down, remove the last, add one.
    before = ["学习近期重要讲话精神", "讨论年度民主评议安排", "接收预备党员转正讨论（补充材料）"]
    assert agenda_titles(member) == before
    expect(rows).to_have_count(3)
    rows.nth(0).locator("input").fill("学习习近平总书记近期重要讲话精神")
    rows.nth(0).locator("[data-move=down]").click()
    expect(rows.nth(1).locator("input")).to_have_value("学习习近平总书记近期重要讲话精神")
    rows.nth(2).locator("[data-remove]").click()
    expect(rows).to_have_count(2)
    chair.fill("#agenda-new", "组织生活会准备")
    chair.press("#agenda-new", "Enter")  # adds the item; does not send the form
    expect(rows).to_have_count(3)
    expect(chair.locator("#agenda-status")).to_have_text("")
    # An emptied title is refused before anything is sent.
    rows.nth(2).locator("input").fill("")
    chair.click("#agenda-form button[type=submit]")
    expect(chair.locator("#agenda-items-error")).to_have_text("每个议程项都需要填写名称。")
    rows.nth(2).locator("input").fill("组织生活会准备")
    chair.click("#agenda-form button[type=submit]")
    expect(chair.locator("#agenda-status")).to_have_text("议程已保存。")

    after = ["讨论年度民主评议安排", "学习习近平总书记近期重要讲话精神", "组织生活会准备"]
    for page in (chair, member):
        expect(page.locator("#agenda li")).to_have_count(3)
        expect(page.locator("#agenda li").nth(0)).to_have_text(after[0])
        expect(page.locator("#agenda li").nth(1)).to_have_text(after[1])
        expect(page.locator("#agenda li").nth(2)).to_have_text(after[2])
    # The vote form's agenda picker follows.
    options = chair.locator("#vote-agenda-item option")
    expect(options).to_have_count(4)
    expect(options.nth(1)).to_have_text(f"1. {after[0]}")
    # The stored agenda is the one shown (the renamed item kept its id; the removed one is gone).
    stored = server.query(
        "SELECT title FROM meetings_agendaitem WHERE meeting_id = ? ORDER BY position", (meeting_id(server, title),)
    )
    assert [t for (t,) in stored] == after
    # Usable at phone width.
    assert member.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Once ended, the forms are gone.
    chair.click("#btn-start")
    expect(chair.locator("#meeting-status")).to_have_attribute("data-status", "live")
    chair.click("#btn-end")
    expect(chair.locator("#meeting-status")).to_have_attribute("data-status", "ended")
    expect(chair.locator("#edit-section")).to_be_hidden()
    expect(chair.locator("#agenda-edit-details")).to_be_hidden()
    chair.reload()
    expect(chair.locator("#edit-form")).to_have_count(0)
