"""日历订阅: a member's meetings as an iCalendar feed at a private address, and one
meeting as a calendar file. The feed is read back with an independent parser
(icalendar), as a calendar app would."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import closure, personal_data
from accounts.models import MailSettings, Membership, SecurityRecord
from meetings import actions, calendar_feed, ics, selectors
from meetings.models import CalendarFeed, CommitteeMember, Meeting

pytestmark = pytest.mark.django_db

# Ten days from now at 09:00 in Shanghai: inside the feed's window whenever the tests run
# (the meetings package's fixed T0 would fall out of it 90 days after it).
T0 = (timezone.now() + timedelta(days=10)).replace(hour=1, minute=0, second=0, microsecond=0)
DAY = T0.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")


@pytest.fixture
def schedule(schedule):
    """The package's `schedule`, at T0 unless told otherwise."""

    def make(kind: str = "general", **extra):
        extra.setdefault("starts_at", T0)
        return schedule(kind, **extra)

    return make


def events(body: str) -> dict[int, icalendar.Event]:
    """The feed's events by meeting id (from their UID), as a calendar app reads them."""
    cal = icalendar.Calendar.from_ical(body)
    found = {int(str(e["UID"]).split("@")[0].removeprefix("meeting-")): e for e in cal.walk("VEVENT")}
    assert len(found) == len(cal.walk("VEVENT"))  # one event a meeting
    return found


def feed_of(user) -> dict[int, icalendar.Event]:
    below = CalendarFeed.objects.filter(user=user, below=True).exists()  # as the feed's view passes it
    return events(calendar_feed.feed(user, base="https://branchline.example.org", below=below))


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- the text --------------------------------------------------------------------------------


def test_text_values_are_escaped_and_long_lines_folded_between_characters():
    assert ics.text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    text = "第一党支部 · 支部党员大会\n议程：学习贯彻党的二十大精神，讨论年度民主评议安排"
    line = "DESCRIPTION:" + ics.text(text * 3)
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 3
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert folded.replace("\r\n ", "") == line  # unfolding gives it back: no character was split
    assert ics.fold("SUMMARY:short") == "SUMMARY:short"


# -- what the feed holds ---------------------------------------------------------------------


def test_a_member_gets_the_meetings_that_expect_them_on_every_calendars_clock(schedule, people, tree, identities):
    general = schedule("general", place="党群服务中心", description="请准时参加，带好笔记本。")
    committee = schedule("committee", starts_at=T0 + timedelta(days=1), minute_taker_id=None)
    minutes = schedule("committee", starts_at=T0 + timedelta(days=2))  # the member takes its minutes
    other = actions.schedule_meeting(identity=identities["other_secretary"], branch_id=tree["b"].pk, kind="general",
                                     title="第二支部大会", starts_at=T0, ends_at=T0 + timedelta(hours=1),
                                     chair_id=people["other_secretary"].pk)

    mine = feed_of(people["member"])
    assert list(mine) == [general.pk, minutes.pk]  # not the committee's other meeting, not another branch's
    event = mine[general.pk]
    assert str(event["SUMMARY"]) == "支部党员大会"
    assert event.decoded("DTSTART") == general.starts_at  # 01:00 UTC, which every calendar shows on its clock
    assert event.decoded("DTEND") == general.ends_at
    assert str(event["UID"]) == f"meeting-{general.pk}@127.0.0.1"
    assert str(event["LOCATION"]) == "党群服务中心 / 线上"
    assert str(event["URL"]) == f"https://branchline.example.org/meetings/{general.pk}/"
    assert str(event["STATUS"]) == "CONFIRMED" and str(event["TRANSP"]) == "OPAQUE"
    description = str(event["DESCRIPTION"])
    assert f"时间：{DAY} 09:00–11:00（Asia/Shanghai）" in description  # the branch's clock too
    assert "议程：\n1. 学习\n2. 表决" in description and "请准时参加，带好笔记本。" in description

    assert list(feed_of(people["secretary"])) == [general.pk, committee.pk, minutes.pk]  # the committee's seat
    assert list(feed_of(people["probationary"])) == [general.pk]
    assert list(feed_of(people["other_secretary"])) == [other.pk]
    assert feed_of(people["outsider"]) == {}
    # The committee above may read branch A but is expected at none of its meetings.
    assert feed_of(people["committee_secretary"]) == {}


def test_cancelled_meetings_and_those_on_leave_are_marked(schedule, people, identities):
    cancelled = schedule("general")
    actions.cancel_meeting(identity=identities["secretary"], meeting_id=cancelled.pk, reason="与区委会议冲突")
    excused = schedule("general", starts_at=T0 + timedelta(days=7))
    leave = actions.request_leave(identity=identities["member"], meeting_id=excused.pk, reason="出差")
    actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
    pending = schedule("general", starts_at=T0 + timedelta(days=14))
    actions.request_leave(identity=identities["member"], meeting_id=pending.pk, reason="看病")

    by_id = feed_of(people["member"])
    assert len(by_id) == 3
    gone = by_id[cancelled.pk]
    assert str(gone["SUMMARY"]) == "【已取消】支部党员大会" and str(gone["STATUS"]) == "CANCELLED"
    assert "取消原因：与区委会议冲突" in str(gone["DESCRIPTION"])
    away = by_id[excused.pk]
    assert str(away["SUMMARY"]) == "【已请假】支部党员大会" and str(away["TRANSP"]) == "TRANSPARENT"
    assert "您的请假：已批准" in str(away["DESCRIPTION"])
    asked = by_id[pending.pk]
    assert str(asked["SUMMARY"]) == "支部党员大会" and "您的请假：待审批" in str(asked["DESCRIPTION"])


def test_the_feed_is_in_the_members_language(schedule, people):
    schedule("general")
    MailSettings.objects.create(user=people["member"], language="en")
    body = calendar_feed.feed(people["member"], base="")
    assert "X-WR-CALNAME:Branchline meetings · Member" in body
    description = str(next(iter(events(body).values()))["DESCRIPTION"])
    assert f"Time: {DAY} 09:00–11:00 (Asia/Shanghai)" in description and "Chair: Secretary" in description


def test_old_meetings_drop_out_and_moved_ones_move(schedule, people, identities):
    now = timezone.now().replace(second=0, microsecond=0)
    old = schedule("general", starts_at=now - timedelta(days=calendar_feed.PAST_DAYS + 1))
    soon = schedule("general", starts_at=now + timedelta(days=2))
    starts = {e.decoded("DTSTART") for e in events(calendar_feed.feed(people["member"], base="")).values()}
    assert starts == {soon.starts_at}
    later = soon.starts_at + timedelta(days=1)
    actions.update_meeting(identity=identities["secretary"], meeting_id=soon.pk,
                           starts_at=later, ends_at=later + timedelta(hours=2))
    (event,) = events(calendar_feed.feed(people["member"], base="")).values()
    assert event.decoded("DTSTART") == later and str(event["UID"]) == f"meeting-{soon.pk}@127.0.0.1"
    assert old.pk != soon.pk


def test_who_is_expected_is_the_rolls_answer(schedule, people, tree, identities, make_user):
    """expected_of (the feed's few queries) says for one member what roll_for says for all."""
    seat = make_user("seat", branch=tree["a"], roles=("full",))
    CommitteeMember.objects.create(branch=tree["a"], user=seat, title="组织委员")
    group_member = make_user("grouped", branch=tree["a1"], roles=("full",))
    Membership.objects.create(user=people["member"], branch=tree["a1"], role="full")
    meetings = [
        schedule("general"),
        schedule("committee"),
        schedule("lecture"),
        actions.schedule_meeting(identity=identities["secretary"], branch_id=tree["a1"].pk, kind="group",
                                 title="小组会", starts_at=T0, ends_at=T0 + timedelta(hours=1),
                                 chair_id=people["member"].pk),
    ]
    excluded = schedule("general")
    actions.add_exclusion(identity=identities["secretary"], meeting_id=excluded.pk, user_id=people["member"].pk,
                          reason="abroad")
    started = schedule("general", starts_at=timezone.now() - timedelta(minutes=5))
    actions.start_meeting(identity=identities["secretary"], meeting_id=started.pk)
    late_joiner = make_user("late", branch=tree["a"], roles=("full",))  # after the roll froze
    meetings += [excluded, started]
    meetings = list(Meeting.objects.filter(pk__in=[m.pk for m in meetings]).order_by("pk"))
    everyone = [*people.values(), seat, group_member, late_joiner]
    checked = 0
    for user in everyone:
        found = selectors.expected_of(user.pk, meetings)
        for m in meetings:
            assert (m.pk in found) == (user.pk in selectors.roll_for(m).expected), (user.username, m.kind, m.pk)
            checked += 1
    assert checked == len(everyone) * 6
    assert started.pk not in selectors.expected_of(late_joiner.pk, meetings)
    assert excluded.pk not in selectors.expected_of(people["member"].pk, meetings)


def test_a_feed_takes_a_few_queries_however_many_meetings(schedule, people, django_assert_max_num_queries):
    for day in range(30):
        schedule("general", starts_at=T0 + timedelta(days=day))
    with django_assert_max_num_queries(10):
        assert len(feed_of(people["member"])) == 30


# -- the address -----------------------------------------------------------------------------


def test_the_address_is_made_on_my_account_with_a_security_notice_and_works_without_login(schedule, people):
    schedule("general")
    member = people["member"]
    page = login(member)
    assert b'id="calendar-url"' not in page.get(reverse("account")).content
    response = page.post(reverse("account"), {"form": "calendar-new"})
    assert response.status_code == 302 and response["Location"].endswith("#calendar")
    account = page.get(reverse("account")).content.decode()
    feed = CalendarFeed.objects.get(user=member)
    token = calendar_feed.token_of(feed)
    url = f"http://testserver/meetings/feed/{token}.ics"
    assert f'value="{url}"' in account and f'href="webcal://testserver/meetings/feed/{token}.ics"' in account
    assert token not in str(feed.sealed_token) and feed.token_hash != token  # only its hash and its sealed form
    assert SecurityRecord.objects.filter(user=member, kind="security.calendar_link").count() == 1
    assert "security.calendar_link" in [e.type for e in member_inbox(member)]

    anyone = Client()
    answer = anyone.get(f"/meetings/feed/{token}.ics")
    assert answer.status_code == 200 and answer["Content-Type"] == "text/calendar; charset=utf-8"
    assert len(events(answer.content.decode())) == 1
    assert "http://testserver/meetings/" in answer.content.decode()
    feed.refresh_from_db()
    assert feed.last_used_at is not None
    again = anyone.get(f"/meetings/feed/{token}.ics", HTTP_IF_NONE_MATCH=answer["ETag"])
    assert again.status_code == 304  # nothing changed: the calendar is told so
    assert anyone.post(f"/meetings/feed/{token}.ics").status_code == 405
    assert anyone.get("/meetings/feed/not-a-token.ics").status_code == 404


def member_inbox(user):
    from realtime.models import Event

    return Event.objects.filter(stream_id=f"inbox:{user.pk}")


def test_a_new_address_or_stopping_cuts_off_the_old_one(people):
    member = people["member"]
    page = login(member)
    page.post(reverse("account"), {"form": "calendar-new"})
    first = calendar_feed.token_of(CalendarFeed.objects.get(user=member))
    page.post(reverse("account"), {"form": "calendar-new"})
    second = calendar_feed.token_of(CalendarFeed.objects.get(user=member))
    assert first != second
    anyone = Client()
    assert anyone.get(f"/meetings/feed/{first}.ics").status_code == 404
    assert anyone.get(f"/meetings/feed/{second}.ics").status_code == 200
    page.post(reverse("account"), {"form": "calendar-stop"})
    assert anyone.get(f"/meetings/feed/{second}.ics").status_code == 404
    assert not CalendarFeed.objects.filter(user=member).exists()
    assert b'id="calendar-url"' not in page.get(reverse("account")).content


def test_a_deactivated_or_closed_account_has_no_feed(people, tree):
    member = people["member"]
    token = calendar_feed.make(member)
    assert personal_data.collect(member)["calendar_feed"]["made_at"]
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert Client().get(f"/meetings/feed/{token}.ics").status_code == 404
    member.is_active = True
    member.save(update_fields=["is_active"])
    Membership.objects.filter(user=member).delete()
    closure.close_account(member)
    assert not CalendarFeed.objects.filter(user=member).exists()
    assert Client().get(f"/meetings/feed/{token}.ics").status_code == 404


def test_a_member_who_left_the_branch_no_longer_gets_its_meetings(schedule, people):
    schedule("general")
    token = calendar_feed.make(people["member"])
    assert b"BEGIN:VEVENT" in Client().get(f"/meetings/feed/{token}.ics").content
    Membership.objects.filter(user=people["member"]).delete()
    answer = Client().get(f"/meetings/feed/{token}.ics")
    assert answer.status_code == 200 and b"BEGIN:VEVENT" not in answer.content


# -- one meeting as a file -------------------------------------------------------------------


def test_one_meeting_downloads_as_a_calendar_file_for_those_who_may_see_it(schedule, people):
    meeting = schedule("general")
    path = reverse("meetings:meeting-file", args=[meeting.pk])
    answer = login(people["probationary"]).get(path)
    assert answer.status_code == 200 and answer["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer["Content-Disposition"].startswith("attachment")
    (event,) = events(answer.content.decode()).values()
    assert event.decoded("DTSTART") == meeting.starts_at
    assert login(people["other_secretary"]).get(path).status_code == 404
    assert login(people["outsider"]).get(path).status_code == 404
    assert Client().get(path).status_code == 302  # to the login
    page = login(people["member"]).get(reverse("meetings:meeting", args=[meeting.pk])).content.decode()
    assert f'href="{path}"' in page


def test_a_secretary_may_add_the_meetings_of_the_branches_below(schedule, people, tree, identities, client):
    """列席指导: a committee's secretary sees every meeting below, named with its branch and
    shown as free time, once they ask; a member never gets the option."""
    general = schedule("general")
    other = actions.schedule_meeting(identity=identities["other_secretary"], branch_id=tree["b"].pk, kind="general",
                                     title="第二支部大会", starts_at=T0, ends_at=T0 + timedelta(hours=1),
                                     chair_id=people["other_secretary"].pk)
    overseer = people["committee_secretary"]
    calendar_feed.make(overseer)
    assert feed_of(overseer) == {}  # their own meetings only, until they ask
    page = login(overseer)
    assert 'id="calendar-below-form"' in page.get(reverse("account")).content.decode()
    page.post(reverse("account"), {"form": "calendar-below", "below": "on"})
    found = feed_of(overseer)
    assert set(found) == {general.pk, other.pk}
    assert str(found[other.pk]["SUMMARY"]) == "第二党支部：第二支部大会"
    assert str(found[other.pk]["TRANSP"]) == "TRANSPARENT"  # not theirs: free time
    token = calendar_feed.make(overseer)  # a new address keeps the choice
    assert len(feed_of(overseer)) == 2
    assert len(events(Client().get(f"/meetings/feed/{token}.ics").content.decode())) == 2  # as a calendar reads it
    page.post(reverse("account"), {"form": "calendar-below"})
    assert feed_of(overseer) == {}

    member = people["member"]
    calendar_feed.make(member)
    mine = login(member)
    assert 'id="calendar-below-form"' not in mine.get(reverse("account")).content.decode()
    mine.post(reverse("account"), {"form": "calendar-below", "below": "on"})  # not offered: refused quietly
    assert CalendarFeed.objects.get(user=member).below is False
