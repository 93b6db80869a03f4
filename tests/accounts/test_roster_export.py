"""花名册: a branch's members as records: as a spreadsheet for its secretaries (the members
page's secretary view, times in the branch's zone), and over the HTTP API (names and
roles for its members, the rest for its secretaries only)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
from django.test import Client

from accounts.models import Membership, TwoFactor

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def recorded(people):
    member = people["member"]
    member.email = "member@example.org"
    member.first_name = "张党员"
    member.last_login = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    member.save()
    TwoFactor.objects.create(user=people["moderator"], confirmed_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
    Membership.objects.filter(user=people["probationary"], role="probationary").update(since=date(2024, 2, 29))
    return people


def rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # for Excel
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_secretary_downloads_the_list(recorded, tree):
    people = recorded
    secretary = logged_in(people["secretary"])
    page = secretary.get(f"/branches/{tree['a'].pk}/members/").content.decode()
    assert f'href="/branches/{tree["a"].pk}/members.csv"' in page
    response = secretary.get(f"/branches/{tree['a'].pk}/members.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and "members.csv" not in response["Content-Disposition"]
    table = rows(response)
    assert table[0] == ["姓名", "用户名", "角色", "电子邮箱", "上次登录", "两步验证", "入党日期", "预备期满日期",
                        "表决权、选举权和被选举权"]
    by_username = {row[1]: row for row in table[1:]}
    assert by_username["member"] == ["张党员", "member", "正式党员", "已填写", "2026-12-01 09:30", "未开启", "", "", ""]
    assert by_username["moderator"][2:6] == ["版主、正式党员", "未填写", "从未登录", "已开启"]
    assert by_username["probationary"][6:8] == ["2024-02-29", "2025-02-28"]  # a leap day's year ends on the 28th
    assert by_username["secretary"][2] == "支部书记、正式党员"
    assert "other_secretary" not in by_username and "outsider" not in by_username  # branch A's only
    assert "member@example.org" not in response.content.decode()  # whether on file, not the address


def test_only_its_secretaries_get_the_spreadsheet(recorded, tree):
    url = f"/branches/{tree['a'].pk}/members.csv"
    assert logged_in(recorded["member"]).get(url).status_code == 403
    assert logged_in(recorded["other_secretary"]).get(url).status_code in (403, 404)
    assert logged_in(recorded["outsider"]).get(url).status_code in (403, 404)
    assert Client().get(url).status_code == 302  # to the login page
    # A secretary of the branch above keeps it too.
    assert logged_in(recorded["committee_secretary"]).get(url).status_code == 200


def test_the_api_gives_members_names_and_roles_and_secretaries_the_rest(recorded, tree):
    url = f"/api/branches/{tree['a'].pk}/members"
    as_member = logged_in(recorded["member"]).get(url).json()["members"]
    mine = next(m for m in as_member if m["id"] == recorded["member"].pk)
    assert mine == {"id": recorded["member"].pk, "name": "张党员", "roles": ["full"]}
    as_secretary = logged_in(recorded["secretary"]).get(url).json()["members"]
    mine = next(m for m in as_secretary if m["id"] == recorded["member"].pk)
    assert mine["username"] == "member" and mine["email_on_file"] is True and mine["two_factor"] is False
    recorded["member"].refresh_from_db()  # logged in just now, above
    assert mine["last_login"] == recorded["member"].last_login.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert next(m for m in as_secretary if m["id"] == recorded["moderator"].pk)["last_login"] is None
    probationary = next(m for m in as_secretary if m["id"] == recorded["probationary"].pk)
    assert probationary["joined_party"] == "2024-02-29" and probationary["probation_ends"] == "2025-02-28"
    assert mine["joined_party"] is None and mine["probation_ends"] is None
    assert next(m for m in as_secretary if m["id"] == recorded["secretary"].pk)["roles"] == ["secretary", "full"]
    assert [m["name"] for m in as_secretary] == sorted(m["name"] for m in as_secretary)
    assert logged_in(recorded["outsider"]).get(url).status_code == 403
    assert Client().get(url).status_code == 401
