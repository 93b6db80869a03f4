"""Meetings demo data (called by `manage.py seed_demo`; safe to run again).

A scheduled general meeting (next Saturday) with leave requests and the secretary's
notice of it, a party lecture in session that members can join, and a general meeting
held a month ago with its minutes and a secret vote. General meetings are named after
the month they fall in. The past meeting is replayed through the real actions with the clock
set to when each step would have happened, so its record (intervals, events, minutes)
looks like a real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.utils import timezone

from accounts.demo import chinese_day
from accounts.identity import identity_for_user
from announcements.actions import post_announcement

from . import actions
from .models import CommitteeMember, Meeting

LIVE = "党课：学习贯彻党的二十大精神"
_MONTHS = ("一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月")


def general_meeting_title(day: date) -> str:
    """A general meeting is named after its month, as branches name theirs."""
    return f"{_MONTHS[day.month - 1]}支部党员大会"


def meeting_notice(day: date) -> tuple[str, str]:
    """The secretary's announcement of the upcoming general meeting: title and text."""
    when = f"{chinese_day(day)}上午9:00"
    text = f"各位党员：定于{when}在社区党群服务中心二楼会议室召开支部党员大会，请准时参加。无法到会的请提前向支部书记请假。"
    return f"关于召开{general_meeting_title(day)}的通知", text


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Demo only: the actions read timezone.now(); replay a past step at its own time."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _local(branch, day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=branch.zone)


def seed(branches: dict, users: dict) -> list[str]:
    b1 = branches["b1"]
    ident = {name: identity_for_user(user) for name, user in users.items()}
    CommitteeMember.objects.get_or_create(branch=b1, user=users["banzhu"], defaults={"title": "组织委员"})
    made = []
    today = timezone.localdate(timezone.now(), b1.zone)

    # Made once: an ended general meeting, a scheduled one, a live lecture.
    general = Meeting.objects.filter(branch=b1, kind=Meeting.Kind.GENERAL)
    # The past one first: its log entries, written with the clock set back, then come
    # before today's in the logs kept in the order of writing (events, the audit log).
    if not general.filter(status=Meeting.Status.ENDED).exists():
        day = today - timedelta(days=30)
        made.append(general_meeting_title(day))
        _past_meeting(b1, users, ident, day)
    if not general.filter(status=Meeting.Status.SCHEDULED).exists():
        saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
        title = general_meeting_title(saturday)
        meeting = actions.schedule_meeting(
            identity=ident["shuji"], branch_id=b1.pk, kind=Meeting.Kind.GENERAL, title=title,
            starts_at=_local(b1, saturday, 9), ends_at=_local(b1, saturday, 11), chair_id=users["shuji"].pk,
            minute_taker_id=users["banzhu"].pk, place="社区党群服务中心二楼会议室", online=True,
            description="请全体党员准时参加，无法到会的请提前请假。",
            agenda=["学习近期重要讲话精神", "讨论年度民主评议安排", "接收预备党员转正讨论"],
        )
        actions.request_leave(identity=ident["yubei"], meeting_id=meeting.pk, reason="当天在外地参加培训")
        leave = actions.request_leave(identity=ident["dangyuan"], meeting_id=meeting.pk, reason="家中老人住院需陪护")
        actions.decide_leave(identity=ident["shuji"], leave_id=leave.pk, approve=True, note="同意，注意休息")
        notice, text = meeting_notice(saturday)
        post_announcement(identity=ident["shuji"], branch_id=b1.pk, title=notice, body=text)
        made.append(title)

    if not Meeting.objects.filter(branch=b1, title=LIVE).exists():
        now = timezone.now()
        meeting = actions.schedule_meeting(
            identity=ident["shuji"], branch_id=b1.pk, kind=Meeting.Kind.LECTURE, title=LIVE,
            starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=2), chair_id=users["shuji"].pk,
            minute_taker_id=users["banzhu"].pk, online=True, agenda=["书记讲党课", "交流发言", "小结"],
        )
        actions.start_meeting(identity=ident["shuji"], meeting_id=meeting.pk)
        made.append(LIVE)

    return made


def _past_meeting(b1, users, ident, day: date) -> None:
    start = _local(b1, day, 19)
    with clock_at(start - timedelta(days=7)):
        meeting = actions.schedule_meeting(
            identity=ident["shuji"], branch_id=b1.pk, kind=Meeting.Kind.GENERAL, title=general_meeting_title(day),
            starts_at=start, ends_at=start + timedelta(minutes=90), chair_id=users["shuji"].pk,
            minute_taker_id=users["banzhu"].pk, place="社区党群服务中心", online=True,
            agenda=["学习党章", "评选优秀共产党员"],
        )
    with clock_at(start - timedelta(days=2)):
        leave = actions.request_leave(identity=ident["yubei"], meeting_id=meeting.pk, reason="单位值班")
    with clock_at(start - timedelta(days=1)):
        actions.decide_leave(identity=ident["shuji"], leave_id=leave.pk, approve=True)
    with clock_at(start - timedelta(minutes=10)):
        actions.open_meeting(identity=ident["shuji"], meeting_id=meeting.pk)
    arrivals = [("shuji", -5), ("banzhu", 1), ("dangyuan", 8)]  # 张党员 came 8 minutes late
    for name, minutes in arrivals:
        at = start + timedelta(minutes=minutes)
        with clock_at(at):
            actions.join_meeting(identity=ident[name], meeting_id=meeting.pk)
            actions.record_join(meeting_id=meeting.pk, user_id=users[name].pk, at=at)
        if name == "shuji":
            with clock_at(start):
                actions.start_meeting(identity=ident["shuji"], meeting_id=meeting.pk)
    items = list(meeting.agenda.order_by("position"))
    with clock_at(start + timedelta(minutes=12)):
        actions.send_chat(identity=ident["dangyuan"], meeting_id=meeting.pk, body="抱歉来晚了，路上堵车。")
    with clock_at(start + timedelta(minutes=30)):
        actions.add_remark(identity=ident["banzhu"], meeting_id=meeting.pk, agenda_item_id=items[0].pk,
                           text="王书记带领大家逐条学习了党章第一章，强调党员要按时参加组织生活。")
    with clock_at(start + timedelta(minutes=40)):
        actions.advance_agenda(identity=ident["shuji"], meeting_id=meeting.pk)
    with clock_at(start + timedelta(minutes=45)):
        actions.raise_hand(identity=ident["dangyuan"], meeting_id=meeting.pk)
    with clock_at(start + timedelta(minutes=46)):
        actions.give_floor(identity=ident["shuji"], meeting_id=meeting.pk, user_id=users["dangyuan"].pk)
    with clock_at(start + timedelta(minutes=55)):
        vote = actions.create_vote(identity=ident["shuji"], meeting_id=meeting.pk, kind="motion", secret=True,
                                   title="推荐李版主为街道优秀共产党员", agenda_item_id=items[1].pk)
        actions.open_vote(identity=ident["shuji"], vote_id=vote.pk)
    for i, name in enumerate(("shuji", "banzhu", "dangyuan")):
        with clock_at(start + timedelta(minutes=56, seconds=20 * i)):
            actions.cast_vote(identity=ident[name], vote_id=vote.pk, choice="yes")
    with clock_at(start + timedelta(minutes=58)):
        actions.close_vote(identity=ident["shuji"], vote_id=vote.pk)
        actions.add_remark(identity=ident["banzhu"], meeting_id=meeting.pk, agenda_item_id=items[1].pk,
                           text="经无记名投票，全票同意推荐李版主。")
    with clock_at(start + timedelta(minutes=88)):
        actions.end_meeting(identity=ident["shuji"], meeting_id=meeting.pk)
