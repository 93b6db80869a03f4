"""The meetings pages over Django's test client: who may see them, Chinese by default, branch time zone."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from meetings import actions
from meetings.models import Meeting

from .conftest import T0, arrive, ident

pytestmark = pytest.mark.django_db


def page(client, user, url, **extra):
    client.force_login(user)
    return client.get(url, **extra)


def config(response, name: str) -> dict:
    match = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert match, f"no {name} in the page"
    return json.loads(match.group(1))


@pytest.fixture
def held(schedule, people, tree, crowd):
    """A general meeting held and ended, with one approved leave, a late arrival and a passed motion."""
    meeting = schedule("general", agenda=["学习", "表决"])
    leave = actions.request_leave(identity=ident(people["probationary"]), meeting_id=meeting.pk, reason="出差在外")
    actions.decide_leave(identity=ident(people["secretary"]), leave_id=leave.pk, approve=True)
    actions.start_meeting(identity=ident(people["secretary"]), meeting_id=meeting.pk)
    for who in ("secretary", "member", "moderator"):
        arrive(meeting, people[who])
    vote = actions.create_vote(
        identity=ident(people["secretary"]),
        meeting_id=meeting.pk,
        kind="motion",
        title="同意接收张三为预备党员",
        secret=True,
    )
    actions.open_vote(identity=ident(people["secretary"]), vote_id=vote.pk)
    for who in ("secretary", "member", "moderator"):
        actions.cast_vote(identity=ident(people[who]), vote_id=vote.pk, choice="yes")
    actions.close_vote(identity=ident(people["secretary"]), vote_id=vote.pk)
    actions.end_meeting(identity=ident(people["secretary"]), meeting_id=meeting.pk)
    meeting.refresh_from_db()
    return meeting


# -- calendar ----------------------------------------------------------------------------------


def test_calendar_lists_meetings_in_chinese_with_branch_times(client, schedule, people, tree):
    meeting = schedule("general")  # T0 = 01:00 UTC = 09:00 in Asia/Shanghai
    response = page(client, people["member"], reverse("meetings:calendar", args=[tree["a"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "支部会议" in html and "即将召开" in html and "党员大会" in html
    assert meeting.title in html
    assert f"{T0.astimezone(tree['a'].zone):%Y-%m-%d} 09:00" in html
    assert ">2026-11-28 01:00<" not in html and ">01:00<" not in html
    # Members see the calendar; only secretaries get the schedule form.
    assert 'id="schedule-form"' not in html


def test_calendar_schedule_form_for_secretaries(client, people, tree):
    html = page(client, people["secretary"], reverse("meetings:calendar", args=[tree["a"].pk])).content.decode()
    assert 'id="schedule-form"' in html
    assert "安排会议" in html
    # Chair and minute-taker pickers list the branch's party members (not another branch's).
    assert people["member"].first_name in html
    assert people["other_secretary"].first_name not in html


def test_calendar_fragment_is_the_list_only(client, schedule, people, tree):
    schedule("general")
    response = page(client, people["member"], reverse("meetings:calendar", args=[tree["a"].pk]) + "?fragment=list")
    html = response.content.decode()
    assert "支部党员大会" in html and "<html" not in html


def test_calendar_in_english_via_the_language_cookie(client, schedule, people, tree, settings):
    schedule("general")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page(client, people["member"], reverse("meetings:calendar", args=[tree["a"].pk])).content.decode()
    assert "Upcoming" in html and "即将召开" not in html


def test_calendar_hidden_from_outsiders(client, schedule, people, tree, make_user):
    schedule("general")
    outsider = make_user("stranger")
    assert page(client, outsider, reverse("meetings:calendar", args=[tree["a"].pk])).status_code == 404
    other = people["other_secretary"]
    assert page(client, other, reverse("meetings:calendar", args=[tree["a"].pk])).status_code == 404
    client.logout()
    response = client.get(reverse("meetings:calendar", args=[tree["a"].pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_branch_navigation_links_to_meetings(client, people, tree):
    html = page(client, people["member"], reverse("announcements", args=[tree["a"].pk])).content.decode()
    assert reverse("meetings:calendar", args=[tree["a"].pk]) in html
    assert "支部会议" in html


# -- the meeting page --------------------------------------------------------------------------


def test_meeting_page_for_a_member(client, schedule, people, tree):
    meeting = schedule("general")
    response = page(client, people["member"], reverse("meetings:meeting", args=[meeting.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "会议尚未开始" in html and "有表决权党员到会" in html and "议程" in html
    assert ">2026-11-28 09:00<" in html and ">2026-11-28 01:00<" not in html
    # An expected member may ask for leave before the start; no chair console for them.
    assert 'id="leave-form"' in html
    assert 'id="console"' not in html
    cfg = config(response, "meeting-config")
    assert cfg["stream"] == f"meeting:{meeting.pk}"
    assert cfg["time_zone"] == "Asia/Shanghai"
    assert cfg["you"]["host"] is False and cfg["you"]["voting"] is True
    assert cfg["quorum"]["voting_expected"] == 3  # secretary, member, moderator (full); probationary never


def test_meeting_page_console_for_the_chair(client, schedule, people):
    meeting = schedule("general")
    response = page(client, people["secretary"], reverse("meetings:meeting", args=[meeting.pk]))
    html = response.content.decode()
    assert 'id="console"' in html and "主持人控制台" in html and "开始会议" in html
    assert 'id="exclusion-form"' in html  # the secretary manages exclusions
    assert config(response, "meeting-config")["members"]  # candidates for elections


def test_leave_requests_listed_for_the_secretary_only(client, schedule, people):
    meeting = schedule("general")
    actions.request_leave(identity=ident(people["member"]), meeting_id=meeting.pk, reason="住院治疗")
    secretary = page(client, people["secretary"], reverse("meetings:meeting", args=[meeting.pk])).content.decode()
    assert "住院治疗" in secretary and "data-leave-decide" in secretary
    moderator = page(client, people["moderator"], reverse("meetings:meeting", args=[meeting.pk])).content.decode()
    assert "住院治疗" not in moderator
    mine = page(client, people["member"], reverse("meetings:meeting", args=[meeting.pk]) + "?fragment=leave")
    assert "住院治疗" in mine.content.decode() and "撤回请假申请" in mine.content.decode()


def test_meeting_hidden_from_outsiders(client, schedule, people, make_user):
    meeting = schedule("general")
    outsider = make_user("stranger")
    for user in (outsider, people["other_secretary"]):
        for name in ("meeting", "attendance", "minutes"):
            response = page(client, user, reverse(f"meetings:{name}", args=[meeting.pk]))
            assert response.status_code == 404, (user, name)
            assert meeting.title not in response.content.decode()
        fragment = page(client, user, reverse("meetings:meeting", args=[meeting.pk]) + "?fragment=leave")
        assert fragment.status_code == 404
    assert page(client, outsider, reverse("meetings:meeting", args=[999999])).status_code == 404


def test_transcript_export_refused_to_outsiders(client, held, make_user):
    outsider = make_user("stranger")
    response = page(client, outsider, f"/api/meetings/{held.pk}/transcript")
    assert response.status_code == 404
    assert "同意接收" not in response.content.decode()


# -- attendance and minutes ----------------------------------------------------------------------


def test_attendance_report_for_hosts_before_the_end_and_members_after(client, schedule, people, held):
    running = schedule("general", starts_at=T0 + timedelta(days=1))
    url = reverse("meetings:attendance", args=[running.pk])
    assert page(client, people["member"], url).status_code == 200  # the minute-taker
    assert page(client, people["moderator"], url).status_code == 403
    assert page(client, people["secretary"], url).status_code == 200

    response = page(client, people["moderator"], reverse("meetings:attendance", args=[held.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "考勤报告" in html and "下载 CSV" in html
    assert f"/api/meetings/{held.pk}/attendance.csv" in html
    assert people["probationary"].first_name in html and "请假" in html and "出差在外" in html
    held_local = held.started_at.astimezone(held.branch.zone)
    assert f"{held_local:%H:%M}" in html


def test_minutes_page_lists_attendance_and_resolution(client, people, held):
    response = page(client, people["moderator"], reverse("meetings:minutes", args=[held.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "会议记录" in html and "实到" in html
    assert "同意接收张三为预备党员" in html and "通过" in html and "赞成 3" in html
    present = re.search(r'id="minutes-present">(.*?)</span>', html, re.S).group(1)
    for who in ("Secretary", "Member", "Moderator"):
        assert who in present
    excused = re.search(r'id="minutes-excused">(.*?)</span>', html, re.S).group(1)
    assert "Probationary" in excused and "出差在外" in excused
    assert f"/api/meetings/{held.pk}/minutes.md" in html
    assert "meetings/print.css" in html and 'media="print"' in html
    local = held.started_at.astimezone(held.branch.zone)
    assert f"{local:%Y-%m-%d %H:%M}" in html


def test_minutes_page_before_the_end(client, schedule, people):
    meeting = schedule("general")
    url = reverse("meetings:minutes", args=[meeting.pk])
    assert page(client, people["moderator"], url).status_code == 403
    draft = page(client, people["secretary"], url)
    assert draft.status_code == 200 and "草稿" in draft.content.decode()


def test_meeting_page_after_the_end_links_the_record(client, people, held):
    html = page(client, people["moderator"], reverse("meetings:meeting", args=[held.pk])).content.decode()
    assert "会议已结束" in html
    assert reverse("meetings:minutes", args=[held.pk]) in html
    assert reverse("meetings:attendance", args=[held.pk]) in html
    assert Meeting.objects.get(pk=held.pk).status == "ended"


def test_meeting_page_in_english(client, schedule, people, settings):
    meeting = schedule("general")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = page(client, people["secretary"], reverse("meetings:meeting", args=[meeting.pk]))
    html = response.content.decode()
    assert "Chair console" in html and "Start the meeting" in html and "主持人控制台" not in html
    strings = config(response, "meeting-strings")
    assert strings["raise_hand"] == "Raise hand"
    assert strings["attendance"]["excused"] == "on leave"
    # Still the branch's zone, whatever the language.
    assert ">2026-11-28 09:00<" in html


def test_page_strings_are_chinese_by_default(client, schedule, people):
    meeting = schedule("general")
    response = page(client, people["member"], reverse("meetings:meeting", args=[meeting.pk]))
    strings = config(response, "meeting-strings")
    assert strings["raise_hand"] == "举手"
    assert strings["status"]["live"] == "进行中"
    assert strings["quorum_line"] == "有表决权党员到会 %(present)s 人 / 应到 %(expected)s 人"


# -- the branch's audit log (操作日志) -------------------------------------------------------


def test_audit_log_says_what_hosts_did_in_meetings(client, schedule, people, held):
    """Every meeting action in the audit log reads as words, names the people and
    votes it concerns and links the meeting; no action code or bare id shows."""
    secretary = ident(people["secretary"])
    meeting = schedule("general")
    actions.add_exclusion(identity=secretary, meeting_id=meeting.pk, user_id=people["member"].pk, reason="abroad")
    actions.start_meeting(identity=secretary, meeting_id=meeting.pk)
    actions.mute(identity=secretary, meeting_id=meeting.pk, user_id=None, muted=True)
    arrive(meeting, people["moderator"])
    actions.mute(identity=secretary, meeting_id=meeting.pk, user_id=people["moderator"].pk, muted=True)

    html = page(client, people["secretary"], reverse("audit-log", args=[meeting.branch_id])).content.decode()
    rows = re.findall(r'<tr data-action="([^"]+)">(.*?)</tr>', html, re.S)
    said = {action: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for action, row in reversed(rows)}
    assert set(said) >= {"meeting.start", "meeting.end", "meeting.vote.create", "meeting.vote.open",
                         "meeting.vote.close", "meeting.exclude", "meeting.mute"}
    assert "将党员列为不计入应到" in said["meeting.exclude"]
    assert "党员: Member" in said["meeting.exclude"] and "出国出境半年以上" in said["meeting.exclude"]
    assert "abroad for more than six months" not in said["meeting.exclude"]
    assert "结束表决或选举" in said["meeting.vote.close"]
    assert "表决: “同意接收张三为预备党员”" in said["meeting.vote.close"]
    assert "通过: 是" in said["meeting.vote.close"]
    assert "类型: 表决" in said["meeting.vote.create"] and "无记名投票: 是" in said["meeting.vote.create"]
    assert "到会有表决权党员: 3" in said["meeting.vote.open"]
    mutes = [re.sub(r"<[^>]+>", " ", row) for action, row in rows if action == "meeting.mute"]
    assert any("全体静音" in m for m in mutes) and any("静音一名参会人员" in m and "Moderator" in m for m in mutes)
    for text in said.values():
        assert "meeting." not in text and "meetings.meeting" not in text, text
    for linked in (meeting, held):
        assert f'href="{reverse("meetings:meeting", args=[linked.pk])}">会议“支部党员大会”</a>' in html
    # The filter names the group in words too.
    assert '<option value="meeting">支部会议</option>' in html


def test_a_refused_page_says_why_in_the_readers_language(client, schedule, people):
    meeting = schedule("general")
    response = page(client, people["probationary"], reverse("meetings:minutes", args=[meeting.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html and 'class="site-header"' in html
    assert "会议结束" in html  # the refusal's own sentence (PermissionDenied), translated
