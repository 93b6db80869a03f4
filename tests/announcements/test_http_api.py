"""The /api/ endpoints use the same actions and idempotency as the /ws/ ops."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from announcements.models import Announcement
from realtime.models import Event

pytestmark = pytest.mark.django_db


def client_for(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def post_json(client: Client, url: str, payload: dict, **headers):
    return client.post(url, data=json.dumps(payload), content_type="application/json", **headers)


def test_openapi_schema_is_served():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/branches/{branch_id}/announcements" in paths
    assert "/api/streams/{stream}/events" in paths


def test_secretary_posts_through_the_api_and_the_event_is_logged(people, tree):
    response = post_json(client_for(people["secretary"]), f"/api/branches/{tree['a'].pk}/announcements",
                         {"title": "API 通知", "body": "正文"})
    assert response.status_code == 201
    body = response.json()["announcement"]
    assert body["title"] == "API 通知" and body["seq"] == 1
    assert Event.objects.get(stream_id=f"announcements:{tree['a'].pk}", seq=1).type == "announcement.posted"


@pytest.mark.parametrize("who, status", [("member", 403), ("outsider", 403), ("other_secretary", 403)])
def test_non_secretaries_cannot_post_through_the_api(people, tree, who, status):
    response = post_json(client_for(people[who]), f"/api/branches/{tree['a'].pk}/announcements",
                         {"title": "t", "body": "b"})
    assert response.status_code == status
    assert response.json()["code"] == "forbidden"
    assert not Announcement.objects.exists()


def test_anonymous_api_writes_are_refused(tree):
    response = post_json(Client(), f"/api/branches/{tree['a'].pk}/announcements", {"title": "t", "body": "b"})
    assert response.status_code == 401


def test_idempotency_key_makes_api_retries_safe(people, tree):
    client = client_for(people["secretary"])
    url = f"/api/branches/{tree['a'].pk}/announcements"
    first = post_json(client, url, {"title": "t", "body": "b"}, HTTP_IDEMPOTENCY_KEY="api-retry-001")
    second = post_json(client, url, {"title": "t", "body": "b"}, HTTP_IDEMPOTENCY_KEY="api-retry-001")
    assert first.status_code == second.status_code == 201
    assert second.json()["replayed"] is True
    assert Announcement.objects.count() == 1


def test_api_validation_errors_name_the_field(people, tree):
    response = post_json(client_for(people["secretary"]), f"/api/branches/{tree['a'].pk}/announcements",
                         {"title": "", "body": "b"})
    assert response.status_code == 400
    assert response.json() == {"code": "bad_request", "message": response.json()["message"], "details": {"field": "title"}}


def test_members_list_announcements_with_unread_count(people, tree):
    post_json(client_for(people["secretary"]), f"/api/branches/{tree['a'].pk}/announcements", {"title": "t", "body": "b"})
    response = client_for(people["member"]).get(f"/api/branches/{tree['a'].pk}/announcements")
    assert response.status_code == 200
    assert response.json()["unread"] == 1
    assert client_for(people["outsider"]).get(f"/api/branches/{tree['a'].pk}/announcements").status_code == 403


def test_stream_export_respects_read_permission(people, tree):
    post_json(client_for(people["secretary"]), f"/api/branches/{tree['a'].pk}/announcements", {"title": "t", "body": "b"})
    url = f"/api/streams/announcements:{tree['a'].pk}/events?after=0"
    response = client_for(people["member"]).get(url)
    assert response.status_code == 200
    assert [e["seq"] for e in response.json()["events"]] == [1]
    assert client_for(people["outsider"]).get(url).status_code == 403
    assert client_for(people["member"]).get("/api/streams/bogus/events").status_code == 400


def test_me_describes_the_identity_and_branches(people, tree):
    data = client_for(people["member"]).get("/api/me").json()
    assert data["identity"]["kind"] == "user"
    assert [b["id"] for b in data["branches"]] == [tree["a"].pk]
    assert Client().get("/api/me").json()["identity"]["kind"] == "anonymous"


def test_citizens_get_a_token_once_and_are_recognised_by_it(db):
    client = Client()
    response = post_json(client, "/api/citizens", {"display_name": "老王", "contact": "138"})
    assert response.status_code == 201
    token = response.json()["token"]
    assert len(token) >= 22  # 24 random bytes, base64url: 192 bits
    me = Client().get("/api/me", HTTP_X_CITIZEN_TOKEN=token).json()
    assert me["identity"] == {"kind": "citizen", "id": response.json()["id"], "name": "老王"}
    assert client.get("/api/me").json()["identity"]["kind"] == "citizen"  # the cookie was set
