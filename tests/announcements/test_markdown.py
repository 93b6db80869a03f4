"""Announcements are written in Markdown (as forum posts are) and rendered once, on the
server, into sanitised HTML that every page and frame carries (`body_html`); a line
break the secretary typed stays a line break."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.identity import identity_for_user
from announcements import actions
from announcements.models import Announcement
from realtime.testing import capture_events

pytestmark = pytest.mark.django_db

SOURCE = (
    "**重要**：周六上午九点集合\n请穿便装\n\n- 签到\n- 学习\n\n"
    "<script>alert(1)</script> [坏链接](javascript:alert(1)) [通知原文](https://example.org/a)"
)


def post(people, tree, body=SOURCE) -> Announcement:
    return actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                     title="通知", body=body)


def test_the_body_is_rendered_and_sanitised_once_and_carried_in_the_frame(people, tree):
    with capture_events() as events:
        a = post(people, tree)
    html = Announcement.objects.get(pk=a.pk).body_html
    assert "<strong>重要</strong>：周六上午九点集合<br>" in html and "请穿便装" in html  # the typed break stays
    assert "<ul>" in html and "<li>签到</li>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # HTML in the source is text
    assert "href=\"javascript" not in html and "[坏链接](javascript:alert(1))" in html  # left as text
    assert 'href="https://example.org/a"' in html and 'rel="nofollow noopener noreferrer"' in html
    data = events[0].data
    assert data["body"] == SOURCE and data["body_html"] == html  # the source stays, for editing


def test_an_edit_renders_the_new_text(people, tree):
    a = post(people, tree, body="原文")
    with capture_events() as events:
        actions.edit_announcement(identity=identity_for_user(people["secretary"]), announcement_id=a.pk,
                                  title="通知", body="改为 *下午*")
    assert events[0].data["body_html"] == "<p>改为 <em>下午</em></p>"
    assert Announcement.objects.get(pk=a.pk).body_html == "<p>改为 <em>下午</em></p>"


def test_the_page_shows_the_rendered_text(people, tree):
    post(people, tree)
    client = Client()
    client.force_login(people["member"])
    page = client.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert "<strong>重要</strong>" in page and "<script>alert" not in page
    listed = client.get(f"/api/branches/{tree['a'].pk}/announcements").json()["announcements"][0]
    assert "<li>签到</li>" in listed["body_html"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_renders_announcements_written_before_markdown():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("announcements", "0002_edit_and_withdraw")], [("announcements", "0003_body_html")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    branch = old.get_model("accounts", "Branch").objects.create(name="支部", kind="branch")
    author = old.get_model("auth", "User").objects.create(username="old_author")
    row = old.get_model("announcements", "Announcement").objects.create(
        branch=branch, author=author, title="旧通知", body="第一行\n**第二行**")
    executor = MigrationExecutor(connection)  # a fresh graph, as `migrate` would build
    executor.migrate(after)
    rendered = executor.loader.project_state(after).apps.get_model("announcements", "Announcement")
    assert rendered.objects.get(pk=row.pk).body_html == "<p>第一行<br>\n<strong>第二行</strong></p>"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the rest of the tests run on the latest schema


def test_each_announcement_has_a_page_of_its_own(people, tree):
    a = post(people, tree)
    client = Client()
    client.force_login(people["member"])
    page = client.get(f"/announcements/{a.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "<strong>重要</strong>" in html and "通知" in html
    listing = client.get(f"/branches/{tree['a'].pk}/announcements/").content.decode()
    assert f'href="/announcements/{a.pk}/"' in listing  # the title leads there
    outsider = Client()
    outsider.force_login(people["other_secretary"])
    assert outsider.get(f"/announcements/{a.pk}/").status_code == 404
    actions.withdraw_announcement(identity=identity_for_user(people["secretary"]), announcement_id=a.pk)
    gone = client.get(f"/announcements/{a.pk}/")
    assert gone.status_code == 410 and "已撤回此通知" in gone.content.decode() and "重要" not in gone.content.decode()


def test_searching_the_branchs_announcements(people, tree):
    post(people, tree)  # "**重要**：周六上午九点集合 …"
    actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                              title="党费收缴通知", body="请于月底前交纳党费。")
    gone = actions.post_announcement(identity=identity_for_user(people["secretary"]), branch_id=tree["a"].pk,
                                     title="党费（作废）", body="已撤回")
    actions.withdraw_announcement(identity=identity_for_user(people["secretary"]), announcement_id=gone.pk)
    client = Client()
    client.force_login(people["member"])
    url = f"/branches/{tree['a'].pk}/announcements/search/"
    html = client.get(url, {"q": "党费"}).content.decode()
    assert "<mark>党费</mark>收缴通知" in html and "作废" not in html  # not a withdrawn one
    html = client.get(url, {"q": "周六 集合"}).content.decode()  # every word, anywhere in the text
    assert "<mark>周六</mark>上午九点<mark>集合</mark>" in html and "**" not in html  # shown without Markdown marks
    assert "没有找到" in client.get(url, {"q": "周六 党费"}).content.decode()
    assert "&lt;<mark>script</mark>&gt;" in client.get(url, {"q": "script"}).content.decode()  # escaped
    outsider = Client()
    outsider.force_login(people["other_secretary"])
    assert outsider.get(url, {"q": "党费"}).status_code == 404
