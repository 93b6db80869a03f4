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

from .errors import BadRequest, Conflict, OpError
from .models import ClientWrite
from .sql import insert_row

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
    """Run `write` at most once per (identity, client id); return its (first) result.

    The write is tried first and the record's unique key decides: a first attempt (the
    common case) pays no lookup. A retry of a write that already ran either collides
    on the key (its second run rolls back whole, events included) or is refused by the
    write itself (the state moved on); both hand back the recorded first result.
    """
    try:
        with transaction.atomic():
            result = write()
            # Held in a batch's optimistic pass: a replay then fails its flush, and the
            # careful pass (savepoints, rows written at once) answers it from here.
            insert_row(
                ClientWrite,
                hold=True,
                identity=identity.key,
                client_id=client_id,
                op=op,
                result=result,
                created_at=timezone.now(),
            )
    except IntegrityError:
        recorded = _recorded(identity, client_id, op)
        if recorded is None:
            raise
        return recorded
    except OpError:
        recorded = _recorded(identity, client_id, op)
        if recorded is None:
            raise
        return recorded
    return result


def once_if_keyed(identity: Identity, idempotency_key: str | None, op: str, write: Callable[[], dict]) -> dict:
    """The HTTP API's writes: at most once per `Idempotency-Key` when the caller sent
    one (the same record as a socket write's cid), else simply run."""
    if idempotency_key is None:
        return write()
    return run_once(identity, check_client_id(idempotency_key), op, write)


def prune_client_writes() -> int:
    removed, _ = ClientWrite.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return removed
