"""通知台账: a branch's secretaries download the record of its announcements as CSV, a
year at a time or all: when and by whom each was posted, where it came from (下发),
how many of those expected have read it, and whether it was withdrawn."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from django.test import Client

from accounts.identity import identity_for_user
from announcements import actions
from announcements.models import Announcement

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def record(people, tree):
    secretary = identity_for_user(people["secretary"])
    old = actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="去年的通知", body="正文")
    # Posted on 2025-12-31 at 20:00 in Shanghai: that is 2025 on the branch's clock.
    Announcement.objects.filter(pk=old.pk).update(created_at=datetime(2025, 12, 31, 12, 0, tzinfo=timezone.utc))
    read = actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="周六志愿服务", body="正文")
    actions.read_announcements(identity=identity_for_user(people["member"]), branch_id=tree["a"].pk,
                               announcement_ids=[read.pk])
    gone = actions.post_announcement(identity=secretary, branch_id=tree["a"].pk, title="发错了", body="正文")
    actions.withdraw_announcement(identity=secretary, announcement_id=gone.pk)
    actions.post_announcement(identity=identity_for_user(people["committee_secretary"]), branch_id=tree["committee"].pk,
                              title="党委的通知", body="正文", also=[tree["a"].pk])
    actions.post_announcement(identity=identity_for_user(people["other_secretary"]), branch_id=tree["b"].pk,
                              title="第二支部的", body="正文")
    return {"read": read}


def test_the_secretary_downloads_a_year_or_all(people, tree, record):
    secretary = logged_in(people["secretary"])
    page = secretary.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    this_year = datetime.now().year
    assert f'announcements.csv?year={this_year}"' in page and 'announcements.csv?year=2025"' in page
    table = rows(secretary.get(f"/branches/{tree['a'].pk}/announcements.csv"))
    assert table[0] == ["发布时间", "标题", "发布人", "来自组织", "同时下发到", "已读", "应读人数", "撤回时间", "链接"]
    by_title = {row[1]: row for row in table[1:]}
    assert [row[1] for row in table[1:]] == ["去年的通知", "周六志愿服务", "发错了", "党委的通知"]  # oldest first
    assert by_title["去年的通知"][0] == "2025-12-31 20:00"  # on the branch's clock
    read = by_title["周六志愿服务"]
    assert read[2] == "Secretary" and read[5:7] == ["1", "3"]  # of the branch's 3 members besides its author
    assert read[8] == f"http://testserver/announcements/{record['read'].pk}/"
    assert by_title["发错了"][7] != ""  # withdrawn, and when
    assert by_title["党委的通知"][3] == "党委"  # a copy sent from above
    assert "第二支部的" not in by_title
    one_year = rows(secretary.get(f"/branches/{tree['a'].pk}/announcements.csv?year=2025"))
    assert [row[1] for row in one_year[1:]] == ["去年的通知"]
    # The committee's own record names where its original went.
    committee = rows(logged_in(people["committee_secretary"]).get(f"/branches/{tree['committee'].pk}/announcements.csv"))
    assert committee[1][1] == "党委的通知" and committee[1][4] == "第一党支部"


def test_only_its_secretaries(people, tree, record):
    url = f"/branches/{tree['a'].pk}/announcements.csv"
    assert logged_in(people["member"]).get(url).status_code == 403
    assert "announcements.csv" not in logged_in(people["member"]).get(
        f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert logged_in(people["other_secretary"]).get(url).status_code in (403, 404)
    assert Client().get(url).status_code == 302
