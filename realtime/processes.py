"""Which server processes are running: each hub says so every PROCESS_HEARTBEAT_SECONDS
and takes its row away when daphne shuts down; a row not refreshed for ALIVE_WITHIN is a
process that died without a word. `manage.py restore` reads it to refuse while the
server runs (realtime/backup.py)."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.utils import timezone

from .models import ServerProcess

PROCESS_HEARTBEAT_SECONDS = 30
ALIVE_WITHIN = timedelta(seconds=90)
# Rows of processes gone longer than this are deleted by the others' heartbeats.
FORGET_AFTER = timedelta(days=1)


def heartbeat(name: str, started_at: datetime) -> None:
    now = timezone.now()
    updated = ServerProcess.objects.filter(name=name).update(seen_at=now)
    if not updated:
        ServerProcess.objects.create(name=name, host=socket.gethostname()[:255], pid=os.getpid(),
                                     started_at=started_at, seen_at=now)
    ServerProcess.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def gone(names: list[str]) -> None:
    ServerProcess.objects.filter(name__in=names).delete()


def running(now: datetime | None = None) -> list[ServerProcess]:
    """Processes that said they run within ALIVE_WITHIN, the most recent first; none when
    the database cannot say (it is down, or predates the list)."""
    now = now or timezone.now()
    try:
        return list(ServerProcess.objects.filter(seen_at__gte=now - ALIVE_WITHIN).order_by("-seen_at", "name"))
    except DatabaseError:
        return []
