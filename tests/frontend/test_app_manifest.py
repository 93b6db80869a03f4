"""The web app manifest: every page links it, it names the app in the page's language,
and every icon it lists is served."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_every_page_links_the_manifest_and_it_lists_served_icons(people):
    client = Client()
    page = client.get("/login/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page and 'name="theme-color"' in page
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/manifest+json"
    manifest = json.loads(answer.content)
    assert manifest["short_name"] == "支部在线" and manifest["lang"] == "zh-hans"
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:  # served by daphne's static files handler, from these
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]

    client.cookies["django_language"] = "en"
    assert json.loads(client.get("/manifest.webmanifest").content)["short_name"] == "branch online"


def test_open_to_those_who_must_first_turn_on_two_step_verification(people, settings):
    settings.TWO_FACTOR_REQUIRED = frozenset({"secretary"})
    client = Client()
    client.force_login(people["secretary"])
    assert client.get("/manifest.webmanifest").status_code == 200
