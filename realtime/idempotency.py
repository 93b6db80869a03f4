"""Client-tagged writes: the first result is kept and a retry gets it back.

Used by both entry points (WebSocket ops and the HTTP API), so a write retried over
either path runs once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.identity import Identity

from .errors import BadRequest, Conflict
from .models import ClientWrite

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,64}$")
KEEP_FOR = timedelta(days=2)


def check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise BadRequest(
            "writes need a client id 'cid': 8-64 characters of letters, digits, '_.:-'",
            details={"field": "cid"},
        )
    return client_id


def _recorded(identity: Identity, client_id: str, op: str) -> dict | None:
    row = ClientWrite.objects.filter(identity=identity.key, client_id=client_id).first()
    if row is None:
        return None
    if row.op != op:
        raise Conflict(f"client id {client_id!r} was already used for {row.op!r}")
    return {**row.result, "replayed": True}


def run_once(identity: Identity, client_id: str, op: str, write: Callable[[], dict]) -> dict:
    """Run `write` at most once per (identity, client id); return its (first) result."""
    recorded = _recorded(identity, client_id, op)
    if recorded is not None:
        return recorded
    try:
        with transaction.atomic():
            result = write()
            ClientWrite.objects.create(identity=identity.key, client_id=client_id, op=op, result=result)
    except IntegrityError:
        # A concurrent retry of the same write won the race; this attempt rolled back
        # whole (its events included), so hand back the winner's result.
        recorded = _recorded(identity, client_id, op)
        if recorded is None:
            raise
        return recorded
    return result


def prune_client_writes() -> int:
    removed, _ = ClientWrite.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return removed
