"""SQLite with WAL checkpoints in a background thread instead of inside commits.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with
fsyncs) inside whichever COMMIT pushes the log past `wal_autocheckpoint` pages: every
60 or so announcements here, that one commit took 2-4 ms instead of 0.3 (so every
event it carried reached its subscribers that much later). Here a daemon thread per
database file runs a PASSIVE checkpoint every second, which never blocks a writer or
a reader, on a connection of its own (the sqlite3 module lets go of the GIL while
SQLite works). Commits keep a high `wal_autocheckpoint` as a safety net: should the
thread ever fall behind, the log is still bounded.

`begin_without_waiting`: while set, a transaction's BEGIN IMMEDIATE fails at once
("database is locked") when another connection holds the write lock, instead of
waiting up to the busy timeout. The batches of writes that run on the event loop
(realtime/batching.py) use it: the loop must never sleep on a lock. The busy timeout
is changed only when the mode changes: in the server the loop's connection does
nothing but those batches, so it stays at zero, and a statement run without the flag
puts the timeout back first (`create_cursor`).

Query text: Django converts every statement's `%s` placeholders to SQLite's `?` with
a regular expression, behind a lazy object whose every use raises and catches an
AttributeError. A lone post runs about ten statements; the conversion was 4% of the
server's CPU in a paced run of bench/fanout.py. Converted texts are kept here (the
same few hundred statements recur).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from django.db.backends.sqlite3 import base

from ..savepoints import SuspendableSavepoints

CHECKPOINT_SECONDS = 1.0
SAFETY_NET_PAGES = 20_000  # about 80 MB of log with 4 KiB pages

_started: dict[str, threading.Thread] = {}
_lock = threading.Lock()


def _checkpoint_forever(path: str) -> None:
    db: sqlite3.Connection | None = None
    try:
        while os.path.exists(path):
            time.sleep(CHECKPOINT_SECONDS)
            try:
                if db is None:
                    # mode=rw: never create the file (a test database may be gone).
                    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0, isolation_level=None)
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                if db is not None:
                    db.close()
                    db = None
    finally:
        if db is not None:
            db.close()
        with _lock:
            _started.pop(path, None)


def _ensure_checkpointer(path: str) -> bool:
    if not path or path == ":memory:" or path.startswith("file:") or not os.path.exists(path):
        return False
    path = os.path.realpath(path)
    with _lock:
        if path not in _started:
            thread = threading.Thread(target=_checkpoint_forever, args=(path,), name="sqlite-checkpoint", daemon=True)
            _started[path] = thread
            thread.start()
    return True


CONVERTED_MAX = 4096  # statements with inlined values or long IN lists are not kept past it
_converted: dict[str, str] = {}


class CursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        converted = _converted.get(query)
        if converted is None:
            converted = super().convert_query(query)
            if len(_converted) < CONVERTED_MAX:
                _converted[query] = converted
        return converted


class DatabaseWrapper(SuspendableSavepoints, base.DatabaseWrapper):
    begin_without_waiting = False
    _busy_zero = False  # this connection's busy timeout is zero

    def create_cursor(self, name=None):
        if self._busy_zero and not self.begin_without_waiting:
            self._set_busy_zero(False)
        return self.connection.cursor(factory=CursorWrapper)

    def _set_busy_zero(self, zero: bool) -> None:
        # The sqlite3 module's `timeout` is SQLite's busy timeout, which the pragma sets too.
        waits = 0 if zero else round(float(self.settings_dict["OPTIONS"].get("timeout", 5)) * 1000)
        self.connection.execute(f"PRAGMA busy_timeout = {waits}")
        self._busy_zero = zero

    def _start_transaction_under_autocommit(self):
        if self.begin_without_waiting and not self._busy_zero:
            self._set_busy_zero(True)
        super()._start_transaction_under_autocommit()

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        self._busy_zero = False
        if _ensure_checkpointer(str(self.settings_dict["NAME"])):
            conn.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
        return conn
