"""Statements the server runs on nearly every op, which PostgreSQL should plan once.

Django's PostgreSQL cursor binds parameters on the client and speaks the simple query
protocol (server/db/postgresql needs it, to send a transaction's BEGIN with its first
statement), so the server parses and plans every statement anew. For the permission
read of a post that planning was most of the statement's cost: 0.62 ms against 0.09 ms
of execution in a new session, and on a warm one the message that opens a post's
transaction (BEGIN, the head's UPDATE, the permission read) went from 0.63 to 0.29 ms
as prepared statements, and from 1.21 to 0.88 ms after the 100 ms of quiet between the
posts of the fan-out benchmark.

Code that runs such a statement passes its text through `hot()`; the PostgreSQL backend
then prepares it once per connection and sends `EXECUTE` with the values instead. The
texts must stay few and fixed (a statement built with a varying number of placeholders
is a text per count); past `MAX` texts, new ones are simply not prepared. On SQLite
nothing reads the registry.
"""

from __future__ import annotations

import threading

MAX = 128

_names: dict[str, str] = {}  # statement text -> its prepared statement's name
_texts: dict[str, str] = {}  # and back
_lock = threading.Lock()


def hot(sql: str) -> str:
    """Mark `sql` (with `%s` placeholders) as worth preparing; returns it unchanged."""
    if sql not in _names and "%%" not in sql and "%(" not in sql:
        with _lock:
            if sql not in _names and len(_names) < MAX:
                name = f"bl_{len(_names)}"
                _names[sql], _texts[name] = name, sql
    return sql


def name_of(sql: str) -> str | None:
    return _names.get(sql)


def text_of(name: str) -> str | None:
    return _texts.get(name)
