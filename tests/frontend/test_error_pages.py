"""Error pages in the reader's language, inside the site's layout: 404, 400, 500 and a
form refused by the CSRF check. (403 with its reason: tests/meetings/test_pages.py.)"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_said_in_chinese_with_the_site_around_it(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'class="site-header"' in html
    assert f'href="{reverse("login")}?next=/no-such-page/"' in html  # a visitor may need to log in
    assert "Not Found" not in html


def test_a_missing_page_for_a_member_offers_no_login_and_follows_the_language(client, people):
    client.force_login(people["member"])
    html = client.get("/forum/topics/999999/").content.decode()
    assert "页面不存在" in html and "?next=" not in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Page not found" in client.get("/forum/topics/999999/").content.decode()


def test_a_bad_request_page(client):
    response = client.get("/", HTTP_HOST="not a host name")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_the_server_error_page_needs_no_request_context():
    request = RequestFactory().get("/")
    response = server_error(request)
    assert response.status_code == 500
    assert "出错了" in response.content.decode()


def test_a_form_refused_by_the_csrf_check_says_why_and_changes_nothing(people):
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("login"))  # the CSRF cookie is set, but the form's token is stale
    response = browser.post(
        reverse("login"), {"username": "member", "password": "pw-member", "csrfmiddlewaretoken": "x" * 64},
        HTTP_REFERER="http://testserver/login/",
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "表单已过期" in html and 'href="http://testserver/login/"' in html
    assert "Cookie" not in html  # the cookie was sent; only the token was wrong
    assert "_auth_user_id" not in browser.session  # not logged in

    cookieless = Client(enforce_csrf_checks=True)
    response = cookieless.post(reverse("login"), {"username": "member", "password": "pw-member"},
                               HTTP_REFERER="https://evil.example/")
    html = response.content.decode()
    assert response.status_code == 403 and "没有发送 Cookie" in html
    assert "evil.example" not in html  # "back" only to this site


def test_the_http_api_answers_errors_in_its_own_shape(client):
    response = client.get("/api/no-such-path")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "没有这个 API 路径。"}
    from frontend.views import server_error as handler500

    response = handler500(RequestFactory().get("/api/me"))
    assert response.status_code == 500 and json.loads(response.content)["code"] == "internal"
    # Pages keep their HTML error page.
    assert "出错了" in handler500(RequestFactory().get("/forum/search/")).content.decode()


def test_a_fault_inside_an_api_view_answers_json_500(client, people, monkeypatch):
    def broken(identity):
        raise RuntimeError("a fault the view did not expect")

    monkeypatch.setattr("accounts.api.branches_for", broken)
    client.raise_request_exception = False
    client.force_login(people["member"])
    response = client.get("/api/me")
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
