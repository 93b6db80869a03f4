"""支部概况: the branch's front page, for members and for those who run the branch."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.actions import create_citizen
from accounts.identity import identity_for_citizen, identity_for_user
from announcements.actions import post_announcement, read_announcements
from announcements.scheduling import schedule_announcement
from forum.actions import create_topic
from forum.discussions import open_discussion
from forum.models import Board
from frontend import overview
from meetings import actions as meeting_actions
from meetings.models import CommitteeMember

pytestmark = pytest.mark.django_db


def _page(client, user, branch, **params):
    client.force_login(user)
    return client.get(reverse("branch-overview", args=[branch.pk]), params)


def _meeting(identities, people, branch, *, kind="general", title="支部党员大会", starts_at=None, by="secretary"):
    starts = starts_at or timezone.now() + timedelta(days=2)
    return meeting_actions.schedule_meeting(
        identity=identities[by], branch_id=branch.pk, kind=kind, title=title, starts_at=starts,
        ends_at=starts + timedelta(hours=2), chair_id=people[by].pk, minute_taker_id=people[by].pk, agenda=["学习"])


@pytest.fixture
def branch_life(tree, people, identities):
    """A branch with a meeting the member asked leave for, two announcements (one
    read), a discussion open on its board, a citizen's post waiting for review and an
    announcement due to go out later."""
    a = tree["a"]
    meeting = _meeting(identities, people, a, title="十二月支部党员大会")
    leave = meeting_actions.request_leave(identity=identities["member"], meeting_id=meeting.pk, reason="出差")
    first = post_announcement(identity=identities["secretary"], branch_id=a.pk, title="学习材料已上传", body="请阅读。")
    post_announcement(identity=identities["secretary"], branch_id=a.pk, title="志愿服务报名", body="周六上午。")
    read_announcements(identity=identities["member"], branch_id=a.pk, announcement_ids=[first.pk])
    board = Board.objects.create(branch=a, name="支部交流")
    discussion = open_discussion(identity=identities["secretary"], board=board, title="如何做好社区服务",
                                 prompt="请谈谈看法。", opens_at=None, closes_at=timezone.now() + timedelta(days=3))
    public = Board.objects.create(branch=a, name="群众之声", visibility="public", citizens_may_post=True)
    citizen, _token = create_citizen(display_name="王阿姨")
    create_topic(identity=identity_for_citizen(citizen), board=public, title="路灯坏了", body="三号楼前的路灯不亮。")
    due = timezone.localtime(timezone.now() + timedelta(days=1), a.zone).strftime("%Y-%m-%dT%H:%M")
    schedule_announcement(identity=identities["secretary"], branch_id=a.pk, title="元旦慰问安排", body="见附件。",
                          publish_at=due)
    return {"meeting": meeting, "leave": leave, "discussion": discussion}


def test_a_member_sees_the_next_meeting_with_their_leave_the_news_and_open_discussions(client, tree, people,
                                                                                          branch_life):
    html = _page(client, people["member"], tree["a"]).content.decode()
    assert "十二月支部党员大会" in html
    assert "我的请假：" in html and "待审批" in html
    assert "学习材料已上传" in html and "志愿服务报名" in html
    assert 'id="overview-unread"' in html and "1 条未读" in html  # the other one was read
    assert "如何做好社区服务" in html
    # What waits on the branch's secretaries is theirs alone.
    assert "等您处理" not in html and "元旦慰问安排" not in html and "王阿姨" not in html
    assert 'id="rhythm-table"' not in html and "已读 " not in html


def test_the_secretary_sees_what_waits_on_them(client, tree, people, branch_life):
    html = _page(client, people["secretary"], tree["a"]).content.decode()
    assert "等您处理" in html
    assert "1 条请假待审批" in html
    leave_link = reverse("meetings:meeting", args=[branch_life["meeting"].pk]) + "#leave-panel"
    assert leave_link in html and "Member · 十二月支部党员大会" in html
    assert "1 条帖子待审核" in html and reverse("review-queue", args=[tree["a"].pk]) in html
    assert "1 条公告待发布" in html and "元旦慰问安排" in html
    assert "已读 1/" in html and "已读 0/" in html  # each announcement's readers
    assert 'id="rhythm-table"' in html
    assert "正式党员 3 名，预备党员 1 名" in html


def test_deciding_the_leave_takes_it_off_the_list(client, tree, people, identities, branch_life):
    meeting_actions.decide_leave(identity=identities["secretary"], leave_id=branch_life["leave"].pk, approve=True)
    html = _page(client, people["secretary"], tree["a"]).content.decode()
    assert "请假待审批" not in html
    member_html = _page(client, people["member"], tree["a"]).content.decode()
    assert "我的请假：" in member_html and "已批准" in member_html


def test_a_moderator_sees_the_review_queue_but_not_the_secretarys_work(client, tree, people, branch_life):
    html = _page(client, people["moderator"], tree["a"]).content.decode()
    assert "1 条帖子待审核" in html
    assert "请假待审批" not in html and "元旦慰问安排" not in html and 'id="rhythm-table"' not in html


def test_nothing_waiting_is_said_so(client, tree, people):
    html = _page(client, people["secretary"], tree["a"]).content.decode()
    assert "没有等您处理的事项" in html
    assert "暂无已安排的会议" in html and "暂无通知公告" in html


def test_the_page_is_for_those_who_read_the_branch(client, tree, people):
    for name in ("other_secretary", "outsider"):
        assert _page(client, people[name], tree["a"]).status_code == 404, name
    # A secretary of the branch above reads it, and runs it.
    html = _page(client, people["committee_secretary"], tree["a"]).content.decode()
    assert "等您处理" in html
    client.logout()
    response = client.get(reverse("branch-overview", args=[tree["a"].pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(people["member"])
    assert client.get(reverse("branch-overview", args=[999_999])).status_code == 404


def test_home_leads_a_member_to_their_first_branchs_overview(client, tree, people):
    client.force_login(people["member"])
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("branch-overview", args=[tree["a"].pk])


def test_the_fragment_is_the_body_alone_with_its_follow_list_on_the_page(client, tree, people, branch_life):
    fragment = _page(client, people["secretary"], tree["a"], fragment="body").content.decode()
    assert "十二月支部党员大会" in fragment and "<html" not in fragment
    html = _page(client, people["secretary"], tree["a"]).content.decode()
    a = tree["a"].pk
    for stream in (f"inbox:{people['secretary'].pk}", f"announcements:{a}", f"modqueue:{a}", f"scheduled:{a}",
                   f"receipts:{a}"):
        assert f'"stream": "{stream}"' in html, stream
    member_html = _page(client, people["member"], tree["a"]).content.decode()
    assert f"modqueue:{a}" not in member_html and f"receipts:{a}" not in member_html


def test_the_quarters_meetings_against_the_usual_rhythm(tree, people, identities, make_user):
    a = tree["a"]
    held = _meeting(identities, people, a, starts_at=timezone.now() + timedelta(minutes=5))
    for step in (meeting_actions.open_meeting, meeting_actions.start_meeting, meeting_actions.end_meeting):
        step(identity=identities["secretary"], meeting_id=held.pk)
    _meeting(identities, people, a, kind="committee", title="支委会", starts_at=held.starts_at + timedelta(hours=3))
    rows = {row["kind"]: row for row in overview.overview(identities["secretary"], a, now=held.starts_at)["rhythm"]}
    assert (rows["general"]["held"], rows["general"]["planned"], rows["general"]["short"]) == (1, 0, False)
    assert rows["lecture"]["short"]
    # Four party members: too few for a committee (seven), so no 支委会 is expected of them.
    assert (rows["committee"]["planned"], rows["committee"]["usual"], rows["committee"]["short"]) == (1, None, False)
    # With a committee (its seats recorded), three a quarter are.
    seat = CommitteeMember.objects.create(branch=a, user=people["member"], title="组织委员")
    rows = {row["kind"]: row for row in overview.overview(identities["secretary"], a, now=held.starts_at)["rhythm"]}
    assert (rows["committee"]["held"], rows["committee"]["planned"], rows["committee"]["usual"]) == (0, 1, 3)
    assert rows["committee"]["short"]
    # Or, with no seats recorded yet, seven party members: enough to have one.
    seat.delete()
    for i in range(3):
        make_user(f"full{i}", branch=a, roles=("full",))
    rows = {row["kind"]: row for row in overview.overview(identities["secretary"], a, now=held.starts_at)["rhythm"]}
    assert rows["committee"]["usual"] == 3
    assert "group" not in rows  # group meetings are the groups' own
    group_rows = overview.overview(identities["committee_secretary"], tree["a1"], now=held.starts_at)["rhythm"]
    assert [(r["kind"], r["usual"]) for r in group_rows] == [("group", 3)]


def test_the_quarter_begins_on_the_branchs_clock(tree):
    branch = tree["a"]  # Asia/Shanghai
    # 17:00 UTC on 31 December is already 1 January there.
    start = overview.quarter_start(datetime(2026, 12, 31, 17, 0, tzinfo=dt_timezone.utc), branch)
    assert (start.year, start.month, start.day, start.hour) == (2027, 1, 1, 0)
    assert start.utcoffset() == timedelta(hours=8)
    start = overview.quarter_start(datetime(2026, 12, 31, 15, 0, tzinfo=dt_timezone.utc), branch)
    assert (start.year, start.month) == (2026, 10)


def test_a_committee_secretary_sees_each_branch_below_at_a_glance(client, tree, people, identities, branch_life):
    _meeting(identities, people, tree["b"], kind="lecture", title="二支部党课", by="other_secretary")
    rows = {row["branch"].pk: row for row in
            overview.overview(identities["committee_secretary"], tree["committee"])["below"]}
    assert list(rows) == [tree["a"].pk, tree["a1"].pk, tree["b"].pk]  # tree order, the group under its branch
    a, a1, b = rows[tree["a"].pk], rows[tree["a1"].pk], rows[tree["b"].pk]
    assert (a["depth"], a1["depth"]) == (1, 2)
    assert a["members"] == {"full": 3, "probationary": 1} and b["members"] == {"full": 1, "probationary": 0}
    assert (a["waiting_leave"], b["waiting_leave"]) == (1, 0)
    assert a["next_meeting"].title == "十二月支部党员大会" and b["next_meeting"].title == "二支部党课"
    assert a1["next_meeting"] is None
    # Branch A has four party members and no committee: no 支委会 is missing there.
    assert "支部委员会" not in [label for label in map(str, a["short"])] and a["short"]
    html = _page(client, people["committee_secretary"], tree["committee"]).content.decode()
    assert "下级组织" in html and 'id="below-table"' in html
    assert 'id="rhythm-table"' not in html  # a 党委 holds no 三会一课 of its own
    assert reverse("branch-overview", args=[tree["b"].pk]) in html and "二支部党课" in html
    # A branch with nothing below has no such table, and its members never see one.
    assert "下级组织" not in _page(client, people["other_secretary"], tree["b"]).content.decode()
    assert "下级组织" not in _page(client, people["member"], tree["a"]).content.decode()


def test_more_branches_below_cost_no_more_queries(tree, people, identities, branch_life):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Branch

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            overview.overview(identities["committee_secretary"], tree["committee"])
        return len(captured)

    before = queries()
    for n in range(4):
        Branch.objects.create(name=f"第{n + 3}党支部", kind=Branch.Kind.BRANCH, parent=tree["committee"])
    assert queries() <= before + 1  # branches_below reads one more level of the tree at most


def test_members_who_came_to_no_meeting_for_six_months_are_listed_for_the_secretary(client, tree, people, identities,
                                                                                    make_user):
    from accounts.models import Membership
    from meetings.models import AttendanceInterval

    a = tree["a"]
    make_user("gone", branch=a, roles=("full",))
    excused = make_user("excused", branch=a, roles=("full",))
    left_branch = make_user("left_branch", branch=a, roles=("full",))
    abroad = make_user("abroad", branch=a, roles=("full",))
    held = []
    for n in range(2):
        soon = timezone.now() + timedelta(minutes=1)
        m = _meeting(identities, people, a, title=f"第{n + 1}次党员大会", starts_at=soon)
        if n == 0:
            leave = meeting_actions.request_leave(identity=identity_for_user(excused), meeting_id=m.pk, reason="出差")
            meeting_actions.decide_leave(identity=identities["secretary"], leave_id=leave.pk, approve=True)
        meeting_actions.add_exclusion(identity=identities["secretary"], meeting_id=m.pk, user_id=abroad.pk,
                                      reason="abroad")
        meeting_actions.start_meeting(identity=identities["secretary"], meeting_id=m.pk)
        for user in (people["secretary"], people["member"], people["moderator"]) + ((excused,) if n else ()):
            meeting_actions.join_meeting(identity=identity_for_user(user), meeting_id=m.pk)
            meeting_actions.record_join(meeting_id=m.pk, user_id=user.pk, at=timezone.now())
        meeting_actions.end_meeting(identity=identities["secretary"], meeting_id=m.pk)
        held.append(m)
    Membership.objects.filter(user=left_branch).delete()
    assert AttendanceInterval.objects.filter(meeting=held[0]).count() == 3

    found = overview.overview(identities["secretary"], a)["not_taking_part"]
    # Missed both without leave: gone and the probationary member. Excused came to the second;
    # the one abroad is not counted; the one who left the branch is not the branch's to follow up.
    assert [(p["name"], p["expected"], p["missed"]) for p in found["people"]] == [
        ("Gone", 2, 2), ("Probationary", 2, 2)]
    html = _page(client, people["secretary"], a).content.decode()
    assert "2 名党员近六个月未参加任何会议" in html and "应到 2 次，未请假缺席 2 次" in html
    # The committee's secretary sees how many each branch below has, and the branch's own list.
    rows = {row["branch"].pk: row for row in overview.overview(identities["committee_secretary"],
                                                               tree["committee"])["below"]}
    assert (rows[a.pk]["not_taking_part"], rows[tree["b"].pk]["not_taking_part"]) == (2, 0)
    # Each member sees their own year.
    mine = overview.overview(identity_for_user(excused), a)["my_year"]
    assert (mine["expected"], mine["came"], mine["excused"], mine["absent"]) == (2, 1, 1, 0)
    assert overview.overview(identity_for_user(abroad), a)["my_year"]["expected"] == 0  # not counted at either
    assert "应到 2 次，参加 1 次，请假 1 次，缺席 0 次" in _page(client, excused, a).content.decode()
    # And the meetings themselves, on their own page, which the calendar links to.
    client.force_login(excused)
    assert reverse("meetings:own-record", args=[a.pk]) in client.get(
        reverse("meetings:calendar", args=[a.pk])).content.decode()
    own = client.get(reverse("meetings:own-record", args=[a.pk])).content.decode()
    assert own.count('<tr data-status="') == 2
    assert '<tr data-status="excused">' in own and '<tr data-status="present">' in own
    assert 'id="count-came">1<' in own and 'id="count-excused">1<' in own
    long_ago = client.get(reverse("meetings:own-record", args=[a.pk]), {"year": 2001}).content.decode()
    assert 'id="count-expected">0<' in long_ago
    client.force_login(people["other_secretary"])
    assert client.get(reverse("meetings:own-record", args=[a.pk])).status_code == 404
    # Older than six months does not count.
    from meetings.models import Meeting

    Meeting.objects.filter(pk__in=[m.pk for m in held]).update(started_at=timezone.now() - timedelta(days=200))
    assert overview.overview(identities["secretary"], a)["not_taking_part"]["people"] == []
    assert "近六个月未参加" not in _page(client, people["member"], a).content.decode()


def test_a_meeting_in_session_online_offers_its_room(client, tree, people, identities, branch_life):
    meeting = branch_life["meeting"]
    assert "进入会议室" not in _page(client, people["member"], tree["a"]).content.decode()
    meeting_actions.open_meeting(identity=identities["secretary"], meeting_id=meeting.pk)
    html = _page(client, people["member"], tree["a"]).content.decode()
    assert 'id="overview-running"' in html and "进入会议室" in html
    assert f'href="/meetings/{meeting.pk}/">进入会议室' in html


def test_minutes_not_yet_signed_wait_on_the_secretary(client, tree, people, identities):
    a = tree["a"]
    held = meeting_actions.schedule_meeting(
        identity=identities["secretary"], branch_id=a.pk, kind="general", title="十一月支部党员大会",
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1),
        chair_id=people["secretary"].pk, minute_taker_id=people["member"].pk)
    for step in (meeting_actions.start_meeting, meeting_actions.end_meeting):
        step(identity=identities["secretary"], meeting_id=held.pk)
    (waiting,) = overview.overview(identities["secretary"], a)["unsigned_minutes"]
    assert waiting.pk == held.pk and waiting.waiting_for == ["Secretary", "Member"]
    meeting_actions.sign_minutes(identity=identities["member"], meeting_id=held.pk)
    html = _page(client, people["secretary"], a).content.decode()
    assert 'id="todo-minutes"' in html and "十一月支部党员大会" in html and "Secretary" in html
    # Members do not see the secretary's list.
    assert 'id="todo-minutes"' not in _page(client, people["probationary"], a).content.decode()
    meeting_actions.sign_minutes(identity=identities["secretary"], meeting_id=held.pk)
    assert overview.overview(identities["secretary"], a)["unsigned_minutes"] == []
    assert 'id="todo-minutes"' not in _page(client, people["secretary"], a).content.decode()
