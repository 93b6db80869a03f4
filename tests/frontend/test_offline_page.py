"""The service worker and its offline page (frontend/offline.py), as served: the worker
for the whole site and never cached; the page in every language, with the site's
policy; the worker's version follows what it keeps."""

from __future__ import annotations

import pytest
from django.test import Client

from frontend import offline

pytestmark = pytest.mark.django_db


def test_the_worker_keeps_the_offline_page_and_what_it_loads(settings):
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    assert 'const KEPT = ["/offline/", "/static/frontend/app.css", "/static/frontend/offline.js"];' in script
    assert 'request.mode === "navigate" && request.method === "GET"' in script  # pages only; forms never


def test_the_offline_page_is_in_every_language_for_anyone():
    response = Client().get("/offline/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = response.content.decode()
    assert 'data-language="zh-hans"' in page and "暂时连不上 Branchline" in page
    assert 'data-language="en" hidden' in page and "Branchline cannot be reached" in page
    assert "<script>" not in page  # the policy allows files only


def test_its_version_changes_with_what_it_keeps(monkeypatch):
    offline._worker.cache_clear()
    before = Client().get("/sw.js").content.decode()
    monkeypatch.setattr(offline, "_page", lambda: "<p>changed</p>")
    offline._worker.cache_clear()
    after = Client().get("/sw.js").content.decode()
    offline._worker.cache_clear()
    version = [line for line in before.splitlines() if line.startswith("const VERSION")]
    assert version and version[0] not in after
