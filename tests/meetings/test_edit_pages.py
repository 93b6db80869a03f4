"""The meeting page's edit form and agenda editor: for hosts (the agenda also for the
minute-taker), prefilled in the branch's time zone, and gone once the meeting is over."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from meetings import actions

from .conftest import ident
from .test_pages import config, page

pytestmark = pytest.mark.django_db


def room(client, user, meeting) -> str:
    response = page(client, user, reverse("meetings:meeting", args=[meeting.pk]))
    assert response.status_code == 200
    return response.content.decode()


def value_of(html: str, element_id: str) -> str:
    match = re.search(rf'<input [^>]*id="{element_id}"[^>]*>', html)
    assert match, f"no input #{element_id}"
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


def selected(html: str, element_id: str) -> str:
    select = re.search(rf'<select id="{element_id}".*?</select>', html, re.S)
    assert select, f"no select #{element_id}"
    chosen = re.findall(r'<option value="([^"]*)" selected>', select.group(0))
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_hosts_get_the_edit_form_prefilled_in_the_branch_zone(client, schedule, people):
    meeting = schedule("general", place="党员活动室", description="请带党章")
    html = room(client, people["secretary"], meeting)
    assert 'id="edit-form"' in html and "修改会议信息" in html
    assert 'id="agenda-form"' in html and "编辑议程" in html
    assert value_of(html, "e-title") == "支部党员大会"
    # T0 is 01:00 UTC: typed and shown as 09:00 in Asia/Shanghai, not in UTC.
    assert value_of(html, "e-start") == "2026-11-28T09:00"
    assert value_of(html, "e-end") == "2026-11-28T11:00"
    assert value_of(html, "e-place") == "党员活动室"
    assert value_of(html, "e-grace") == "5"
    assert ">请带党章</textarea>" in html
    assert selected(html, "e-chair") == str(people["secretary"].pk)
    assert selected(html, "e-minute-taker") == str(people["member"].pk)
    assert selected(html, "e-lobby") == meeting.lobby_policy
    # The agenda editor starts with the current items, in order, with their ids.
    items = re.findall(r'<li data-id="(\d+)"><input type="text" maxlength="200" value="([^"]*)">', html)
    assert [title for _id, title in items] == ["学习", "表决"]
    assert [int(i) for i, _t in items] == list(meeting.agenda.order_by("position").values_list("pk", flat=True))
    cfg = config(html_response(client, people["secretary"], meeting), "meeting-config")
    assert cfg["can_edit"] is True and cfg["can_edit_agenda"] is True


def html_response(client, user, meeting):
    return page(client, user, reverse("meetings:meeting", args=[meeting.pk]))


def test_members_get_neither_form(client, schedule, people):
    meeting = schedule("general")
    for who in ("probationary", "moderator"):
        html = room(client, people[who], meeting)
        assert 'id="edit-form"' not in html, who
        assert 'id="agenda-form"' not in html, who
        assert "修改会议信息" not in html and "编辑议程" not in html
        cfg = config(html_response(client, people[who], meeting), "meeting-config")
        assert cfg["can_edit"] is False and cfg["can_edit_agenda"] is False


def test_the_minute_taker_gets_the_agenda_editor_only(client, schedule, people):
    meeting = schedule("general", minute_taker_id=people["member"].pk)
    html = room(client, people["member"], meeting)
    assert 'id="agenda-form"' in html
    assert 'id="edit-form"' not in html


def test_a_chair_from_above_is_kept_in_the_chair_picker(client, schedule, people):
    chair = people["committee_secretary"]  # a secretary of the branch above, not a member of A
    meeting = schedule("general", chair=chair)
    html = room(client, people["secretary"], meeting)
    assert selected(html, "e-chair") == str(chair.pk)


def test_still_editable_while_live_and_hidden_once_ended(client, schedule, people):
    meeting = schedule("general")
    actions.start_meeting(identity=ident(people["secretary"]), meeting_id=meeting.pk)
    html = room(client, people["secretary"], meeting)
    assert 'id="edit-form"' in html and 'id="agenda-form"' in html
    actions.end_meeting(identity=ident(people["secretary"]), meeting_id=meeting.pk)
    for who in ("secretary", "member"):
        html = room(client, people[who], meeting)
        assert 'id="edit-form"' not in html and 'id="agenda-form"' not in html, who


def test_hidden_once_cancelled(client, schedule, people):
    meeting = schedule("general")
    actions.cancel_meeting(identity=ident(people["secretary"]), meeting_id=meeting.pk, reason="改期")
    html = room(client, people["secretary"], meeting)
    assert 'id="edit-form"' not in html and 'id="agenda-form"' not in html


def test_edit_form_in_english(client, schedule, people, settings):
    meeting = schedule("general")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        html = room(client, people["secretary"], meeting)
    finally:
        # The request leaves English active in this thread; later tests expect the default.
        translation.activate(settings.LANGUAGE_CODE)
    assert "Edit the meeting" in html and "Save the agenda" in html and "修改会议信息" not in html
