"""The pages' Content-Security-Policy and Permissions-Policy, and /csp-report."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from server import csp

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_a_page_allows_only_its_own_scripts_styles_and_socket(people, tree):
    client = Client()
    client.force_login(people["member"])
    page = client.get(f"/branches/{tree['a'].pk}/announcements/")
    assert page.status_code == 200
    policy = directives(page["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "ws://testserver"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["report-uri"] == ["/csp-report"]
    assert "camera=(self)" in page["Permissions-Policy"] and "geolocation=()" in page["Permissions-Policy"]

    # Over HTTPS (behind the proxy, HTTPS=true) the socket is wss://.
    secure = client.get("/login/", secure=True)
    assert directives(secure["Content-Security-Policy"])["connect-src"] == ["'self'", "wss://testserver"]


def test_pages_no_user_is_logged_in_for_and_error_pages_have_it_too():
    client = Client()
    for path in ("/", "/login/", "/no-such-page/"):
        assert "script-src 'self'" in client.get(path)["Content-Security-Policy"], path
    # A host not allowed gets its 400 page, with the policy but no socket named.
    refused = client.get("/login/", HTTP_HOST="evil.example")
    assert refused.status_code == 400
    assert directives(refused["Content-Security-Policy"])["connect-src"] == ["'self'"]


def test_json_and_files_are_left_alone():
    client = Client()
    health = client.get("/healthz")
    assert "Content-Security-Policy" not in health and "Permissions-Policy" not in health
    assert "Content-Security-Policy" not in client.get("/api/openapi.json")


def test_the_api_docs_are_served_from_our_own_static_files():
    page = Client().get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page  # nothing fetched from elsewhere, which a member's network may not reach


def test_report_only_and_off(settings):
    settings.CSP = "report"
    page = Client().get("/login/")
    assert "Content-Security-Policy" not in page
    assert "script-src 'self'" in page["Content-Security-Policy-Report-Only"]
    settings.CSP = "off"
    page = Client().get("/login/")
    assert "Content-Security-Policy" not in page and "Content-Security-Policy-Report-Only" not in page
    assert "Permissions-Policy" in page


@pytest.fixture
def fresh_window(monkeypatch):
    monkeypatch.setattr(csp, "_window", {"start": 0.0, "logged": 0, "dropped": 0})


REPORT = {
    "csp-report": {
        "document-uri": "http://127.0.0.1:8000/branches/2/announcements/",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "source-file": "http://127.0.0.1:8000/branches/2/announcements/",
        "line-number": 12,
        "script-sample": "alert(1)",
    }
}


def test_a_report_is_logged_with_what_was_refused_and_where(fresh_window, caplog):
    client = Client(enforce_csrf_checks=True)  # browsers send no token
    with caplog.at_level(logging.WARNING, logger="branchline.csp"):
        answer = client.post("/csp-report", json.dumps(REPORT), content_type="application/csp-report")
    assert answer.status_code == 204
    [record] = caplog.records
    assert "'script-src-elem'" in record.getMessage() and "'inline'" in record.getMessage()
    assert "/branches/2/announcements/" in record.getMessage() and "alert(1)" in record.getMessage()

    # The Reporting API's shape is read too.
    caplog.clear()
    modern = [{"type": "csp-violation", "body": {"effectiveDirective": "style-src-attr", "blockedURL": "inline",
                                                 "documentURL": "http://127.0.0.1:8000/", "lineNumber": 3}}]
    with caplog.at_level(logging.WARNING, logger="branchline.csp"):
        assert client.post("/csp-report", json.dumps(modern), content_type="application/reports+json").status_code == 204
    assert "'style-src-attr'" in caplog.records[0].getMessage()


def test_bad_reports_are_refused_and_floods_are_counted_not_logged(fresh_window, caplog):
    client = Client()
    assert client.get("/csp-report").status_code == 405
    assert client.post("/csp-report", "{not json", content_type="application/csp-report").status_code == 400
    assert client.post("/csp-report", json.dumps({"x": 1}), content_type="application/json").status_code == 400
    assert client.post("/csp-report", json.dumps([1, 2]), content_type="application/json").status_code == 400
    big = {"csp-report": {**REPORT["csp-report"], "script-sample": "x" * csp.REPORT_MAX_BYTES}}
    assert client.post("/csp-report", json.dumps(big), content_type="application/csp-report").status_code == 413
    # A forged value cannot start a log line of its own.
    forged = {"csp-report": {**REPORT["csp-report"], "blocked-uri": "x\nERROR forged line"}}
    with caplog.at_level(logging.WARNING, logger="branchline.csp"):
        client.post("/csp-report", json.dumps(forged), content_type="application/csp-report")
    assert "\n" not in caplog.records[0].getMessage()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="branchline.csp"):
        for _ in range(csp.LOG_PER_MINUTE + 5):
            assert client.post("/csp-report", json.dumps(REPORT), content_type="application/csp-report").status_code == 204
    assert len(caplog.records) == csp.LOG_PER_MINUTE - 1  # one was logged above, in this minute
    csp._window["start"] -= 61  # a minute later: the count of what was left out, then the report
    with caplog.at_level(logging.WARNING, logger="branchline.csp"):
        client.post("/csp-report", json.dumps(REPORT), content_type="application/csp-report")
    assert "6 more policy reports" in caplog.records[-2].getMessage()


# Behind the proxy (HTTPS=true, read when the settings load: a process of its own).

HTTPS_ENV = {"HTTPS": "true", "DEBUG": "false", "SECRET_KEY": "k" * 20 + "-not-a-real-key-" + "q" * 30,
             "ALLOWED_HOSTS": "branchline.example.org", "HSTS_SECONDS": "31536000",
             "HSTS_INCLUDE_SUBDOMAINS": "true", "HSTS_PRELOAD": "true"}


def run_with(env: dict, code: str, tmp_path) -> subprocess.CompletedProcess:
    full = {**os.environ, **env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    for name in ("REDIS_URL", "CSP", "TWO_FACTOR_REQUIRED"):
        full.pop(name, None)
    return subprocess.run([sys.executable, "-c", code], env=full, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_a_deployment_behind_https_passes_djangos_deploy_check(tmp_path):
    done = run_with(HTTPS_ENV, "import sys; from django.core.management import execute_from_command_line; "
                    "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'server.settings'); "
                    "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
                    tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_plain_http_past_the_proxy_is_sent_to_https_but_the_health_check(tmp_path):
    done = run_with(HTTPS_ENV, """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
django.setup()
from django.test import Client
c = Client(HTTP_HOST="branchline.example.org", raise_request_exception=False)
plain = c.get("/login/")
print(plain.status_code, plain["Location"])
print(c.get("/healthz").status_code in (200, 503))
print(c.get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code != 301)
""", tmp_path)
    # (The page itself fails here, on a database without tables: not redirected is the point.)
    assert done.stdout.split("\n")[:3] == ["301 https://branchline.example.org/login/", "True", "True"], done.stderr
