"""The minutes and attendance exports, built from the record, and who may download them."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from django.test import Client

from meetings import actions
from meetings.minutes import build_minutes, render_markdown

from .conftest import ident

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_meeting(schedule, identities, people, crowd, clock, tree):
    """A meeting held 09:00–11:00 Shanghai time with leave, an exclusion, a late member and a vote."""
    on_leave, abroad, late = crowd(3)
    meeting = schedule("general", place="社区党群服务中心", minute_taker_id=people["member"].pk)
    clock.at(-60)
    leave = actions.request_leave(identity=ident(on_leave), meeting_id=meeting.pk, reason="外出务工")
    actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
    actions.add_exclusion(identity=identities["secretary"], meeting_id=meeting.pk, user_id=abroad.pk,
                          reason="abroad", note="在国外务工")
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for user in (people["secretary"], people["member"], people["moderator"], people["probationary"]):
        actions.join_meeting(identity=ident(user), meeting_id=meeting.pk)
        actions.record_join(meeting_id=meeting.pk, user_id=user.pk, at=clock.at(1))
    actions.join_meeting(identity=ident(late), meeting_id=meeting.pk)
    actions.record_join(meeting_id=meeting.pk, user_id=late.pk, at=clock.at(12))
    items = list(meeting.agenda.all())
    actions.add_remark(identity=identities["member"], meeting_id=meeting.pk, text="传达了上级会议精神",
                       agenda_item_id=items[0].pk)
    clock.at(40)
    actions.advance_agenda(identity=identities["secretary"], meeting_id=meeting.pk)
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="同意接收赵预备为正式党员", secret=True, agenda_item_id=items[1].pk)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    for user, choice in ((people["secretary"], "yes"), (people["member"], "yes"), (people["moderator"], "yes"),
                         (late, "no")):
        actions.cast_vote(identity=ident(user), vote_id=vote.pk, choice=choice)
    actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    clock.at(120)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    return meeting, {"on_leave": on_leave, "abroad": abroad, "late": late}


def test_the_minutes_say_what_the_record_says(held_meeting, people):
    meeting, who = held_meeting
    minutes = build_minutes(meeting)
    assert minutes["scheduled"] == {"start": "2026-11-28 09:00", "end": "2026-11-28 11:00"}
    assert minutes["time_zone"] == "Asia/Shanghai" and minutes["place"] == "社区党群服务中心"
    assert minutes["chair"] == people["secretary"].first_name and minutes["minute_taker"] == people["member"].first_name
    # 7 party members minus 1 excluded = 6 expected: secretary, member, moderator, probationary and
    # the late one came; the one on leave is excused (and still expected).
    assert minutes["counts"] == {"expected": 6, "present": 5, "excused": 1, "absent": 0, "excluded": 1, "late": 1,
                                 "guests": 0}
    assert [p["name"] for p in minutes["excused"]] == [who["on_leave"].first_name]
    assert minutes["excused"][0]["reason"] == "外出务工"
    assert minutes["excluded"][0]["reason"] == "出国出境半年以上"  # Chinese by default
    assert minutes["excluded"][0]["approved_by"] == people["secretary"].first_name
    assert [p["status"] for p in minutes["present"] if p["name"] == who["late"].first_name] == ["late"]
    (resolution,) = minutes["resolutions"]
    assert resolution["voting_expected"] == 5 and resolution["present_at_open"] == 4
    assert resolution["quorum_met"] is True and resolution["passed"] is True
    assert [(c["key"], c["count"]) for c in resolution["counts"]] == [("yes", 3), ("no", 1), ("abstain", 0)]
    assert minutes["agenda"][0]["remarks"] == ["传达了上级会议精神"]


def test_the_minutes_render_as_markdown_in_chinese_by_default(held_meeting, people):
    from django.utils import translation

    meeting, who = held_meeting
    with translation.override("zh-hans"):
        text = render_markdown(build_minutes(meeting))
    assert text.startswith("# 支部党员大会\n")
    assert "2026-11-28 09:00 – 2026-11-28 11:00 (Asia/Shanghai)" in text
    assert "社区党群服务中心" in text and people["secretary"].first_name in text
    assert "应到 6 人" in text and "实到 5 人" in text and "请假 1 人" in text
    assert f"{who['on_leave'].first_name}（外出务工）" in text
    assert "出国出境半年以上" in text
    assert "赞成 3，反对 1，弃权 0" in text and "**通过**" in text
    with translation.override("en"):
        english = render_markdown(build_minutes(meeting))
    assert "Expected 6, present 5" in english and "**Passed**" in english


def test_attendance_csv(held_meeting):
    from django.utils import translation

    meeting, who = held_meeting
    from meetings.minutes import attendance_csv

    with translation.override("en"):
        text = attendance_csv(meeting)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["name", "expected", "voting", "status"]
    by_name = {r[0]: r for r in rows[1:]}
    late = by_name[who["late"].first_name]
    assert late[3] == "late" and late[4] == "2026-11-28 09:12" and late[6] == "108"
    assert by_name[who["on_leave"].first_name][3] == "on leave"
    assert by_name[who["abroad"].first_name][8] == "abroad for more than six months"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_exports_over_http_respect_permissions(schedule, identities, people):
    meeting = schedule("general", minute_taker_id=None)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    urls = [f"/api/meetings/{meeting.pk}/minutes.md", f"/api/meetings/{meeting.pk}/attendance.csv",
            f"/api/meetings/{meeting.pk}/minutes"]
    for url in urls:
        assert Client().get(url).status_code == 401
        assert logged_in(people["outsider"]).get(url).status_code == 404
        assert logged_in(people["other_secretary"]).get(url).status_code == 404
        assert logged_in(people["member"]).get(url).status_code == 403  # until the meeting has ended
        assert logged_in(people["secretary"]).get(url).status_code == 200
    assert logged_in(people["outsider"]).get(f"/api/meetings/{meeting.pk}").status_code == 404
    assert logged_in(people["outsider"]).get(f"/api/meetings/{meeting.pk}/transcript").status_code == 404
    assert logged_in(people["member"]).get(f"/api/meetings/{meeting.pk}/transcript").status_code == 403
    assert logged_in(people["outsider"]).get(f"/api/streams/meeting:{meeting.pk}/events").status_code == 403
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    member = logged_in(people["member"])
    response = member.get(urls[0])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert response.content.decode().startswith("# 支部党员大会")
    csv_response = member.get(urls[1])
    assert csv_response["Content-Type"].startswith("text/csv")
    transcript = member.get(f"/api/meetings/{meeting.pk}/transcript").json()
    assert [e["type"] for e in transcript["events"]] == ["meeting.scheduled", "meeting.started", "meeting.ended"]
    calendar = member.get(f"/api/branches/{meeting.branch_id}/meetings").json()
    assert [m["id"] for m in calendar["meetings"]] == [meeting.pk]
    assert logged_in(people["outsider"]).get(f"/api/branches/{meeting.branch_id}/meetings").status_code == 404


def test_the_secretary_downloads_the_record_of_meetings_a_year_at_a_time(held_meeting, schedule, identities, people,
                                                                         tree, clock):
    meeting, _who = held_meeting
    # Cancelled, and on the branch's clock already in 2027 (17:00 UTC on 31 December is 01:00 in Shanghai).
    later = schedule("lecture", starts_at=datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc))
    actions.cancel_meeting(identity=identities["secretary"], meeting_id=later.pk, reason="改期")

    secretary = Client()
    secretary.force_login(people["secretary"])
    page = secretary.get(f"/branches/{tree['a'].pk}/meetings/").content.decode()
    assert 'meetings.csv?year=2027"' in page and 'meetings.csv?year=2026"' in page
    response = secretary.get(f"/branches/{tree['a'].pk}/meetings.csv?year=2026")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename*=utf-8''" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert table[0] == ["开始时间", "结束时间", "会议类型", "会议名称", "状态", "主持人", "记录人", "地点", "应到",
                        "实到", "迟到", "请假", "缺席", "不计入应到", "列席", "到会率（%）", "链接"]
    assert len(table) == 2  # the 2027 one is in 2027
    row = table[1]
    assert row[:8] == ["2026-11-28 09:00", "2026-11-28 11:00", "支部党员大会", "支部党员大会", "已结束",
                       people["secretary"].first_name, people["member"].first_name, "社区党群服务中心（线上）"]
    # 6 expected (7 party members, one excluded), 5 came (one late), one on leave, none absent.
    assert row[8:16] == ["6", "5", "1", "1", "0", "1", "0", "83"]
    assert row[16].endswith(f"/meetings/{meeting.pk}/")
    everything = list(csv.reader(io.StringIO(secretary.get(f"/branches/{tree['a'].pk}/meetings.csv")
                                             .content.decode().lstrip("\ufeff"))))
    assert [r[4] for r in everything[1:]] == ["已结束", "已取消"]
    assert everything[2][15] == ""  # no rate for a meeting not held

    member = Client()
    member.force_login(people["member"])
    assert member.get(f"/branches/{tree['a'].pk}/meetings.csv").status_code == 403
    assert 'id="register"' not in member.get(f"/branches/{tree['a'].pk}/meetings/").content.decode()
    other = Client()
    other.force_login(people["other_secretary"])
    assert other.get(f"/branches/{tree['a'].pk}/meetings.csv").status_code == 404


def test_the_record_of_meetings_over_the_api(held_meeting, people, tree):
    meeting, _who = held_meeting
    url = f"/api/branches/{tree['a'].pk}/meetings/register"
    secretary = Client()
    secretary.force_login(people["secretary"])
    body = secretary.get(url, {"year": 2026}).json()
    (row,) = body["meetings"]
    assert row["id"] == meeting.pk and row["status"] == "ended" and row["starts_local"].startswith("2026-11-28T09:00")
    assert row["counts"] == {"expected": 6, "present": 5, "excused": 1, "absent": 0, "excluded": 1, "late": 1,
                             "guests": 0}
    assert row["attendance_rate"] == 83
    assert secretary.get(url, {"year": 2025}).json() == {"meetings": []}
    refused = secretary.get(url, {"year": 26})
    assert refused.status_code == 400 and refused.json()["code"] == "bad_request"

    member = Client()
    member.force_login(people["member"])
    assert member.get(url).status_code == 403 and member.get(url).json()["code"] == "forbidden"
    other = Client()
    other.force_login(people["other_secretary"])
    assert other.get(url).status_code == 404 and other.get(url).json()["code"] == "not_found"
