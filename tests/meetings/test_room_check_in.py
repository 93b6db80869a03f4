"""现场签到: at a meeting held in a room (or both in a room and online), the chair, a
secretary or the minute-taker records who is there. It counts as being present, for the
record and the quorum, beside being online, with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from frontend.notification_text import describe
from meetings import actions, room, selectors
from meetings.models import AttendanceInterval, Meeting
from moderation.models import AuditEntry
from realtime.errors import Conflict, Forbidden, Invalid, NotFound
from realtime.models import Event
from tests.realtime.conftest import connect  # noqa: F401  the real ASGI stack fixture

from .conftest import arrive, depart

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_session(schedule, identities, clock):
    """A general meeting 09:00–11:00 (Shanghai), opened ten minutes early and started on time."""
    meeting = schedule("general")
    clock.at(-10)
    actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    clock.at(0)
    actions.start_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    return meeting


def row(meeting, user) -> dict:
    return next(r for r in selectors.attendance_report(meeting)["rows"] if r["user"]["id"] == user.pk)


def test_people_checked_in_in_the_room_are_present_and_count_for_the_quorum(in_session, identities, people,
                                                                            clock):
    meeting = in_session
    before = selectors.summary(meeting)
    clock.at(2)
    reply = actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk)
    assert reply["in_room"] is True and reply["counts"]["present"] == before["counts"]["present"] + 1
    assert reply["quorum"]["voting_present"] == before["quorum"]["voting_present"] + 1
    member = row(meeting, people["member"])
    assert member["status"] == "present" and member["in_room"] is True and member["connected"] is False
    event = Event.objects.filter(stream_id=f"meeting:{meeting.pk}", type="attendance.joined").last()
    assert event.data["in_room"] is True and event.data["user"]["id"] == people["member"].pk
    assert event.data["by"]["id"] == people["secretary"].pk
    assert AuditEntry.objects.filter(action="meeting.check_in").count() == 1

    # Checked in twenty minutes late: late, as if they had come in online then.
    clock.at(20)
    actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["probationary"].pk)
    assert row(meeting, people["probationary"])["status"] == "late"


def test_the_room_and_the_page_are_two_ways_of_being_there(in_session, identities, people, clock):
    meeting = in_session
    clock.at(1)
    actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk)
    clock.at(5)
    arrive(meeting, people["member"], clock.now)  # opens the meeting's page on the phone, to vote
    member = row(meeting, people["member"])
    assert member["connected"] is True and member["in_room"] is True
    clock.at(30)
    depart(meeting, people["member"], clock.now)  # closes the page: still in the room
    member = row(meeting, people["member"])
    assert member["connected"] is False and member["in_room"] is True
    assert people["member"].pk in selectors.connected_user_ids(meeting)
    assert AttendanceInterval.objects.filter(meeting=meeting, user=people["member"], in_room=True,
                                             left_at__isnull=True).count() == 1


def test_leaving_the_room_early_and_a_check_in_taken_back(in_session, identities, people, clock):
    meeting = in_session
    clock.at(1)
    for name in ("member", "probationary"):
        actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people[name].pk)
    clock.at(60)
    left = actions.check_out(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk)
    assert left["in_room"] is False
    undone = actions.check_out(identity=identities["secretary"], meeting_id=meeting.pk,
                               user_id=people["probationary"].pk, mistake=True)
    assert undone["counts"]["present"] == left["counts"]["present"] - 1  # as if never checked in
    assert not AttendanceInterval.objects.filter(meeting=meeting, user=people["probationary"]).exists()
    event = Event.objects.filter(stream_id=f"meeting:{meeting.pk}", type="attendance.left").last()
    assert event.data["reason"] == "undone" and event.data["in_room"] is True
    clock.at(120)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    assert row(meeting, people["member"])["status"] == "left_early"  # out at 10:00 of a meeting to 11:00
    assert row(meeting, people["member"])["checked_in"] is True  # the record says how they came
    from django.utils import translation

    from meetings import minutes

    markdown = minutes.render_markdown(minutes.build_minutes(meeting))
    assert "Member（早退、现场）" in markdown  # held online too: who sat in the room is said
    with translation.override("en"):
        table = minutes.attendance_csv(meeting)
    assert table.splitlines()[0].endswith(",checked in in the room")
    assert next(line for line in table.splitlines() if line.startswith("Member,")).endswith(",yes")
    assert row(meeting, people["probationary"])["status"] == "absent"
    assert row(meeting, people["probationary"])["checked_in"] is False
    assert {e.action for e in AuditEntry.objects.all()} >= {"meeting.check_out", "meeting.check_in_undone"}


def test_the_end_of_the_meeting_ends_the_stays_in_the_room(in_session, identities, people, clock):
    meeting = in_session
    clock.at(1)
    actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk)
    clock.at(120)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    assert not AttendanceInterval.objects.filter(meeting=meeting, left_at__isnull=True).exists()
    assert row(meeting, people["member"])["status"] == "present"


def test_the_record_is_mended_within_a_week_after_the_end(in_session, identities, people, clock):
    meeting = in_session
    clock.at(120)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    assert row(meeting, people["moderator"])["status"] == "absent"
    clock.at(24 * 60)  # the next day: the minute-taker's paper list says 李版主 was there
    mended = actions.check_in(identity=identities["member"], meeting_id=meeting.pk, user_id=people["moderator"].pk)
    assert mended["in_room"] is False  # nobody is in the room of a meeting that has ended
    moderator = row(meeting, people["moderator"])
    assert moderator["status"] == "present" and moderator["checked_in"] is True  # from the start to the end
    assert moderator["present_seconds"] == 120 * 60
    event = Event.objects.filter(stream_id=f"meeting:{meeting.pk}", type="attendance.joined").last()
    assert event.data["after_end"] is True and event.data["by"]["id"] == people["member"].pk
    assert AuditEntry.objects.filter(action="meeting.check_in_after").count() == 1
    # 李版主's record changed after the fact: he hears of it (the bell, and mail if unread).
    told = Event.objects.filter(stream_id=f"inbox:{people['moderator'].pk}", type="meeting.attendance_mended")
    assert [e.data["in_room"] for e in told] == [True]
    assert describe(list(told))[0]["text"] == "Member 补登您出席了“支部党员大会”（现场）"
    with pytest.raises(Conflict):  # once
        actions.check_in(identity=identities["member"], meeting_id=meeting.pk, user_id=people["moderator"].pk)
    with pytest.raises(Conflict):  # only a mistake can be taken back now
        actions.check_out(identity=identities["member"], meeting_id=meeting.pk, user_id=people["moderator"].pk)
    actions.check_out(identity=identities["member"], meeting_id=meeting.pk, user_id=people["moderator"].pk,
                      mistake=True)
    assert row(meeting, people["moderator"])["status"] == "absent"
    assert [e.data["in_room"] for e in told.order_by("seq")] == [True, False]
    assert describe([told.order_by("seq").last()])[0]["text"] == "Member 撤销了您在“支部党员大会”的现场签到"
    with pytest.raises(Forbidden):
        actions.check_in(identity=identities["probationary"], meeting_id=meeting.pk, user_id=people["moderator"].pk)
    clock.at(120 + 8 * 24 * 60)  # more than a week after the end: the record stands
    with pytest.raises(Conflict):
        actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["moderator"].pk)


def test_times_read_off_the_paper_list(in_session, identities, people, clock):
    """The chair ticks names twenty minutes in, from a list that says 09:02: on time. A
    time of day is read on the branch's clock (Shanghai here, UTC+8)."""
    meeting, chair = in_session, identities["secretary"]
    member, moderator = people["member"].pk, people["moderator"].pk
    clock.at(20)
    actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=member, since="09:02")
    stay = AttendanceInterval.objects.get(meeting=meeting, user_id=member, in_room=True)
    assert stay.joined_at == clock.at(2) and row(meeting, people["member"])["status"] == "present"
    clock.at(20)
    refusals = [
        dict(since="08:45"),  # before the meeting opened (08:50)
        dict(since="09:30"),  # later than now: read as yesterday's, before it opened
        dict(since="9:5"),  # not a time
        dict(since="09:05", until="09:10"),  # the end of a stay is recorded when they leave
    ]
    for args in refusals:
        with pytest.raises(Invalid):
            actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=moderator, **args)
    assert not AttendanceInterval.objects.filter(meeting=meeting, user_id=moderator).exists()
    actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=moderator, since="2026-11-28T00:55:00+00:00")
    assert AttendanceInterval.objects.get(meeting=meeting, user_id=moderator).joined_at == clock.at(-5)
    clock.at(40)
    with pytest.raises(Invalid):  # before they came in
        actions.check_out(identity=chair, meeting_id=meeting.pk, user_id=member, at="09:01")
    with pytest.raises(Invalid):  # a mistake has no time
        actions.check_out(identity=chair, meeting_id=meeting.pk, user_id=member, at="09:30", mistake=True)
    left = actions.check_out(identity=chair, meeting_id=meeting.pk, user_id=member, at="09:30")
    assert left["in_room"] is False
    stay.refresh_from_db()
    assert stay.left_at == clock.at(30)
    event = Event.objects.filter(stream_id=f"meeting:{meeting.pk}", type="attendance.left").last()
    assert event.data["at"] == "2026-11-28T01:30:00Z"
    with pytest.raises(Conflict):  # back in at 09:20: already recorded there then
        actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=member, since="09:20")
    assert AuditEntry.objects.filter(action="meeting.check_out").last().after["at"] == "2026-11-28T01:30:00Z"

    clock.at(120)
    actions.end_meeting(identity=chair, meeting_id=meeting.pk)
    meeting.refresh_from_db()
    assert row(meeting, people["member"])["status"] == "left_early"
    clock.at(24 * 60)
    # 补登 with the paper list's times: the probationary member came at 09:30 and left at 10:15.
    probationary = people["probationary"].pk
    for args in (dict(since="08:55"), dict(until="11:30"), dict(since="10:00", until="09:45")):
        with pytest.raises(Invalid):  # outside the meeting, or ending before it begins
            actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=probationary, **args)
    actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=probationary, since="09:30", until="10:15")
    assert row(meeting, people["probationary"])["status"] == "late_and_left_early"
    assert row(meeting, people["probationary"])["present_seconds"] == 45 * 60
    mended = AuditEntry.objects.filter(action="meeting.check_in_after").last().after
    assert mended["since"] == "2026-11-28T01:30:00Z" and mended["until"] == "2026-11-28T02:15:00Z"
    with pytest.raises(Conflict):  # overlaps what is recorded
        actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=probationary, since="10:00", until="10:30")
    # The member came back to the room at 10:00 for the rest: a second stay, after the first.
    actions.check_in(identity=chair, meeting_id=meeting.pk, user_id=member, since="10:00")
    assert row(meeting, people["member"])["status"] == "present"


def test_who_may_check_people_in_and_whom(schedule, identities, people, make_user, clock):
    meeting = schedule("general")  # minute-taker: the member
    with pytest.raises(Conflict):  # not open yet
        actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk)
    clock.at(-10)
    actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    for who in ("probationary", "moderator", "other_secretary"):
        with pytest.raises((Forbidden, NotFound)):
            actions.check_in(identity=identities[who], meeting_id=meeting.pk, user_id=people["member"].pk)
    # The minute-taker keeps the roll too, in the lobby's time as well.
    actions.check_in(identity=identities["member"], meeting_id=meeting.pk, user_id=people["probationary"].pk)
    with pytest.raises(Conflict):
        actions.check_in(identity=identities["member"], meeting_id=meeting.pk, user_id=people["probationary"].pk)
    for stranger in (people["outsider"].pk, people["other_secretary"].pk, 999_999):
        with pytest.raises(NotFound):
            actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=stranger)
    switched_off = make_user("gone", branch=meeting.branch, roles=("full",), is_active=False)
    with pytest.raises(NotFound):
        actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=switched_off.pk)
    with pytest.raises(NotFound):  # not checked in
        actions.check_out(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["moderator"].pk)
    # A secretary of the branch above may see the meeting, and be checked in as a guest.
    actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["committee_secretary"].pk)
    assert row(meeting, people["committee_secretary"])["status"] == "guest"


@pytest.mark.django_db(transaction=True)
async def test_the_ops_on_the_socket(connect, people, tree, identities):  # noqa: F811
    from channels.db import database_sync_to_async

    meeting = await database_sync_to_async(actions.schedule_meeting)(
        identity=identities["secretary"], branch_id=tree["a"].pk, kind="general", title="现场会",
        starts_at="2026-11-28T09:00", ends_at="2026-11-28T11:00", chair_id=people["secretary"].pk, place="会议室")
    await database_sync_to_async(actions.open_meeting)(identity=identities["secretary"], meeting_id=meeting.pk)
    chair = await connect(people["secretary"])
    who = people["member"].pk
    reply = await chair.call("meetings.room.check_in", {"meeting": meeting.pk, "user": who}, cid="room-00001")
    assert reply["op"] == "ok" and reply["data"]["in_room"] is True
    again = await chair.call("meetings.room.check_in", {"meeting": meeting.pk, "user": who}, cid="room-00002")
    assert again["code"] == "conflict"
    member = await connect(people["probationary"])
    refused = await member.call("meetings.room.check_in", {"meeting": meeting.pk, "user": who}, cid="room-00003")
    assert refused["code"] == "forbidden"
    out = await chair.call("meetings.room.check_out", {"meeting": meeting.pk, "user": who, "mistake": True},
                           cid="room-00004")
    assert out["data"]["in_room"] is False
    bad = await chair.call("meetings.room.check_out", {"meeting": meeting.pk, "user": "x"}, cid="room-00005")
    assert bad["code"] == "bad_request"


# -- 扫码签到: checking oneself in with the room's code ----------------------------------------


def test_the_rooms_code_changes_every_minute_and_is_good_for_two(in_session, clock):
    meeting = in_session
    clock.at(3)
    now = clock.now
    shown = room.code(meeting, now)
    assert room.is_current(meeting, shown, now)
    assert room.is_current(meeting, shown, now + timedelta(seconds=room.WINDOW))  # the window after it
    assert not room.is_current(meeting, shown, now + timedelta(seconds=2 * room.WINDOW))
    assert not room.is_current(meeting, shown[:-1] + ("A" if shown[-1] != "A" else "B"), now)
    assert not room.is_current(meeting, "", now) and not room.is_current(meeting, None, now)
    other = Meeting.objects.create(branch=meeting.branch, kind="general", title="另一个会", starts_at=meeting.starts_at,
                                   ends_at=meeting.ends_at, chair=meeting.chair, opened_at=meeting.opened_at)
    assert not room.is_current(other, shown, now)  # another meeting's code


def test_a_member_in_the_room_checks_in_with_the_code(in_session, identities, people, clock, client):
    meeting = in_session
    clock.at(4)
    path = reverse("meetings:here", args=[meeting.pk, room.code(meeting, clock.now)])
    client.force_login(people["probationary"])
    page = client.get(path)
    assert page.status_code == 200 and "我在会场，现场签到" in page.content.decode()
    assert not AttendanceInterval.objects.filter(meeting=meeting, user=people["probationary"]).exists()  # asked only
    done = client.post(path)
    assert done.status_code == 302 and done["Location"] == reverse("meetings:meeting", args=[meeting.pk])
    checked = row(meeting, people["probationary"])
    assert checked["in_room"] is True and checked["status"] == "present"
    event = Event.objects.filter(stream_id=f"meeting:{meeting.pk}", type="attendance.joined").last()
    assert event.data["by"]["id"] == people["probationary"].pk and event.data["in_room"] is True
    again = client.post(path)
    assert again.status_code == 409 and "已经现场签到" in again.content.decode()

    clock.at(7)  # three minutes on: the photo of the code someone sent home no longer works
    client.force_login(people["member"])
    stale = client.get(path)
    assert stale.status_code == 409 and "签到码已失效" in stale.content.decode()
    assert client.post(path).status_code == 409
    assert not AttendanceInterval.objects.filter(meeting=meeting, user=people["member"], in_room=True).exists()


def test_the_code_is_for_those_who_may_see_the_meeting_and_only_while_it_runs(in_session, identities, people,
                                                                             clock, client):
    meeting = in_session
    clock.at(4)
    path = reverse("meetings:here", args=[meeting.pk, room.code(meeting, clock.now)])
    client.force_login(people["outsider"])
    assert client.get(path).status_code == 404 and client.post(path).status_code == 404
    client.force_login(people["member"])
    clock.at(5)
    actions.end_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    assert client.post(path).status_code == 409


def test_the_qr_code_is_shown_to_those_who_keep_the_roll(in_session, people, clock, client):
    meeting = in_session
    url = reverse("meetings:check-in-qr", args=[meeting.pk])
    client.force_login(people["probationary"])
    assert client.get(url).status_code == 403
    client.force_login(people["member"])  # the minute-taker
    answer = client.get(url)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("image/svg+xml")
    assert answer["Cache-Control"] == "no-store" and answer.content.startswith(b"<svg xmlns=")
    assert answer["X-Check-In-Url"].startswith(f"http://testserver/meetings/{meeting.pk}/here/")
    page = client.get(reverse("meetings:meeting", args=[meeting.pk])).content.decode()
    assert 'id="check-in"' in page and url in page
    client.force_login(people["probationary"])
    assert 'id="check-in"' not in client.get(reverse("meetings:meeting", args=[meeting.pk])).content.decode()


# -- 举手表决: a vote shown by hands in the room, entered by the chair ------------------------


def open_motion(meeting, identities, *, secret=False):
    vote = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion",
                               title="同意推荐人选", secret=secret)
    actions.open_vote(identity=identities["secretary"], vote_id=vote.pk)
    return vote


def test_the_chair_counts_a_hand_raised_in_the_room(in_session, identities, people, clock):
    meeting = in_session
    clock.at(1)
    for name in ("member", "moderator"):  # in the room, without the page open
        actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people[name].pk)
    arrive(meeting, people["secretary"], clock.now)  # the chair, on the page: 3 of 3 voting members present
    vote = open_motion(meeting, identities)
    counted = actions.enter_show_of_hands(identity=identities["secretary"], vote_id=vote.pk,
                                          user_id=people["member"].pk, choice="yes")
    assert counted["counted"] is True and counted["cast"] == 1
    actions.cast_vote(identity=identities["secretary"], vote_id=vote.pk, choice="yes")
    with pytest.raises(Conflict):  # counted once
        actions.enter_show_of_hands(identity=identities["secretary"], vote_id=vote.pk, user_id=people["member"].pk,
                                    choice="no")
    with pytest.raises(Invalid):  # on the page, not in the room: votes there
        actions.enter_show_of_hands(identity=identities["secretary"], vote_id=vote.pk,
                                    user_id=people["secretary"].pk, choice="yes")
    with pytest.raises(Invalid):  # probationary members have no vote
        actions.enter_show_of_hands(identity=identities["secretary"], vote_id=vote.pk,
                                    user_id=people["probationary"].pk, choice="yes")
    with pytest.raises(Forbidden):  # the chair's, not a member's
        actions.enter_show_of_hands(identity=identities["moderator"], vote_id=vote.pk,
                                    user_id=people["moderator"].pk, choice="yes")
    closed = actions.close_vote(identity=identities["secretary"], vote_id=vote.pk)
    assert closed.result["counts"]["yes"] == 2 and closed.passed is True  # 2 of 3 voting expected
    assert selectors.vote_dict(closed)["hands"] == 1
    assert AuditEntry.objects.filter(action="meeting.vote.hands").count() == 1


def test_never_for_a_secret_ballot_nor_a_vote_not_open(in_session, identities, people, clock):
    meeting = in_session
    clock.at(1)
    actions.check_in(identity=identities["secretary"], meeting_id=meeting.pk, user_id=people["member"].pk)
    arrive(meeting, people["secretary"], clock.now)
    secret = open_motion(meeting, identities, secret=True)
    with pytest.raises(Conflict):
        actions.enter_show_of_hands(identity=identities["secretary"], vote_id=secret.pk,
                                    user_id=people["member"].pk, choice="yes")
    actions.close_vote(identity=identities["secretary"], vote_id=secret.pk)
    draft = actions.create_vote(identity=identities["secretary"], meeting_id=meeting.pk, kind="motion", title="草案",
                                secret=False)
    with pytest.raises(Conflict):
        actions.enter_show_of_hands(identity=identities["secretary"], vote_id=draft.pk,
                                    user_id=people["member"].pk, choice="yes")
