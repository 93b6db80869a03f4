"""What one PostgreSQL round trip costs when the connection was just used, and when it
sat idle between statements as it does between the posts of a quiet branch.

    .venv/bin/python bench/pg_wake.py            # ~1 min; PostgreSQL on 127.0.0.1:5432

A post on the scaled shape makes two round trips before anyone sees it (the BEGIN with
the stream head and the permission read, then the rows with the COMMIT: docs/realtime.md);
`barepg` in bench/fanout.py makes one. The paced phase of fanout.py sends 10 posts a
second, so each of them meets an idle server: this prints what that costs apiece;
then what the second of a post's round trips costs with Python busy before it (does
the gap between the two matter?), and whether busy-polling the socket instead of
sleeping in select makes a round trip after quiet any faster (is it our side waking?).
Prints figures; asserts nothing. Uses a table of its own in a database of its own,
dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psycopg

STATEMENTS = {
    "SELECT 1": "SELECT 1",
    "BEGIN; UPDATE … RETURNING; SELECT; ROLLBACK": (
        "BEGIN; UPDATE bl_wake SET n = n + 1 WHERE k = 1 RETURNING n; SELECT 1; ROLLBACK"
    ),
    "INSERT (autocommit, one WAL flush)": "INSERT INTO bl_wake_log (at) VALUES (now())",
}


def measure(conn, sql: str, idle: float, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        if idle:
            time.sleep(idle)
        start = time.perf_counter()
        conn.execute(sql)
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)


def two_round_trips(conn, gap_ms: float, rounds: int) -> list[float]:
    """A post's two round trips after 100 ms of quiet, with `gap_ms` of Python busy
    between them: the second one's time (the rows and the COMMIT)."""
    first = "BEGIN; UPDATE bl_wake SET n = n + 1 WHERE k = 1 RETURNING n; SELECT 1"
    second = "INSERT INTO bl_wake_log (at) VALUES (now()); COMMIT"
    times = []
    for _ in range(rounds):
        time.sleep(0.1)
        conn.execute(first)
        until = time.perf_counter() + gap_ms / 1000
        while time.perf_counter() < until:
            pass
        start = time.perf_counter()
        conn.execute(second)
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)


def polled(conn, sql: bytes, idle: float, rounds: int) -> list[float]:
    """As `measure`, but the client busy-polls the socket instead of sleeping in select."""
    pg = conn.pgconn
    times = []
    for _ in range(rounds):
        time.sleep(idle)
        start = time.perf_counter()
        pg.send_query(sql)
        while True:
            pg.consume_input()
            if not pg.is_busy():
                break
        while pg.get_result() is not None:
            pass
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--rounds", type=int, default=80)
    args = parser.parse_args()
    name = f"bl_bench_wake_{os.getpid()}"
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(f"{args.server}/{name}", autocommit=True) as conn:
            conn.execute("CREATE TABLE bl_wake (k int PRIMARY KEY, n bigint NOT NULL)")
            conn.execute("INSERT INTO bl_wake VALUES (1, 0)")
            conn.execute("CREATE TABLE bl_wake_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL)")
            print(f"PostgreSQL round trips over TCP, {args.rounds} each; load avg {os.getloadavg()[0]:.1f}")
            print(f"{'statement':46s} {'idle before':>11s} {'p50 ms':>7s} {'p90 ms':>7s}")
            for label, sql in STATEMENTS.items():
                measure(conn, sql, 0, 20)  # warm the plan and the connection
                for idle in (0.0, 0.1):
                    times = measure(conn, sql, idle, args.rounds)
                    p90 = times[int(len(times) * 0.9)]
                    print(f"{label:46s} {idle * 1000:>9.0f}ms {statistics.median(times):7.3f} {p90:7.3f}")
            print("\nthe second of a post's two round trips (rows + COMMIT), after Python busy between them")
            print(f"{'busy between':>12s} {'p50 ms':>7s} {'p90 ms':>7s}")
            for gap in (0.0, 0.5, 1.5):
                times = two_round_trips(conn, gap, args.rounds)
                print(f"{gap:>10.1f}ms {statistics.median(times):7.3f} {times[int(len(times) * 0.9)]:7.3f}")
            print("\nSELECT 1 after 100 ms of quiet: the client sleeping in select, or busy-polling")
            for label, how in (("sleeping", lambda: measure(conn, "SELECT 1", 0.1, args.rounds)),
                               ("busy-polling", lambda: polled(conn, b"SELECT 1", 0.1, args.rounds))):
                times = how()
                print(f"{label:>12s} {statistics.median(times):7.3f} {times[int(len(times) * 0.9)]:7.3f}")
    finally:
        with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    main()
