"""PostgreSQL with two round trips fewer where this server makes the most of them.

No health-check round trip on a connection that was just used. With CONN_HEALTH_CHECKS
Django runs `SELECT 1` before the first query of every request cycle, and every
`database_sync_to_async` hop of the WebSocket server is one: a network round trip
(100-200 µs here) per op and per batch of writes, more than some of the op's own
statements. A connection that ran a query less than `FRESH_SECONDS` ago is taken as
healthy; an idle one (where a server restart or a dropped TCP connection shows up) is
still checked, and any error a query meets makes Django check it at the next hop as
before.

BEGIN in the same message as a transaction's first statement. psycopg opens a
transaction by sending BEGIN on its own and waiting for the answer before it sends the
statement: one round trip that carries nothing (0.4-0.9 ms when the server is cold, as
it is between the posts of a quiet branch). Django's client-side-binding cursor speaks
the simple query protocol, in which one message may hold several statements, and a
BEGIN among them opens a transaction that outlives the message. So the first
statement of a transaction goes out as `BEGIN; <statement>` and the cursor steps past
BEGIN's empty result to the statement's. Everything else is as psycopg does it: the
transaction is the same, a failing statement leaves it aborted for Django to roll back,
and psycopg's commit() and rollback() see it open (they ask the server's status).
`executemany`, COPY and server-side cursors keep psycopg's separate BEGIN, and so does
everything should a psycopg release rename the internals used here (the test in
tests/realtime/test_database_backends.py then fails, saying so).

Statements riding with BEGIN (`ride_with_begin`): a transaction may queue statements
whose results it will want but need not wait for first (a batch of writes moving the
heads of the streams it appends to, realtime/events.py). They go in the same message,
`BEGIN; <ridden>; …; <statement>`, their first rows are kept (`ridden()`), and the
transaction pays no round trip of theirs. Should the transaction's first statement not
go out that way (executemany, say), they are not sent at all and `ridden()` stays None.

Prepared statements (server/db/prepared.py): a statement whose text was marked `hot()`
is prepared (`PREPARE bl_N AS …`, placeholders numbered) the first time this connection
meets it outside a transaction, in a message of its own sent outside any transaction, so
a statement that cannot be prepared costs one refused message and leaves nothing
aborted; it is then sent as before for the life of the connection. Inside a
transaction a statement not yet prepared is sent as before: it is prepared at the next
quiet moment, which for the writes of the optimistic pass is the transaction's first
statement, just before its BEGIN. From then on it goes out as `EXECUTE bl_N(values)`,
rides and BEGIN included. PostgreSQL keeps a prepared statement across a rollback, and
replans it itself when a table it reads changes. A new connection prepares again.
Logged queries (DEBUG, tests) show the statement's text after an `EXECUTE`.
"""

from __future__ import annotations

import logging
import re
import time

from django.db.backends.postgresql import base, operations
from psycopg.pq import TransactionStatus

from .. import prepared
from ..savepoints import SuspendableSavepoints

log = logging.getLogger(__name__)

FRESH_SECONDS = 1.0


_PLACEHOLDER = re.compile("%s")


class Cursor(base.Cursor):
    def execute(self, query, params=None, **kwargs):
        conn = self._conn
        query = self._prepared(query, params)
        tx_start = getattr(conn, "_get_tx_start_command", None)  # psycopg internals: see the test
        if (
            tx_start is None
            or not hasattr(conn, "_autocommit")
            or not isinstance(query, (str, bytes))
            or conn.autocommit
            or getattr(conn, "_pipeline", True) is not None
            or conn.pgconn.transaction_status != TransactionStatus.IDLE
        ):
            return super().execute(query, params, **kwargs)
        begin = tx_start()  # BEGIN [ISOLATION LEVEL …], exactly as psycopg would send it
        rides, conn.bl_rides = getattr(conn, "bl_rides", None) or (), None
        parts = [begin.decode()]
        for sql, ride_params in rides:
            # Values inlined: the message has one set of params.
            text = self.mogrify(self._prepared(sql, ride_params), ride_params)
            parts.append(text.replace("%", "%%") if params is not None else text)
        parts.append(query.decode() if isinstance(query, bytes) else query)
        # psycopg sends its own BEGIN only when it believes autocommit is off.
        conn._autocommit = True
        try:
            super().execute("; ".join(parts), params, **kwargs)
        finally:
            conn._autocommit = False
        ridden = []
        for _ride in rides:  # past BEGIN's result, through the ridden ones, to the statement's
            self.nextset()
            ridden.append(self.fetchone())
        if rides:
            conn.bl_ridden = ridden
        self.nextset()
        return self

    def _prepared(self, query, params):
        """The statement to send: `EXECUTE` of its prepared form where this connection
        has one (module docstring), else the query itself."""
        if not isinstance(query, str) or not isinstance(params, (list, tuple)):
            return query
        name = prepared.name_of(query)
        conn = self._conn
        done = getattr(conn, "bl_prepared", None)  # None: not on this connection (DB_PREPARE)
        if name is None or done is None or not hasattr(conn, "_autocommit"):
            return query
        ready = done.get(name)
        if ready is None:
            if conn.pgconn.transaction_status != TransactionStatus.IDLE or getattr(conn, "_pipeline", True) is not None:
                return query  # prepared at a quieter moment
            ready = done[name] = self._prepare(name, query, len(params))
        if not ready:
            return query
        return f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"

    def _prepare(self, name: str, query: str, count: int) -> bool:
        if query.count("%s") != count:
            return False
        numbers = iter(range(1, count + 1))
        text = _PLACEHOLDER.sub(lambda _match: f"${next(numbers)}", query)
        conn = self._conn
        autocommit, conn._autocommit = conn._autocommit, True  # outside any transaction
        try:
            super().execute(f"PREPARE {name} AS {text}")
        except Exception:
            log.warning("could not prepare %s; sending it unprepared on this connection", name, exc_info=True)
            return False
        finally:
            conn._autocommit = autocommit
        return True


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        text = super().last_executed_query(cursor, sql, params)
        if text and "EXECUTE bl_" in text:
            text = _EXECUTED.sub(lambda m: f"{m.group(0)} /* {prepared.text_of(m.group(1))} */", text)
        return text


_EXECUTED = re.compile(r"EXECUTE (bl_\d+)(?:\((?:[^()']|'(?:[^']|'')*')*\))?")


class DatabaseWrapper(SuspendableSavepoints, base.DatabaseWrapper):
    ops_class = DatabaseOperations
    used_at = 0.0

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("cursor_factory") is base.Cursor:
            params["cursor_factory"] = Cursor
        return params

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        # Statements this connection has prepared (True) or could not (False). Off
        # behind a pooler that hands a session's transactions to different server
        # connections (PgBouncer's transaction mode): a prepared statement lives in one.
        conn.bl_prepared = {} if self.settings_dict.get("PREPARE_HOT", True) else None
        return conn

    def create_cursor(self, name=None):
        self.used_at = time.monotonic()
        return super().create_cursor(name)

    def ride_with_begin(self, statements: list[tuple[str, list]]) -> None:
        """Send these with the next transaction's BEGIN (module docstring); [] cancels."""
        self.ensure_connection()
        self.connection.bl_rides = list(statements) or None
        self.connection.bl_ridden = None

    def rides_pending(self) -> bool:
        return self.connection is not None and bool(getattr(self.connection, "bl_rides", None))

    def ridden(self) -> list[tuple | None] | None:
        """The first row of each statement that rode with this transaction's BEGIN."""
        return getattr(self.connection, "bl_ridden", None) if self.connection is not None else None

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self.used_at < FRESH_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
