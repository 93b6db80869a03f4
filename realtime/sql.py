"""A lean INSERT for the rows every write adds (its event, its idempotency record), and
the write-behind of the optimistic pass of a batch of writes.

`Model.objects.create` builds and compiles its SQL anew on each call, which costs more
than the insert itself on the hot path. Here the statement is built once per model and
column list; values still go through each field's own `get_db_prep_save`, so JSON,
dates and time zones are adapted exactly as the ORM would for the backend in use.

Write-behind: inside `write_behind()` (the optimistic pass of a batch of writes,
realtime/batching.py) rows inserted with `hold=True`, and statements held under a key
(the stream heads, realtime/events.py), are kept in memory and written by
`flush_held()` just before the commit, all in one statement on PostgreSQL. They are
writes nothing reads back inside the transaction, so holding them changes no result;
on PostgreSQL each one held saves a network round trip. A unique key that one of them
breaks fails the flush instead of the insert: the pass rolls back and the batch runs
again the careful way, where nothing is held. Should anything in the transaction read a
table after all, the held rows are written first: every statement that names the table
of a held row flushes them before it runs (a false match only flushes early).

Reserved keys: a row that an event's payload must name (an announcement's id) can be
held too, with its primary key drawn ahead from the table's sequence, in the same
statement that moves the stream's head (realtime/events.py, PostgreSQL only).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

try:
    from psycopg import ClientCursor
except ImportError:  # SQLite only: nothing is ever committed early
    ClientCursor = ()  # type: ignore[assignment,misc]


@lru_cache(maxsize=64)
def _statement(model: type[models.Model], names: tuple[str, ...], vendor: str) -> tuple[str, tuple]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})", fields


class WriteBehind:
    """What the current optimistic pass holds back, and what it may remember meanwhile."""

    def __init__(self) -> None:
        self.rows: dict[str, list[list]] = {}  # INSERT statement -> rows of parameters
        self.tables: set[str] = set()  # the tables of those rows
        self.keyed: dict[object, tuple[str, list]] = {}  # key -> (statement, params); last one wins
        # Scratch space for the pass's other shortcuts (stream heads, permission reads);
        # it lives exactly as long as the pass's transaction.
        self.memo: dict[object, object] = {}

    def hold_statement(self, key: object, sql: str, params: list) -> None:
        self.keyed[key] = (sql, params)


# Per database thread (each has its own connection).
_local = threading.local()


def held() -> WriteBehind | None:
    return getattr(_local, "pending", None)


@contextmanager
def write_behind() -> Iterator[WriteBehind]:
    """Rows inserted with hold=True wait for `flush_held()` (which the caller must call
    before committing); leaving the block by an exception discards them."""
    if held() is not None:
        raise RuntimeError("write_behind() does not nest")
    _local.pending = pending = WriteBehind()
    try:
        with connection.execute_wrapper(_flush_before_reading):
            yield pending
    finally:
        _local.pending = None


def _flush_before_reading(execute, sql, params, many, context):
    pending = held()
    if pending is not None and pending.rows and any(table in sql for table in pending.tables):
        flush_held()
    return execute(sql, params, many, context)


def insert_row(model: type[models.Model], *, returning_pk: bool = False, hold: bool = False, **values) -> int | None:
    """INSERT one row (no signals; the new pk if asked); errors are Django's (IntegrityError…).

    Fields left out get no default from the model: pass every non-null column. With
    `hold` inside `write_behind()`, the row is written by the next `flush_held()`.
    """
    # The connection itself, not the `connection` proxy: each field's adaptation reads
    # it several times, and in async code every read through the proxy is a lookup in
    # asgiref's context-local storage (a third of the cost of preparing a row).
    conn = connections[DEFAULT_DB_ALIAS]
    sql, fields = _statement(model, tuple(values), conn.vendor)
    params = [field.get_db_prep_save(values[field.name], conn) for field in fields]
    pending = held()
    if hold and pending is not None and not returning_pk:
        pending.rows.setdefault(sql, []).append(params)
        pending.tables.add(model._meta.db_table)
        return None
    if returning_pk:
        sql += f" RETURNING {conn.ops.quote_name(model._meta.pk.column)}"
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] if returning_pk else None


def flush_held(*, and_commit: bool = False) -> None:
    """Write what is held: on PostgreSQL in one statement (one round trip), elsewhere
    with one executemany per table and one execute per keyed statement.

    `and_commit` (the last thing the optimistic pass does in its transaction): on
    PostgreSQL the COMMIT travels in the same simple-protocol message as the flush, one
    round trip for both. The atomic block's own commit then finds no transaction open
    and has nothing to send (psycopg's commit() does nothing on an idle connection),
    and runs the on-commit hooks as usual. A failing flush or COMMIT raises here, and
    the block rolls back as for any error.
    """
    pending = held()
    if pending is None or not (pending.rows or pending.keyed):
        return
    rows, keyed = list(pending.rows.items()), list(pending.keyed.values())
    pending.rows, pending.keyed, pending.tables = {}, {}, set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Data-modifying WITH clauses always run to completion, read or not. They
            # share one snapshot, so none may depend on another's effect; foreign keys
            # are checked at commit (Django creates them deferred).
            parts, params = [], []
            for sql, batch in rows:
                head, _, one = sql.partition(" VALUES ")
                parts.append(f"{head} VALUES {', '.join([one] * len(batch))}")
                for row in batch:
                    params.extend(row)
            for sql, values in keyed:
                parts.append(sql)
                params.extend(values)
            ctes = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts))
            sql = f"WITH {ctes} SELECT 1"
            # Only a client-side-binding cursor sends the simple protocol, where one
            # message may hold two statements.
            if and_commit and isinstance(cursor.cursor, ClientCursor):
                sql += "; COMMIT"
            cursor.execute(sql, params)
        else:
            for sql, batch in rows:
                cursor.executemany(sql, batch)
            for sql, values in keyed:
                cursor.execute(sql, values)
