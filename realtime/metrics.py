"""/metrics: what each server process is doing, in Prometheus's text format, for an
operator's monitoring (docs/deploy.md, "Monitoring").

Each daphne process answers for itself (as /healthz does): Prometheus scrapes every
process's own port, and sums or compares them. Nothing here names a person.

Counters are bumped where things happen (a frame in, an error frame out, an event
appended, the frames a fan-out wrote, a write batch committed, a periodic job); what is a state (open sockets, subscriptions, bytes waiting for slow readers,
writes waiting for their batch) is read from the hub and the batcher when scraped, so
it costs nothing in between. The fan-out counts its frames once per event, not once
per socket. The process's own CPU, memory and open files come from prometheus_client's
process collector. The newest backup's time and size are read from BACKUP_DIR on
this machine.

Who may read it: with METRICS_TOKEN set, a request carrying `Authorization: Bearer
<token>`; without it, requests from the machine itself (127.0.0.1 or ::1) only, and
not those a proxy on the machine passed on (they carry X-Forwarded-For: behind nginx,
without daphne's --proxy-headers, every request seems to come from 127.0.0.1).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

FRAMES_IN = Counter("branchline_ws_frames_received", "WebSocket frames received from clients", registry=REGISTRY)
ERRORS = Counter("branchline_ws_errors", "Error frames sent, by error code", ["code"], registry=REGISTRY)
CONNECTIONS_OPENED = Counter("branchline_ws_connections_opened", "WebSocket connections accepted", registry=REGISTRY)
RESYNCS = Counter("branchline_ws_resyncs", "resync frames sent (a resume from before the log's retention)",
                  registry=REGISTRY)
EVENTS = Counter("branchline_events_appended", "Events appended to stream logs by this process, by stream type",
                 ["stream_type"], registry=REGISTRY)
DELIVERED = Counter("branchline_events_delivered", "Event frames written to this process's sockets by fan-out",
                    registry=REGISTRY)
PUBLISH_FAILED = Counter("branchline_doorbells_failed",
                         "Channel-layer messages (doorbells) that could not be sent; the head check recovers them",
                         registry=REGISTRY)
WRITES = Counter("branchline_writes", "Write ops run, by outcome (ok or refused/failed)", ["outcome"],
                 registry=REGISTRY)
BATCH_SECONDS = Histogram("branchline_write_batch_seconds", "Time a batch of writes took in the database, commit included",
                          buckets=(.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5), registry=REGISTRY)
JOBS = Counter("branchline_periodic_job_runs", "Periodic job runs, by job and outcome", ["job", "outcome"],
               registry=REGISTRY)


@contextmanager
def timed_batch():
    started = time.perf_counter()
    try:
        yield
    finally:
        BATCH_SECONDS.observe(time.perf_counter() - started)


class _LiveState:
    """Gauges read from the hubs and batchers of this process when scraped."""

    def describe(self):
        return []  # nothing to check at registration (collect would import the hub too early)

    def collect(self):
        from .batching import _batchers
        from .hub import _hubs
        from .processes import running

        connections = GaugeMetricFamily("branchline_ws_connections", "Open WebSocket connections, by identity kind",
                                        labels=["kind"])
        kinds = {"user": 0, "citizen": 0, "anonymous": 0}
        subscriptions = streams = buffered = 0
        for hub in list(_hubs.values()):
            for conn in list(hub.connections):
                kind = getattr(getattr(conn, "identity", None), "kind", "anonymous")
                kinds[kind if kind in kinds else "anonymous"] += 1
                writer = getattr(conn, "writer", None)
                if writer is not None:
                    buffered += writer.queued()
            streams += sum(1 for subs in hub.subscribers.values() if subs)
            subscriptions += sum(len(subs) for subs in hub.subscribers.values())
        for kind, count in kinds.items():
            connections.add_metric([kind], count)
        yield connections
        yield GaugeMetricFamily("branchline_ws_subscriptions", "Stream subscriptions of open connections",
                                value=subscriptions)
        yield GaugeMetricFamily("branchline_streams_followed", "Streams with a subscriber in this process",
                                value=streams)
        yield GaugeMetricFamily("branchline_ws_send_buffered_bytes",
                                "Bytes waiting in the server for sockets that are slow to read", value=buffered)
        waiting = sum(batcher.waiting() for batcher in list(_batchers.values()))
        yield GaugeMetricFamily("branchline_writes_waiting", "Write ops waiting for their batch", value=waiting)
        # The newest backup in this machine's BACKUP_DIR (realtime/backup.py): to alert
        # when the nightly one stops coming. 0 when there is none.
        written, size = _newest_backup()
        yield GaugeMetricFamily("branchline_backup_newest_timestamp_seconds",
                                "When the newest backup in BACKUP_DIR was written (Unix time; 0: none)",
                                value=written)
        yield GaugeMetricFamily("branchline_backup_newest_bytes", "Size of the newest backup in BACKUP_DIR",
                                value=size)
        # Every host's processes that said in the last 90 s that they run (realtime/processes.py):
        # fewer than deployed is one down, or one that cannot reach the database.
        yield GaugeMetricFamily("branchline_server_processes",
                                "Server processes (all hosts) that said within 90 s that they run",
                                value=len(running()))


def _newest_backup() -> tuple[float, int]:
    """(mtime, bytes) of the newest backup in BACKUP_DIR, (0, 0) for none."""
    from .backup import backups_in

    try:
        found = backups_in(settings.BACKUP_DIR)
        stat = found[-1].stat() if found else None
    except OSError:  # the folder unreadable, or that backup rotated away meanwhile
        return 0, 0
    return (stat.st_mtime, stat.st_size) if stat else (0, 0)


REGISTRY.register(_LiveState())


def _may_read(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if "X-Forwarded-For" in request.headers:
        return False  # it came through a proxy on this machine (nginx sets the header), from anywhere
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
def metrics(request):
    if not _may_read(request):
        return HttpResponseForbidden("metrics are for the machine itself, or with METRICS_TOKEN\n",
                                     content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
