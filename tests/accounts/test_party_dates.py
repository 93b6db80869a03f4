"""入党日期: the secretary records the day a member joined the party (admitted as a
probationary member); the members page shows when a probationary year ends, the
overview and the weekly summary tell the branch's secretaries of years ending within a
month or over, and of the political birthdays of the week, and greet the member on theirs."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import members, outbox, party_dates
from accounts.models import Membership
from frontend import overview, weekly
from moderation.models import AuditEntry
from realtime.errors import Invalid

pytestmark = pytest.mark.django_db


def today(tree) -> date:
    return timezone.localdate(timezone.now(), tree["a"].zone)


def admitted(people, name="probationary") -> date | None:
    return Membership.objects.get(user=people[name], role="probationary").since


def test_the_year_ends_a_year_on():
    assert party_dates.ends(date(2026, 1, 15)) == date(2027, 1, 15)
    assert party_dates.ends(date(2024, 2, 29)) == date(2025, 2, 28)


def test_the_secretary_records_the_day_with_the_standing(tree, people, identities):
    a = tree["a"].pk
    day = today(tree) - timedelta(days=200)
    members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["probationary"].pk,
                         standing="probationary", moderator=False, since=day.isoformat())
    assert admitted(people) == day
    entry = AuditEntry.objects.filter(action="member.joined_party").get()
    assert entry.before["since"] is None and entry.after["since"] == day.isoformat()
    # Not given: kept (the standing form of a page without the field).
    members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["probationary"].pk,
                         standing="probationary", moderator=True)
    assert admitted(people) == day
    for wrong in ("2026-02-30", "yesterday", (today(tree) + timedelta(days=1)).isoformat(), "1900-01-01"):
        with pytest.raises(Invalid) as refused:
            members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["probationary"].pk,
                                 standing="probationary", moderator=True, since=wrong)
        assert refused.value.field == "since"
    assert admitted(people) == day  # a refusal changes nothing
    members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["probationary"].pk,
                         standing="probationary", moderator=True, since="")
    assert admitted(people) is None
    members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["probationary"].pk,
                         standing="probationary", moderator=True, since=day.isoformat())
    # 转正: the day they joined stays, on the full member's row.
    members.set_standing(identity=identities["secretary"], branch_id=a, user_id=people["probationary"].pk,
                         standing="full", moderator=False)
    assert not Membership.objects.filter(user=people["probationary"], branch=tree["a"], role="probationary").exists()
    assert Membership.objects.get(user=people["probationary"], branch=tree["a"], role="full").since == day
    from accounts import personal_data

    copy = personal_data.collect(people["probationary"])["memberships"]
    assert {"branch": {"id": a, "name": "第一党支部", "kind": "branch"}, "role": "full",
            "joined_party": day.isoformat()} in copy


def test_a_member_is_added_with_the_day_they_joined(tree, identities):
    day = today(tree) - timedelta(days=30)
    user, _new = members.add_member(identity=identities["secretary"], branch_id=tree["a"].pk, username="xinren",
                                    name="新人", standing="probationary", since=day.isoformat())
    assert Membership.objects.get(user=user, role="probationary").since == day
    full, _new = members.add_member(identity=identities["secretary"], branch_id=tree["a"].pk, username="laodang",
                                    name="老党员", standing="full", moderator=True, since="2001-07-01")
    assert dict(Membership.objects.filter(user=full).values_list("role", "since")) == {
        "full": date(2001, 7, 1), "moderator": None}


def test_the_members_page_shows_the_end_of_the_year_to_secretaries(client, tree, people):
    Membership.objects.filter(user=people["probationary"], role="probationary").update(
        since=today(tree) - timedelta(days=350))
    ends = party_dates.ends(today(tree) - timedelta(days=350))
    client.force_login(people["secretary"])
    page = client.get(f"/branches/{tree['a'].pk}/members/").content.decode()
    assert f"预备期至 {ends:%Y-%m-%d}" in page and "probation is-due" in page
    assert 'name="since"' in page
    client.force_login(people["member"])
    assert "预备期至" not in client.get(f"/branches/{tree['a'].pk}/members/").content.decode()


def test_the_overview_lists_years_ending_within_a_month_or_over(client, tree, people, make_user):
    now = today(tree)
    Membership.objects.filter(user=people["probationary"], role="probationary").update(
        since=now - timedelta(days=365 - 10))  # ends in ten days
    late = make_user("late", branch=tree["a"], roles=("probationary",))
    Membership.objects.filter(user=late).update(since=now - timedelta(days=400))  # ended 35 days ago
    far = make_user("far", branch=tree["a"], roles=("probationary",))
    Membership.objects.filter(user=far).update(since=now - timedelta(days=100))
    make_user("unknown", branch=tree["a"], roles=("probationary",))

    found = party_dates.due([tree["a"].pk], now)[tree["a"].pk]
    assert [p["name"] for p in found["people"]] == ["Late", "Probationary"] and found["missing"] == 1
    assert [p["days"] for p in found["people"]] == [-35, 10]

    client.force_login(people["secretary"])
    html = client.get(f"/branches/{tree['a'].pk}/").content.decode()
    assert "2 名预备党员预备期将满或已满" in html
    assert f"/branches/{tree['a'].pk}/members/#member-{people['probationary'].pk}" in html
    assert "还有 10 天" in html and "已过 35 天" in html and "Far" not in html
    assert "1 名预备党员未填写接收日期" in html
    client.force_login(people["member"])
    assert "预备期" not in client.get(f"/branches/{tree['a'].pk}/").content.decode()
    assert "probation" not in overview.overview(identities_of(people["moderator"]), tree["a"])


def identities_of(user):
    from accounts.identity import identity_for_user

    return identity_for_user(user)


@pytest.mark.django_db(transaction=True)
def test_a_year_ending_alone_sends_the_weekly_summary(settings, tree, people):
    settings.SENDS_EMAIL = True
    people["secretary"].email = "secretary@example.org"
    people["secretary"].save()
    Membership.objects.filter(user=people["probationary"], role="probationary").update(
        since=today(tree) - timedelta(days=365 - 3))
    outbox.wait_idle()
    mail.outbox.clear()
    local = timezone.now().astimezone(tree["a"].zone)
    next_monday = (local + timedelta(days=7 - local.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    weekly.send_due(now=next_monday)
    outbox.wait_idle()
    (message,) = [m for m in mail.outbox if m.to == ["secretary@example.org"]]
    assert "1 名预备党员预备期将满" in message.subject
    assert "- Probationary (" in message.body and f"/branches/{tree['a'].pk}/members/" in message.body


def test_political_birthdays_of_the_week_and_the_members_own(client, tree, people, make_user):
    now = today(tree)
    Membership.objects.filter(user=people["member"], role="full").update(since=now.replace(year=now.year - 12))
    soon = now + timedelta(days=3)  # (in the next year, near the end of December)
    Membership.objects.filter(user=people["moderator"], role="full").update(since=soon.replace(year=soon.year - 5))
    Membership.objects.filter(user=people["secretary"], role="full").update(
        since=(now + timedelta(days=20)).replace(year=now.year - 30))  # not this week
    Membership.objects.filter(user=people["probationary"], role="probationary").update(since=now)  # joined today

    found = party_dates.anniversaries([tree["a"].pk], now)[tree["a"].pk]
    assert [(p["name"], p["years"], p["days"]) for p in found] == [("Member", 12, 0), ("Moderator", 5, 3)]
    assert party_dates.next_anniversary(date(2024, 2, 29), date(2025, 2, 1)) == (date(2025, 2, 28), 1)

    client.force_login(people["secretary"])
    html = client.get(f"/branches/{tree['a'].pk}/").content.decode()
    assert "本周政治生日" in html and "今天，入党 12 周年" in html and "入党 5 周年" in html
    assert 'id="my-anniversary"' not in html
    client.force_login(people["member"])
    html = client.get(f"/branches/{tree['a'].pk}/").content.decode()
    assert "今天是您的政治生日" in html and "至今已 12 年" in html
    assert "本周政治生日" not in html  # the list is the secretaries'
    client.force_login(people["probationary"])
    assert 'id="my-anniversary"' not in client.get(f"/branches/{tree['a'].pk}/").content.decode()  # day one



def test_the_bell_greets_a_member_on_their_political_birthday(tree, people):
    """Once, on the day on the branch's clock (Shanghai, UTC+8), from 08:00; not for
    someone who joined less than a year ago, nor for a closed account; a day missed is
    not made up."""
    from datetime import datetime
    from datetime import timezone as dt_timezone

    from accounts.models import AnniversaryGreeted
    from frontend.notification_text import describe
    from realtime.models import Event

    member = people["member"]
    Membership.objects.filter(user=member, role="full").update(since=date(2021, 7, 1))
    Membership.objects.filter(user=people["probationary"], role="probationary").update(since=date(2027, 7, 1))
    Membership.objects.filter(user=people["moderator"], role="full").update(since=date(2020, 7, 1))
    people["moderator"].is_active = False
    people["moderator"].save(update_fields=["is_active"])

    def at(day: int, hour: int) -> datetime:  # Shanghai time, as UTC
        return datetime(2027, 7, day, hour, tzinfo=dt_timezone.utc) - timedelta(hours=8)

    def greetings(user):
        return list(Event.objects.filter(stream_id=f"inbox:{user.pk}", type="party.anniversary"))

    assert party_dates.greet_due(at(1, 7)) == 0  # before eight on the day
    assert party_dates.greet_due(at(1, 8)) == 1
    assert party_dates.greet_due(at(1, 9)) == 0  # once
    (event,) = greetings(member)
    assert event.data == {"since": "2021-07-01", "years": 6, "branch": {"id": tree["a"].pk, "name": tree["a"].name}}
    (item,) = describe([event])
    assert "2021-07-01" in item["text"] and "6" in item["text"] and item["url"].endswith(f"/branches/{tree['a'].pk}/")
    assert greetings(people["probationary"]) == [] and greetings(people["moderator"]) == []
    # The next year, and not a day late.
    assert party_dates.greet_due(at(2, 9).replace(year=2028)) == 0
    assert party_dates.greet_due(at(1, 9).replace(year=2028)) == 2  # the probationary one's first, too
    assert AnniversaryGreeted.objects.filter(user=member).count() == 2


def test_the_secretary_puts_a_members_转正_on_the_next_general_meeting(client, tree, people, identities):
    from django.urls import reverse

    from meetings import actions as meeting_actions
    from meetings.models import AgendaItem
    from realtime.models import Event

    a = tree["a"]
    Membership.objects.filter(user=people["probationary"], role="probationary").update(
        since=today(tree) - timedelta(days=360))
    url = reverse("probation-agenda", args=[a.pk, people["probationary"].pk])
    client.force_login(people["secretary"])
    # No general meeting yet: the page says to schedule one, and the button is not there.
    html = client.get(f"/branches/{a.pk}/").content.decode()
    assert "尚未安排支部党员大会" in html and url not in html
    refused = client.post(url, follow=True).content.decode()
    assert "尚未安排支部党员大会" in refused

    starts = timezone.now() + timedelta(days=5)
    meeting = meeting_actions.schedule_meeting(
        identity=identities["secretary"], branch_id=a.pk, kind="general", title="十二月支部党员大会",
        starts_at=starts, ends_at=starts + timedelta(hours=2), chair_id=people["secretary"].pk, agenda=["学习"])
    html = client.get(f"/branches/{a.pk}/").content.decode()
    assert url in html and "列入“十二月支部党员大会”议程" in html
    done = client.post(url, follow=True).content.decode()
    assert "已列入“十二月支部党员大会”的议程" in done
    titles = list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("title", flat=True))
    assert titles == ["学习", "讨论Probationary同志预备期满转为正式党员问题"]
    assert Event.objects.filter(stream_id=f"inbox:{people['member'].pk}", type="meeting.changed",
                                data__changes=["agenda"]).exists()  # the members hear of the new agenda
    html = client.get(f"/branches/{a.pk}/").content.decode()
    assert "已列入“十二月支部党员大会”议程" in html and url not in html
    again = client.post(url, follow=True).content.decode()  # not twice
    assert "已列入“十二月支部党员大会”的议程" in again and AgendaItem.objects.filter(meeting=meeting).count() == 2
    # Nor again from the English page, nor offered there.
    client.cookies["django_language"] = "en"
    english = client.post(url, follow=True).content.decode()
    assert "already" in english and AgendaItem.objects.filter(meeting=meeting).count() == 2
    assert url not in client.get(f"/branches/{a.pk}/").content.decode()
    client.cookies["django_language"] = "zh-hans"
    # Only the secretary; only for a probationary member listed there.
    client.force_login(people["moderator"])
    assert client.post(url).status_code == 403
    client.force_login(people["secretary"])
    assert client.post(reverse("probation-agenda", args=[a.pk, people["member"].pk])).status_code == 404
    assert client.get(url).status_code == 405


def test_the_overview_follows_a_转正_from_the_agenda_to_the_vote_and_the_standing(client, tree, people, identities):
    from django.urls import reverse

    from meetings import actions as meeting_actions
    from meetings.models import AgendaItem

    a, secretary = tree["a"], identities["secretary"]
    since = today(tree) - timedelta(days=370)
    Membership.objects.filter(user=people["probationary"], role="probationary").update(since=since)
    to_agenda = reverse("probation-agenda", args=[a.pk, people["probationary"].pk])
    to_full = reverse("probation-full", args=[a.pk, people["probationary"].pk])
    client.force_login(people["secretary"])

    def step() -> str | None:
        html = client.get(f"/branches/{a.pk}/").content.decode()
        found = re.search(r'data-step="(\w+)"[^>]*>([^<]*)<', html)
        return found and f"{found[1]}: {found[2]}"

    def general(title: str):
        starts = timezone.now() + timedelta(days=3)
        return meeting_actions.schedule_meeting(
            identity=secretary, branch_id=a.pk, kind="general", title=title, starts_at=starts,
            ends_at=starts + timedelta(hours=2), chair_id=people["secretary"].pk, agenda=["学习"])

    def vote(meeting, choice: str):
        item = AgendaItem.objects.get(meeting=meeting, title__contains="转为正式党员")
        motion = meeting_actions.create_vote(identity=secretary, meeting_id=meeting.pk, kind="motion",
                                             title="表决", secret=False, agenda_item_id=item.pk)
        meeting_actions.open_vote(identity=secretary, vote_id=motion.pk)
        for name in ("secretary", "member", "moderator"):  # hands shown in the room
            meeting_actions.enter_show_of_hands(identity=secretary, vote_id=motion.pk, user_id=people[name].pk,
                                                choice=choice)
        return meeting_actions.close_vote(identity=secretary, vote_id=motion.pk)

    def start(meeting):
        meeting_actions.start_meeting(identity=secretary, meeting_id=meeting.pk)
        for name in ("secretary", "member", "moderator"):
            meeting_actions.check_in(identity=secretary, meeting_id=meeting.pk, user_id=people[name].pk)

    assert step() is None
    # Nothing to set before a vote: refused, nothing changed.
    refused = client.post(to_full, follow=True).content.decode()
    assert "尚无支部党员大会表决通过Probationary同志转为正式党员，未作任何更改。" in refused
    assert Membership.objects.filter(user=people["probationary"], branch=a, role="probationary").exists()

    first = general("一月支部党员大会")
    client.post(to_agenda)
    assert step() == "agenda: 已列入“一月支部党员大会”议程"
    start(first)
    assert step() == "discussing: 正在“一月支部党员大会”上讨论"
    meeting_actions.end_meeting(identity=secretary, meeting_id=first.pk)
    assert step() == "undecided: 已列入“一月支部党员大会”议程，会上未表决"

    second = general("二月支部党员大会")
    assert to_agenda in client.get(f"/branches/{a.pk}/").content.decode()  # again, on the next one
    client.post(to_agenda)
    assert step() == "agenda: 已列入“二月支部党员大会”议程"
    # The member sees it on their own front page too.
    client.force_login(people["probationary"])
    mine = client.get(f"/branches/{a.pk}/").content.decode()
    assert (f'<p class="small" id="my-probation">您的预备期已于 {party_dates.ends(since).isoformat()} 届满。 '
            "已列入“二月支部党员大会”议程。</p>") in mine
    client.force_login(people["secretary"])
    start(second)
    assert vote(second, "no").passed is False
    day = today(tree).isoformat()
    assert step() == f"failed: {day} 经“二月支部党员大会”表决未通过"
    html = client.get(f"/branches/{a.pk}/").content.decode()
    assert to_full not in html
    assert f'href="/branches/{a.pk}/members/#member-{people["probationary"].pk}">延长预备期</a>' in html
    assert vote(second, "yes").passed is True  # the last vote on it decides
    assert step() == f"passed: {day} 经“二月支部党员大会”表决通过"
    html = client.get(f"/branches/{a.pk}/").content.decode()
    assert to_full in html and "上级党委已审批：转为正式党员" in html
    # The weekly summary says where it stands too.
    from django.template.loader import render_to_string

    parts = weekly.collect(people["secretary"])
    assert [p["step"] for p in parts[0]["probation"]] == ["passed"]
    context = {"name": "", "parts": parts, "base": "", "account_url": "", "unsubscribe_url": "", "subject": "",
               "summary": ""}
    for template in ("frontend/email/weekly.txt", "frontend/email/weekly.html"):
        assert f"{day} 经“二月支部党员大会”表决通过" in render_to_string(template, context)

    # Only the secretary; only by POST.
    client.force_login(people["moderator"])
    assert client.post(to_full).status_code == 403
    client.force_login(people["secretary"])
    assert client.get(to_full).status_code == 405
    done = client.post(to_full, follow=True).content.decode()
    assert f"Probationary同志已转为正式党员，自预备期满之日（{party_dates.ends(since).isoformat()}）算起。" in done
    assert Membership.objects.get(user=people["probationary"], branch=a, role="full").since == since  # kept
    assert not Membership.objects.filter(user=people["probationary"], role="probationary").exists()
    from frontend.notification_text import describe
    from realtime.models import Event

    told = Event.objects.filter(stream_id=f"inbox:{people['probationary'].pk}", type="party.full_member").get()
    assert told.data == {"from": party_dates.ends(since).isoformat(), "branch": {"id": a.pk, "name": a.name}}
    (said,) = describe([told])
    assert said["text"] == f"您已转为正式党员（第一党支部），自 {party_dates.ends(since).isoformat()} 起。"
    entry = AuditEntry.objects.filter(action="member.roles").last()
    assert entry.before["roles"] == ["probationary"] and entry.after["roles"] == ["full"]
    assert 'id="todo-probation"' not in done  # nobody left on the list
    assert client.post(to_full).status_code == 404  # a second click: no longer probationary


def test_an_extended_probationary_period(client, tree, people, identities):
    """延长预备期: after the general meeting decided it (and the committee above approved),
    the secretary records the day the period now ends; it moves the end everywhere."""
    a, secretary, who = tree["a"], identities["secretary"], people["probationary"]
    since = today(tree) - timedelta(days=380)
    row = Membership.objects.get(user=who, role="probationary")
    Membership.objects.filter(pk=row.pk).update(since=None)

    def extend(value, **standing):
        return members.set_standing(identity=secretary, branch_id=a.pk, user_id=who.pk,
                                    standing=standing.get("standing", "probationary"), moderator=False,
                                    probation_until=value)

    first = party_dates.ends(since)
    with pytest.raises(Invalid) as refused:  # no day of admission: nothing to run on from
        extend((first + timedelta(days=90)).isoformat())
    assert "入党日期" in refused.value.message
    Membership.objects.filter(pk=row.pk).update(since=since)
    latest = party_dates.longest_extension(since)
    said = []
    for wrong in (first.isoformat(), (latest + timedelta(days=1)).isoformat(), "next spring", "2026-02-30"):
        with pytest.raises(Invalid) as refused:
            extend(wrong)
        assert refused.value.field == "probation_until"
        said.append(str(refused.value.message))
    assert f"原预备期满之日（{first.isoformat()}）之后、最迟于 {latest.isoformat()} 结束" in said[0]
    assert said[1] == said[0] and said[2] == said[3] == "请填写日期，例如 2026-07-01。"
    row.refresh_from_db()
    assert row.probation_until is None and not AuditEntry.objects.filter(action="member.probation_extended")

    # Half a year on: off the list of years ending until a month before the new end.
    until = first + timedelta(days=182)
    extend(until.isoformat())
    row.refresh_from_db()
    assert row.probation_until == until and row.since == since
    entry = AuditEntry.objects.get(action="member.probation_extended")
    assert entry.before["until"] is None and entry.after["until"] == until.isoformat()
    from frontend.notification_text import describe
    from realtime.models import Event

    (told,) = Event.objects.filter(stream_id=f"inbox:{who.pk}", type="party.probation_extended")
    (said,) = describe([told])
    assert said["text"] == f"您在第一党支部的预备期已延长至 {until.isoformat()}。"
    assert party_dates.due([a.pk], today(tree))[a.pk]["people"] == []
    near = until - timedelta(days=10)
    (person,) = party_dates.due([a.pk], near)[a.pk]["people"]
    assert person["ends"] == until and person["extended"] and person["days"] == 10

    client.force_login(who)  # their own front page
    days = (until - today(tree)).days
    assert f"您的预备期至 {until.isoformat()}，还有 {days} 天。 预备期已延长。</p>" in client.get(
        f"/branches/{a.pk}/").content.decode()
    client.force_login(people["secretary"])
    page = client.get(f"/branches/{a.pk}/members/").content.decode()
    assert f"预备期已延长至 {until.isoformat()}" in page
    assert f'name="probation_until" value="{until.isoformat()}"' in page and f'max="{latest.isoformat()}"' in page
    api = client.get(f"/api/branches/{a.pk}/members").json()["members"]
    assert next(m for m in api if m["id"] == who.pk)["probation_ends"] == until.isoformat()
    from accounts import personal_data

    (mine,) = [m for m in personal_data.collect(who)["memberships"] if m["branch"]["id"] == a.pk]
    assert mine["probation_extended_to"] == until.isoformat()  # 我的数据
    # The overview lists them again near the new end, marked.
    Membership.objects.filter(pk=row.pk).update(since=since - (near - today(tree)),
                                                probation_until=until - (near - today(tree)))
    html = client.get(f"/branches/{a.pk}/").content.decode()
    assert "预备期已延长" in html and 'id="todo-probation"' in html

    # The form sends the field back unchanged; "" takes it back to the year.
    assert client.post(f"/branches/{a.pk}/members/{who.pk}/standing/",
                       {"standing": "probationary", "probation_until": ""}).status_code == 302
    row.refresh_from_db()
    assert row.probation_until is None
    extend((party_dates.ends(row.since) + timedelta(days=30)).isoformat())
    # 转正 with the field still in the form: the extension goes with the probationary row.
    extend((party_dates.ends(row.since) + timedelta(days=30)).isoformat(), standing="full")
    assert Membership.objects.get(user=who, branch=a, role="full").probation_until is None
    assert not Membership.objects.filter(user=who, branch=a, role="probationary").exists()


def test_a_probationary_member_is_reminded_to_ask_for_转正_a_week_before(tree, people, identities):
    """转正申请: once per end of the period, within the last week of it on the branch's
    clock (Shanghai), from 08:00; a day missed is made up within the week; an extension
    brings a reminder for its own end; not for a full member."""
    from datetime import datetime
    from datetime import timezone as dt_timezone

    from accounts.models import ProbationReminded
    from frontend.notification_text import describe
    from realtime.models import Event

    who = people["probationary"]
    Membership.objects.filter(user=who, role="probationary").update(since=date(2026, 7, 10))  # ends 2027-07-10
    Membership.objects.filter(user=people["member"], role="full").update(since=date(2026, 7, 10))  # full: never

    def at(day: int, hour: int) -> datetime:  # Shanghai time, as UTC
        return datetime(2027, 7, day, hour, tzinfo=dt_timezone.utc) - timedelta(hours=8)

    def reminders():
        return list(Event.objects.filter(stream_id=f"inbox:{who.pk}", type="party.probation_ending"))

    assert party_dates.remind_due(at(2, 9)) == 0  # eight days before
    assert party_dates.remind_due(at(3, 7)) == 0  # seven days before, before eight
    # The server was down on the 3rd: made up on the 5th, once.
    assert party_dates.remind_due(at(5, 8)) == 1
    assert party_dates.remind_due(at(6, 9)) == 0
    (event,) = reminders()
    assert event.data == {"ends": "2027-07-10", "branch": {"id": tree["a"].pk, "name": tree["a"].name}}
    (item,) = describe([event])
    assert item["text"] == "您在第一党支部的预备期将于 2027-07-10 届满，请在期满前向党支部提交书面转正申请。"
    assert party_dates.remind_due(at(10, 9)) == 0  # the day it ends: over

    # Extended by three months: reminded again before the new end.
    members.set_standing(identity=identities["secretary"], branch_id=tree["a"].pk, user_id=who.pk,
                         standing="probationary", moderator=False, probation_until="2027-10-10")
    assert party_dates.remind_due(datetime(2027, 10, 4, 2, tzinfo=dt_timezone.utc)) == 1  # 10:00 in Shanghai
    assert [e.data["ends"] for e in reminders()] == ["2027-07-10", "2027-10-10"]
    assert ProbationReminded.objects.filter(user=who).count() == 2
