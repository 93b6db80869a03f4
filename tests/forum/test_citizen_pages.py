"""Citizens taking part from the pages, without an account: the home page lists the
public boards, a visitor becomes a citizen of their browser (/citizen/) where a board
takes citizens' posts, and can be forgotten again."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import CITIZEN_COOKIE
from accounts.models import Citizen
from accounts.selectors import citizen_for_token
from forum.actions import create_topic
from forum.models import Post

pytestmark = pytest.mark.django_db

JOIN_FORM = 'id="citizen-join"'


def become_citizen(client, next_url: str, name: str = "居民老李"):
    return client.post(reverse("citizen-start"), {"display_name": name, "next": next_url})


def test_home_lists_public_boards_for_visitors(client, boards):
    html = client.get(reverse("home")).content.decode()
    assert "公开版块" in html
    assert f'href="{reverse("forum-board", args=[boards["public"].pk])}"' in html
    assert f'href="{reverse("forum-board", args=[boards["public_closed"].pk])}"' in html
    # Members-only boards are not revealed.
    assert boards["members"].name not in html and boards["other"].name not in html
    # Only the board that takes citizens' posts says so.
    assert html.count("群众可发帖</span>") == 1


def test_a_visitor_is_offered_to_write_only_where_citizens_may(client, boards):
    public = client.get(reverse("forum-board", args=[boards["public"].pk])).content.decode()
    assert JOIN_FORM in public and 'id="topic-form"' not in public
    assert f'name="next" value="{reverse("forum-board", args=[boards["public"].pk])}#new-topic"' in public
    closed = client.get(reverse("forum-board", args=[boards["public_closed"].pk])).content.decode()
    assert JOIN_FORM not in closed


def test_a_member_is_not_offered_to_write_as_a_citizen(client, boards, people):
    client.force_login(people["member"])
    html = client.get(reverse("forum-board", args=[boards["public"].pk])).content.decode()
    assert JOIN_FORM not in html and 'id="topic-form"' in html
    before = Citizen.objects.count()
    response = become_citizen(client, reverse("forum-board", args=[boards["public"].pk]))
    assert response.status_code == 302 and Citizen.objects.count() == before
    assert CITIZEN_COOKIE not in response.cookies


def test_becoming_a_citizen_keeps_the_token_in_an_httponly_cookie_and_opens_the_composer(client, boards):
    board_url = reverse("forum-board", args=[boards["public"].pk])
    response = become_citizen(client, board_url + "#new-topic")
    assert response.status_code == 302 and response["Location"] == board_url + "#new-topic"
    cookie = response.cookies[CITIZEN_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) >= 365 * 86400
    citizen = citizen_for_token(cookie.value)
    assert citizen is not None and citizen.display_name == "居民老李"
    assert cookie.value not in response.content.decode()  # the token is never shown

    html = client.get(board_url).content.decode()
    assert 'id="topic-form"' in html and JOIN_FORM not in html
    # The header names the citizen, offers "forget me" and the connection's status.
    assert '<span class="who"' in html and "居民老李" in html and "忘记我" in html
    assert 'id="conn-status"' in html

    # Writing as that citizen goes to review, as every citizen's post does.
    topic, post = create_topic(identity=_identity(citizen), board=boards["public"], title="路灯坏了", body="三号楼前")
    assert post.status == "pending"
    topic_html = client.get(reverse("forum-topic", args=[topic.pk])).content.decode()
    assert "三号楼前" in topic_html and 'id="reply-form"' in topic_html


def test_a_citizen_on_a_topic_of_a_public_board_can_join_from_the_reply_box(client, boards, identities):
    topic, _post = create_topic(identity=identities["moderator"], board=boards["public"], title="停车难", body="请大家说说")
    html = client.get(reverse("forum-topic", args=[topic.pk])).content.decode()
    assert JOIN_FORM in html
    assert f'name="next" value="{reverse("forum-topic", args=[topic.pk])}#reply"' in html
    other, _ = create_topic(identity=identities["moderator"], board=boards["public_closed"], title="政策", body="解读")
    assert JOIN_FORM not in client.get(reverse("forum-topic", args=[other.pk])).content.decode()


def test_a_name_too_long_is_refused_at_its_field_and_makes_no_citizen(client, boards):
    before = Citizen.objects.count()
    response = become_citizen(client, "/", name="李" * 81)
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'class="field-error"[^>]*>显示名称最多 80 个字符。<', html)
    assert 'aria-invalid="true"' in html and "李" * 81 in html  # what was typed stays
    assert Citizen.objects.count() == before and CITIZEN_COOKIE not in response.cookies


def test_next_must_stay_on_this_site(client, boards):
    response = become_citizen(client, "https://evil.example/phish")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    response = client.post(reverse("citizen-leave"), {"next": "//evil.example/"})
    assert response["Location"] == reverse("home")


def test_forget_me_drops_the_cookie_and_keeps_what_was_written(client, boards):
    token = become_citizen(client, "/").cookies[CITIZEN_COOKIE].value
    citizen = citizen_for_token(token)
    create_topic(identity=_identity(citizen), board=boards["public"], title="路灯坏了", body="三号楼前")
    board_url = reverse("forum-board", args=[boards["public"].pk])
    response = client.post(reverse("citizen-leave"), {"next": board_url})
    assert response.status_code == 302 and response["Location"] == board_url
    assert response.cookies[CITIZEN_COOKIE].value == "" and int(response.cookies[CITIZEN_COOKIE]["max-age"]) == 0
    html = client.get(board_url).content.decode()
    assert JOIN_FORM in html and "忘记我" not in html
    assert citizen_for_token(token) is not None  # forgotten by this browser, not deleted
    assert Post.objects.filter(author_citizen=citizen, source__contains="三号楼前").count() == 1
    # "Forget me" is a POST: a link or an image cannot make a browser forget its citizen.
    assert client.get(reverse("citizen-leave")).status_code == 405


def _identity(citizen):
    from accounts.identity import identity_for_citizen

    return identity_for_citizen(citizen)


def test_new_citizens_are_capped_per_minute_and_told_to_wait(client, boards, monkeypatch):
    monkeypatch.setattr("accounts.actions.NEW_CITIZENS_PER_MINUTE", 2)
    for _ in range(2):
        assert become_citizen(Client(), "/").status_code == 302
    response = become_citizen(client, "/")
    assert response.status_code == 429 and CITIZEN_COOKIE not in response.cookies
    html = response.content.decode()
    assert re.search(r'id="citizen-form-error">刚才有很多人以群众身份开始发帖，请一分钟后再试。<', html)
    assert Citizen.objects.count() == 2
    api = Client().post("/api/citizens", data="{}", content_type="application/json")
    assert api.status_code == 429 and api.json()["code"] == "rate_limited"
