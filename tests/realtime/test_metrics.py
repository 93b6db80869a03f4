"""/metrics: each process's figures in Prometheus's text format (realtime/metrics.py):
for the machine itself or with METRICS_TOKEN; counters that move with what the server
does (frames, error codes, events committed, frames fanned out, writes, periodic jobs)
and gauges read from the hub when scraped (connections by kind, subscriptions)."""

from __future__ import annotations

import os
import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(**extra) -> str:
    response = Client().get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")  # the exposition format
    return response.content.decode()


def value(text: str, name: str, labels: str = "") -> float:
    """The sample `name{labels}` (labels as written, in order), 0 if absent."""
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else r"(?:\{\})?") + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_only_the_machine_itself_or_the_token_reads_it(settings):
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 403
    # Passed on by a proxy on this machine: from anywhere.
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403  # a token set: it is needed
    assert Client(REMOTE_ADDR="203.0.113.9").get(
        "/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    text = scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert "process_resident_memory_bytes" in text  # the process collector


async def test_the_figures_follow_what_the_server_does(connect, people, tree):
    before = await database_sync_to_async(scrape)()
    secretary = await connect(people["secretary"])
    member = await connect(people["member"])
    stream = f"announcements:{tree['a'].pk}"
    assert (await member.call("subscribe", {"stream": stream}))["op"] == "ok"
    reply = await secretary.call("announcements.post", {"branch": tree["a"].pk, "title": "周六志愿服务", "body": "正文"},
                                 cid="metrics-00000001")
    assert reply["op"] == "ok"
    await member.recv_until(lambda f: f.get("op") == "event" and f.get("type") == "announcement.posted")
    assert (await member.call("no.such.op"))["code"] == "unknown_op"

    after = await database_sync_to_async(scrape)()
    assert value(after, "branchline_ws_connections", 'kind="user"') == 2
    assert value(after, "branchline_ws_subscriptions") >= 1
    assert value(after, "branchline_ws_frames_received_total") - value(before, "branchline_ws_frames_received_total") == 3
    assert value(after, "branchline_ws_errors_total", 'code="unknown_op"') == value(
        before, "branchline_ws_errors_total", 'code="unknown_op"') + 1
    assert value(after, "branchline_events_appended_total", 'stream_type="announcements"') >= value(
        before, "branchline_events_appended_total", 'stream_type="announcements"') + 1
    assert value(after, "branchline_events_delivered_total") >= value(before, "branchline_events_delivered_total") + 1
    assert value(after, "branchline_writes_total", 'outcome="ok"') >= value(before, "branchline_writes_total",
                                                                           'outcome="ok"') + 1
    assert value(after, "branchline_write_batch_seconds_count") > value(before, "branchline_write_batch_seconds_count")
    assert "# TYPE branchline_ws_connections gauge" in after
    assert "dangyuan" not in after and "member" not in after.replace('kind="', "")  # nobody's name


async def test_periodic_jobs_are_counted(connect, people):
    from realtime import hub as hub_module
    from realtime.scheduler import periodic_jobs

    await connect(people["member"])
    hub = next(iter(hub_module._hubs.values()))
    job = periodic_jobs()[0]
    before = await database_sync_to_async(scrape)()
    await hub.run_due_jobs(job.every_seconds)
    after = await database_sync_to_async(scrape)()
    label = f'job="{job.name}",outcome="ok"'
    assert value(after, "branchline_periodic_job_runs_total", label) == value(
        before, "branchline_periodic_job_runs_total", label) + 1


def test_the_newest_backup_is_shown(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    assert value(scrape(), "branchline_backup_newest_timestamp_seconds") == 0  # no folder yet
    settings.BACKUP_DIR.mkdir()
    for name, mtime in (("branchline-20261205-030000.tar", 1_765_000_000), ("branchline-20261206-030000.tar",
                                                                            1_765_086_400)):
        (settings.BACKUP_DIR / name).write_bytes(b"x" * 1000)
        os.utime(settings.BACKUP_DIR / name, (mtime, mtime))
    (settings.BACKUP_DIR / ".branchline-20261207-030000.tar.partial").write_bytes(b"x")  # one being written
    text = scrape()
    assert value(text, "branchline_backup_newest_timestamp_seconds") == 1_765_086_400
    assert value(text, "branchline_backup_newest_bytes") == 1000


def test_the_running_server_processes_are_counted():
    from datetime import timedelta

    from django.utils import timezone

    from realtime.models import ServerProcess

    now = timezone.now()
    for n, seen in enumerate((now, now - timedelta(seconds=30), now - timedelta(minutes=5))):  # the last one is gone
        ServerProcess.objects.create(name=f"web{n}:1:x", host=f"web{n}", pid=n + 1, started_at=now, seen_at=seen)
    assert value(scrape(), "branchline_server_processes") == 2
