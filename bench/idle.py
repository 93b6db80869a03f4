"""Idle-socket benchmark: 10,000 subscribed, idle WebSockets on ONE daphne (embedded shape).

Prints figures; asserts nothing. See bench/README.md.

    .venv/bin/python bench/idle.py                      # 10,000 sockets, ours then bare (~1.5 min)
    .venv/bin/python bench/idle.py --sockets 5000 --no-bare

What it does: start daphne on a temp SQLite file (in-memory channel layer) with the
open-file limit raised; open --warmup sockets and measure the server's RSS; open the
rest from --workers client processes, in batches, every socket subscribed to
announcements:2 (sharing --sessions logged-in sessions of one member); let the
presence flush settle; measure RSS again and the server's idle CPU; then post ONE
event and count that every socket got it (and how long the 10k-socket fan-out took).
The same is then done against the bare `websockets` server from bench/fanout.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc  # noqa: F401 - documented: the server's own gc is not forced
import os
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
from fanout import Writer  # noqa: E402


def cpu_seconds(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def _distinct_members(env: dict[str, str], count: int) -> list[str]:
    import json
    import subprocess

    script = Path(__file__).resolve().parent / "_forum_data.py"
    out = subprocess.run(
        [C.PY, str(script), "members", json.dumps({"count": count})], env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.splitlines()[-1])["cookies"]


async def run_one(kind: str, args, work: Path) -> dict:
    row: dict = {"server": kind}
    env = None
    if kind == "daphne":
        env = C.server_env({"SQLITE_PATH": str(work / "idle.sqlite3"), "MEDIA_ROOT": str(work / "media")})
        C.prepare_db(env)
        port = C.free_port()
        server = C.start_daphne(env, port, work / "daphne-idle.log")
        writer_cookie = C.login(port, "shuji")
        if args.identities:
            # Distinct members, one socket each: presence then has one entry per person.
            cookies_file = work / "cookies.txt"
            cookies_file.write_text("\n".join(_distinct_members(env, args.sockets)))
            cookies = {"cookies_file": str(cookies_file)}
        else:
            cookies = {"cookies": [C.login(port, "dangyuan") for _ in range(max(1, args.sessions))]}
        since = None if args.snapshot else C.stream_head(port, writer_cookie)
    else:
        port = C.free_port()
        server = C.Proc([C.PY, str(Path(__file__).resolve().parent / "fanout.py"), "--bare-server", str(port)], None, work / "bare-idle.log")
        C.wait_http(port, proc=server)
        writer_cookie, cookies, since = "", {"cookies": []}, None
    warm = C.Workers()
    bulk = C.Workers()
    try:
        # warm-up: a few sockets through the whole path, then the baseline RSS
        ready = await warm.start([{"ports": [port], **cookies, "n": args.warmup, "since": since, "offset": 0}])
        await asyncio.sleep(2.5)
        row["rss_before"] = server.rss()
        row["warm"] = ready[0]["ready"]

        rest = args.sockets - args.warmup
        nw = max(1, args.workers)
        counts = [rest // nw + (1 if i < rest % nw else 0) for i in range(nw)]
        # Worker i's sockets take the cookies after the warm-up's and the workers' before
        # it, so with --identities every socket is a different person.
        offsets = [args.warmup + sum(counts[:i]) for i in range(nw)]
        cfgs = [
            {
                "ports": [port], **cookies, "n": counts[i], "offset": offsets[i],
                "concurrency": args.batch, "since": since, "budget": args.connect_budget,
            }  # fmt: skip
            for i in range(nw)
        ]
        t0 = time.monotonic()
        ready = await bulk.start(cfgs, timeout=args.connect_budget + 120)
        row["connect_s"] = time.monotonic() - t0
        row["open"] = row["warm"] + sum(r["ready"] for r in ready)
        errors: dict[str, int] = {}
        for r in ready:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
        row["connect_errors"] = errors
        row["skipped"] = sum(r.get("skipped", 0) for r in ready)
        await asyncio.sleep(3)  # presence flush (1 s) and whatever else settles
        row["rss_after"] = server.rss()
        c0, t1 = cpu_seconds(server.pid), time.monotonic()
        await asyncio.sleep(args.idle_seconds)
        row["idle_cpu"] = (cpu_seconds(server.pid) - c0) / (time.monotonic() - t1)
        row["rss_idle"] = server.rss()

        # one event to everyone
        everyone = [warm, bulk]
        for w in everyone:
            await w.ask({"cmd": "phase", "phase": "i1"})
        async with Writer(port, writer_cookie, f"idle{os.getpid()}") as writer:
            first, _ack = await writer.burst("i1", 1, 1)
            row["writer_errors"] = writer.errors
        res = []
        for w in everyone:
            res += await w.ask({"cmd": "wait", "expect": 1, "timeout": 60})
        row["delivered"] = sum(r["received"] for r in res)
        row["still_open"] = sum(r["open"] for r in res)
        last = max(r["last_ns"] for r in res)
        row["fanout_ms"] = (last - first) / 1e6 if last else float("nan")
        row["rss_end"] = server.rss()
        if kind == "daphne":
            with contextlib.closing(sqlite3.connect(f"file:{work / 'idle.sqlite3'}?mode=ro", uri=True)) as db:
                row["presence_rows"] = db.execute("select count(*) from realtime_presenceentry").fetchone()[0]
    finally:
        await bulk.stop()
        await warm.stop()
        server.stop()
    return row


def report(rows: list[dict], args) -> None:
    print()
    print(f"Idle sockets: {args.sockets} subscribed to {C.STREAM}, one server process; {os.cpu_count()} CPUs; "
          f"load avg now {os.getloadavg()[0]:.1f}")  # fmt: skip
    head = f"{'server':<7} {'open':>6} {'conn s':>6} | {'RSS0 MB':>7} {'RSS MB':>7} {'KB/conn':>7} {'target':>6} | {'idle CPU%':>9} | {'got 1 evt':>9} {'fan-out ms':>10} {'RSS end':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        added = max(1, r["open"] - r["warm"])
        per = (r["rss_after"] - r["rss_before"]) / added / 1024
        target = "-" if r["server"] != "daphne" else ("met" if per <= 40 else "MISSED")
        print(
            f"{r['server']:<7} {r['open']:>6} {r['connect_s']:>6.1f} | {r['rss_before'] / 2**20:>7.1f} {r['rss_after'] / 2**20:>7.1f} "
            f"{per:>7.1f} {target:>6} | {100 * r['idle_cpu']:>9.1f} | {r['delivered']:>9} {r['fanout_ms']:>10.0f} {r['rss_end'] / 2**20:>7.1f}"
        )
    for r in rows:
        notes = []
        if r.get("connect_errors"):
            notes.append(f"connect errors {r['connect_errors']}")
        if r.get("skipped"):
            notes.append(f"{r['skipped']} sockets not opened: connect budget of {args.connect_budget:.0f}s ran out")
        if r.get("writer_errors"):
            notes.append(f"writer errors {r['writer_errors']}")
        if "presence_rows" in r:
            who = "one member per socket" if args.identities else f"sessions shared: {args.sessions}, one identity"
            notes.append(f"presence rows in DB: {r['presence_rows']} ({who})")
        if r["still_open"] != r["open"]:
            notes.append(f"{r['open'] - r['still_open']} sockets closed by the end")
        if notes:
            print(f"  {r['server']}: " + "; ".join(notes))


async def main_async(args) -> int:
    C.raise_nofile()
    rows = []
    kinds = ["daphne"] + ([] if args.no_bare else ["bare"])
    t0 = time.monotonic()
    print(f"# load avg at start {os.getloadavg()[0]:.1f}; open-file limit {C.raise_nofile()}", flush=True)
    for kind in kinds:
        work = C.tmpdir(f"blidle-{kind}-")
        try:
            row = await run_one(kind, args, work)
            rows.append(row)
            print(f"# {kind}: {row['open']} open in {row['connect_s']:.1f}s, RSS {row['rss_before'] / 2**20:.1f} -> "
                  f"{row['rss_after'] / 2**20:.1f} MB, delivered {row['delivered']}", flush=True)  # fmt: skip
        except Exception as exc:  # noqa: BLE001
            print(f"# {kind}: FAILED: {type(exc).__name__}: {exc}", flush=True)
        finally:
            C.rmtree(work)
    report(rows, args)
    print(f"total {time.monotonic() - t0:.0f}s")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sockets", type=int, default=10_000)
    p.add_argument("--warmup", type=int, default=50, help="sockets open before the baseline RSS")
    p.add_argument("--workers", type=int, default=2, help="client processes for the bulk (1-4)")
    p.add_argument("--batch", type=int, default=50, help="concurrent connects per client process")
    p.add_argument("--sessions", type=int, default=4, help="logged-in sessions the sockets share")
    p.add_argument("--identities", action="store_true", help="every socket a different member (presence lists them all)")
    p.add_argument("--idle-seconds", type=float, default=5, help="window for the idle-CPU figure")
    p.add_argument("--connect-budget", type=float, default=150, help="stop opening new sockets after this many seconds")
    p.add_argument("--snapshot", action="store_true", help="subscribe fresh (snapshot in every reply) instead of resuming from the head")
    p.add_argument("--no-bare", action="store_true", help="skip the bare websockets server")
    args = p.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
