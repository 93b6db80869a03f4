"""server/db: WAL checkpoints off the commit path (SQLite); no health-check round trip
on a connection that was just used, BEGIN with the first statement, and the hot
statements prepared once per connection (PostgreSQL). Each runs on its own database only
(`make test` runs the suite on both)."""

from __future__ import annotations

import os
import time

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.selectors import role_on_chain
from realtime.models import ClientWrite
from server.db import prepared
from server.db.prepared import hot
from server.db.sqlite3 import base as sqlite_base

pytestmark = pytest.mark.django_db(transaction=True)

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded shape's backend (SQLite)")
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the scaled shape's backend (PostgreSQL)")


@sqlite_only
def test_commits_leave_checkpoints_to_the_background_thread():
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == sqlite_base.SAFETY_NET_PAGES
    path = os.path.realpath(connection.settings_dict["NAME"])
    assert path in sqlite_base._started, "a checkpointer runs for this database file"

    size_before = os.path.getsize(path)
    with transaction.atomic():  # about 3 MB: several times the default 1,000-page threshold
        ClientWrite.objects.bulk_create(
            ClientWrite(identity="u:1", client_id=f"ckpt-{i:06d}", op="x", result={"pad": "x" * 2000}) for i in range(1500)
        )
    grown = os.path.getsize(path) - size_before
    deadline = time.monotonic() + 5
    while grown < 2_000_000 and time.monotonic() < deadline:
        time.sleep(0.1)
        grown = os.path.getsize(path) - size_before
    # The pages reached the database file: the background thread copied them from the log.
    assert grown >= 2_000_000


def _busy_timeout() -> int:
    return connection.connection.execute("PRAGMA busy_timeout").fetchone()[0]


@sqlite_only
def test_the_busy_timeout_is_zero_only_while_beginning_without_waiting():
    connection.ensure_connection()
    waits = round(float(connection.settings_dict["OPTIONS"].get("timeout", 5)) * 1000)
    assert waits > 0 and _busy_timeout() == waits
    connection.begin_without_waiting = True
    try:
        with transaction.atomic():
            ClientWrite.objects.create(identity="u:1", client_id="busy-0000001", op="x", result={})
            assert _busy_timeout() == 0
        assert _busy_timeout() == 0, "left at zero for the next batch on the loop"
    finally:
        connection.begin_without_waiting = False
    # Any statement run without the flag waits for the lock again.
    assert ClientWrite.objects.count() == 1
    assert _busy_timeout() == waits


@sqlite_only
def test_converted_statements_are_kept_and_converted_like_django_does():
    sqlite_base._converted.clear()
    list(ClientWrite.objects.filter(op="100%", client_id__in=["a", "b"]))
    query = 'SELECT "x" FROM "t" WHERE "a" = %s AND "b" LIKE \'%%z\' AND "c" IN (%s, %s)'
    with connection.cursor() as cursor:
        converted = cursor.cursor.convert_query(query)
        assert converted == 'SELECT "x" FROM "t" WHERE "a" = ? AND "b" LIKE \'%z\' AND "c" IN (?, ?)'
        assert sqlite_base._converted[query] == converted
        assert cursor.cursor.convert_query(query) is converted
    assert len(sqlite_base._converted) >= 2
    sqlite_base._converted.update({f"SELECT {i}": f"SELECT {i}" for i in range(sqlite_base.CONVERTED_MAX)})
    full = len(sqlite_base._converted)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s + 1", [41])
        assert cursor.fetchone()[0] == 42  # still converted, no longer kept
    assert len(sqlite_base._converted) == full
    sqlite_base._converted.clear()


@postgres_only
def test_a_connection_just_used_is_not_health_checked_and_an_idle_one_is(monkeypatch):
    checks = []
    real = connection.is_usable
    connection.ensure_connection()
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or real())

    def one_hop() -> None:  # what database_sync_to_async does around each call
        connection.close_if_unusable_or_obsolete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        connection.close_if_unusable_or_obsolete()

    one_hop()
    one_hop()
    assert checks == [], "a connection used a moment ago needs no SELECT 1 first"
    connection.used_at -= 60  # as if the last query was a minute ago
    one_hop()
    assert checks == [1]


@postgres_only
def test_a_transaction_s_begin_travels_with_its_first_statement():
    connection.ensure_connection()
    raw = connection.connection
    commands = []
    real = raw._exec_command
    raw._exec_command = lambda command, *a, **k: commands.append(bytes(command)) or real(command, *a, **k)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT %s::int + 1", [41])
                assert cursor.fetchone() == (42,), "the statement's own result, not BEGIN's"
                assert raw.info.transaction_status.name == "INTRANS"
                cursor.execute("SELECT pg_current_xact_id()")
                first = cursor.fetchone()[0]
                cursor.execute("SELECT pg_current_xact_id()")
                assert cursor.fetchone()[0] == first, "the statements share one transaction"
            ClientWrite.objects.create(identity="u:1", client_id="begin-fused-1", op="x", result={})
            assert ClientWrite.objects.filter(client_id="begin-fused-1").update(op="y") == 1, "UPDATE's row count"
        assert raw.info.transaction_status.name == "IDLE", "committed"
        assert b"BEGIN" not in commands, "psycopg sent no BEGIN of its own"
        assert ClientWrite.objects.get(client_id="begin-fused-1").op == "y"

        with pytest.raises(RuntimeError), transaction.atomic():  # rolled back: nothing stays
            ClientWrite.objects.create(identity="u:1", client_id="begin-fused-2", op="x", result={})
            raise RuntimeError
        assert not ClientWrite.objects.filter(client_id="begin-fused-2").exists()

        with pytest.raises(IntegrityError), transaction.atomic():  # the first statement itself fails
            ClientWrite.objects.create(identity="u:1", client_id="begin-fused-1", op="x", result={})
        assert raw.info.transaction_status.name == "IDLE", "rolled back, the connection usable"
        assert ClientWrite.objects.count() == 1
    finally:
        raw._exec_command = real


def _prepared_here() -> dict[str, int]:
    """This session's prepared statements: their text -> how often they were planned."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _uses(texts: dict[str, int], fragment: str) -> int:
    found = [n for text, n in texts.items() if fragment in text]
    assert len(found) == 1, (fragment, texts)
    return found[0]


@postgres_only
def test_a_hot_statement_is_prepared_once_per_connection_and_then_executed(people, tree):
    secretary, member = people["secretary"], people["member"]
    connection.close()  # a new session, which has prepared nothing
    with CaptureQueriesContext(connection) as queries:
        assert role_on_chain(secretary.pk, tree["a"].pk, ["secretary"]) is True
    assert _uses(_prepared_here(), "accounts_membership") == 1
    assert role_on_chain(member.pk, tree["a"].pk, ["secretary"]) is False
    assert role_on_chain(secretary.pk, tree["a1"].pk, ["secretary"]) is True  # from the branch above
    assert role_on_chain(secretary.pk, 10**9, ["secretary"]) is None
    with transaction.atomic():
        assert role_on_chain(secretary.pk, tree["b"].pk, ["secretary"]) is False
    assert _uses(_prepared_here(), "accounts_membership") == 5, "each answer came from the prepared statement"
    # The log names the statement behind an EXECUTE.
    assert queries[0]["sql"].startswith("EXECUTE bl_") and "FROM accounts_branch b" in queries[0]["sql"]

    connection.close()
    assert "accounts_membership" not in str(_prepared_here()), "a new connection starts with none"
    role_on_chain(secretary.pk, tree["a"].pk, ["secretary"])
    assert _uses(_prepared_here(), "accounts_membership") == 1


@postgres_only
def test_a_statement_first_met_inside_a_transaction_is_prepared_at_the_next_quiet_moment(people, tree):
    secretary = people["secretary"]
    connection.close()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # opens the transaction
        assert role_on_chain(secretary.pk, tree["a"].pk, ["secretary"]) is True
        assert "accounts_membership" not in str(_prepared_here()), "not prepared mid-transaction"
    assert role_on_chain(secretary.pk, tree["a"].pk, ["secretary"]) is True
    assert _uses(_prepared_here(), "accounts_membership") == 1


@postgres_only
def test_a_statement_that_cannot_be_prepared_is_sent_as_before(caplog):
    untyped = hot("SELECT %s IS NULL")  # PostgreSQL cannot type $1 here; the literal it can
    missing = hot("SELECT count(*) FROM no_such_table_here WHERE id = %s")
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(untyped, ["好"])
        assert cursor.fetchone() == (False,)
        with pytest.raises(ProgrammingError):
            cursor.execute(missing, [1])  # fails as it would unprepared
    assert "could not prepare" in caplog.text
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(untyped, ["再"])
        assert cursor.fetchone() == (False,)
        ClientWrite.objects.create(identity="u:1", client_id="unprepared-1", op="x", result={})
    assert ClientWrite.objects.filter(client_id="unprepared-1").exists(), "the transaction was not harmed"
    assert connection.connection.bl_prepared == {prepared.name_of(untyped): False, prepared.name_of(missing): False}
    assert _prepared_here() == {}


@postgres_only
def test_db_prepare_off_prepares_nothing(people, tree, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "PREPARE_HOT", False)
    connection.close()
    try:
        assert role_on_chain(people["secretary"].pk, tree["a"].pk, ["secretary"]) is True
        assert _prepared_here() == {}
    finally:
        connection.close()  # the next test's connection prepares again
