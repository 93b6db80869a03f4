"""Meetings benchmark: a join storm of 200 participants in 10 s, then chat fan-out in the 200-person meeting.

Prints figures; asserts nothing. See bench/README.md ("meeting.py") for what each figure means.

    .venv/bin/python bench/meeting.py                                           # issue size, both shapes
    .venv/bin/python bench/meeting.py --participants 50 --window 3 --paced-seconds 5 --shapes embedded   # quick

Per shape (embedded: one daphne on SQLite + in-memory layer; scaled: PostgreSQL + Redis
+ daphne):

1. seed (timed): demo data, a branch of `--participants` full members with one logged-in
   session each, and a live general meeting of that branch (meetings.actions: schedule,
   open, start) that expects all of them (bench/_meeting_data.py);
2. join storm: every member connects with their own session, spread evenly over
   `--window` seconds, and does what a meeting page does: `hello`, `meetings.join`
   (admitted directly: they are expected), `subscribe meeting:<id>` (fresh: the reply
   carries the meeting snapshot). Join latency = connect start -> subscribe reply;
   then the attendance the server recorded (participants, open intervals, 实到) is read
   from the database and the attendance.joined events from the meeting's log;
3. chat fan-out: `--chatters` members (a second tab each) send `meetings.chat.send`,
   paced (`--rate` messages/s for `--paced-seconds`) and then in a burst (`--burst`
   messages sent at once); latency per receiver = receipt of the chat.message event -
   the sender's clock at send; every receiver must get every message exactly once, and
   every acknowledged message must be a row and a chat.message event in the log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _forum_data as FD  # noqa: E402
import forum as F  # noqa: E402

DATA = Path(__file__).resolve().parent / "_meeting_data.py"


# --------------------------------------------------------------------------- joiner worker


class JoinConn(C.SubConn):
    """One participant's socket: hello -> meetings.join -> subscribe, then a counting receiver."""

    def __init__(self, meeting: int, cid: str, tally: C.Tally, *args) -> None:
        super().__init__(tally, f"meeting:{meeting}", *args)
        self.meeting, self.cid = meeting, cid
        self.joined = asyncio.get_running_loop().create_future()
        self.joined.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.marks: dict[str, int] = {}
        self.snapshot_bytes = 0

    def start(self) -> None:
        self.marks["open"] = time.time_ns()
        self.send_text('{"op":"hello","ref":1}')

    def on_message(self, payload: bytes, now_ns: int) -> None:
        if self.joined.done():
            super().on_message(payload, now_ns)
            return
        if not (payload.startswith(b'{"op":"ok"') or payload.startswith(b'{"op":"error"')):
            self.tally.other += 1
            return
        frame = json.loads(payload)
        ref = frame.get("ref")
        step = {1: "hello", 2: "meetings.join", 3: "subscribe"}.get(ref, f"ref {ref}")
        if frame["op"] == "error":
            self.joined.set_exception(RuntimeError(f"{step}: {frame.get('code')}: {frame.get('message', '')[:80]}"))
            return
        if ref == 1:
            self.marks["hello"] = now_ns
            self.send_text(json.dumps({"op": "meetings.join", "ref": 2, "cid": self.cid,
                                       "args": {"meeting": self.meeting}}))  # fmt: skip
        elif ref == 2:
            if frame["data"].get("state") != "admitted":
                self.joined.set_exception(RuntimeError(f"meetings.join: state {frame['data'].get('state')}"))
                return
            self.marks["join"] = now_ns
            self.send_text(json.dumps({"op": "subscribe", "ref": 3, "args": {"stream": self.stream}}))
        elif ref == 3:
            if "snapshot" not in frame["data"]:
                self.joined.set_exception(RuntimeError("subscribe: no snapshot in the reply"))
                return
            self.marks["subscribe"] = now_ns
            self.snapshot_bytes = len(payload)
            self.subscribed.set_result(None)
            self.joined.set_result(now_ns)

    def on_closed(self) -> None:
        super().on_closed()
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("closed before joining"))


async def joiners_main(cfg: dict) -> None:
    """cfg: port, cookies[], indices[] (global order), n (all workers), window, start_at (epoch s), meeting, run,
    retries (attempts after a failed one, 1 s apart)."""
    C.raise_nofile()
    loop = asyncio.get_running_loop()
    tally = C.Tally()
    tally.reached = asyncio.Event()
    tally.exact = True
    host, port, meeting = "127.0.0.1", cfg["port"], cfg["meeting"]
    conns: list[JoinConn] = []
    errors: dict[str, int] = {}
    results: list[dict] = []

    async def one(index: int, cookie: str) -> None:
        at = cfg["start_at"] + index * cfg["window"] / cfg["n"]
        await asyncio.sleep(max(0.0, at - time.time()))
        headers = {"Origin": f"http://{host}:{port}", "Cookie": cookie}
        first = time.time_ns()
        for attempt in range(1 + cfg["retries"]):  # a page reconnects after a failed attempt
            if attempt:
                await asyncio.sleep(1.0)
            t0 = time.time_ns()
            try:
                _, conn = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: JoinConn(meeting, f"{cfg['run']}.join.{index}", tally, host, port, "/ws/", headers),
                        host, port,
                    ),
                    30,
                )  # fmt: skip
                await asyncio.wait_for(conn.opened, 30)
                t_open = time.time_ns()
                conn.start()
                done = await asyncio.wait_for(conn.joined, 120)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                key = f"{type(exc).__name__}: {str(exc)[:120]}"
                errors[key] = errors.get(key, 0) + 1
                continue
            conns.append(conn)
            results.append({"start": first, "attempts": attempt + 1, "open": t_open - t0,
                            "hello": conn.marks["hello"] - t_open, "join": conn.marks["join"] - conn.marks["hello"],
                            "subscribe": conn.marks["subscribe"] - conn.marks["join"], "total": done - first,
                            "end": done, "bytes": conn.snapshot_bytes})  # fmt: skip
            return

    await asyncio.gather(*(one(i, c) for i, c in zip(cfg["indices"], cfg["cookies"])))
    C._reply({"ready": len(conns), "errors": errors, "results": results})
    await C.command_loop(tally, conns)


# --------------------------------------------------------------------------- server


class Shape:
    """One shape's database, seed and daphne process."""

    def __init__(self, shape: str, work: Path, args) -> None:
        self.shape, self.work, self.args = shape, work, args
        self.proc: C.Proc | None = None
        self.port = 0
        self.store: C.ShapeStore | None = None
        self.seed: dict = {}
        self.env: dict[str, str] = {}
        self.host_cookie = ""

    def start(self) -> None:
        self.store = C.ShapeStore(self.shape, self.work, "meeting")
        self.env = self.store.env
        t0 = time.monotonic()
        C.prepare_db(self.env)
        demo_s = time.monotonic() - t0
        t1 = time.monotonic()
        self.seed = self.data("seed", {"participants": self.args.participants}, timeout=900)
        self.seed["timings"]["migrate_demo"] = demo_s
        self.seed["timings"]["wall"] = time.monotonic() - t1
        self.port = C.free_port()
        self.proc = C.start_daphne(self.env, self.port, self.work / f"daphne-{self.shape}.log")
        # The host (刘委员, the chair) logs in over HTTP, as a person would: the checks read with this session.
        self.host_cookie = C.login(self.port, self.seed["host"])

    def data(self, what: str, cfg: dict, timeout: float = 300) -> dict:
        proc = subprocess.run(
            [C.PY, str(DATA), what, json.dumps(cfg)], cwd=C.ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=timeout,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"_meeting_data.py {what} failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    @property
    def meeting(self) -> int:
        return self.seed["meeting"]

    @property
    def stream(self) -> str:
        return f"meeting:{self.meeting}"

    def check_alive(self) -> None:
        if self.proc is not None and not self.proc.alive():
            raise RuntimeError(f"{self.shape} server {self.proc.pid} died:\n{self.proc.tail()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        if self.store is not None:
            self.store.drop()


# --------------------------------------------------------------------------- chat


class Chat:
    """The members who chat (a second tab each), and what they got acknowledged."""

    def __init__(self, members: list[F.Member], meeting: int, run: str, seed: int) -> None:
        self.members, self.meeting, self.run = members, meeting, run
        self.rng = random.Random(seed)
        self.ids: list[int] = []
        self.errors: dict[str, int] = {}

    async def send(self, member: F.Member, phase: str, index: int) -> int | None:
        """One message; returns the ack time (ns) or None on an error frame."""
        body = f"{FD.sentence(self.rng)} BLT{phase}.{time.time_ns()}X{index}Y"
        ack_ns, frame = await member.request(
            "meetings.chat.send", {"meeting": self.meeting, "body": body}, cid=f"{self.run}.{phase}.{index}"
        )
        if frame["op"] != "ok":
            key = f"{frame.get('code')}: {frame.get('message', '')[:80]}"
            self.errors[key] = self.errors.get(key, 0) + 1
            return None
        self.ids.append(frame["data"]["message"]["id"])
        return ack_ns

    async def paced(self, phase: str, count: int, rate: float) -> int:
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        tasks = []
        for i in range(count):
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.send(self.members[i % len(self.members)], phase, i)))
        return sum(1 for a in await asyncio.gather(*tasks) if a is not None)

    async def burst(self, phase: str, count: int) -> tuple[int, int]:
        """All messages sent at once (each member's share pipelined on its socket)."""
        tasks = [asyncio.create_task(self.send(self.members[i % len(self.members)], phase, i)) for i in range(count)]
        acks = [a for a in await asyncio.gather(*tasks) if a is not None]
        return len(acks), (max(acks) if acks else 0)


# --------------------------------------------------------------------------- the run


def ms(ns_values: list[int]) -> dict:
    v = sorted(ns_values)
    return {"p50": C.percentile(v, 50) / 1e6, "p99": C.percentile(v, 99) / 1e6, "max": (v[-1] / 1e6) if v else math.nan}


async def wait_attendance(shape: Shape, n: int, timeout: float) -> tuple[dict, float]:
    """Poll the database until the server recorded `n` open attendance intervals (presence is batched ~1 s)."""
    t0 = time.monotonic()
    loop = asyncio.get_running_loop()
    cfg = {"meeting": shape.meeting, "user_ids": shape.seed["user_ids"]}
    while True:
        att = await loop.run_in_executor(None, shape.data, "attendance", cfg)
        if att["open_intervals"] >= n or time.monotonic() - t0 > timeout:
            return att, time.monotonic() - t0
        await asyncio.sleep(0.5)


async def live(shape: Shape, args, run: str, work: Path) -> dict:
    out: dict = {}
    n = args.participants
    cookies = shape.seed["cookies"]
    head0 = C.stream_head(shape.port, shape.host_cookie, shape.stream)
    nw = max(1, args.workers)
    start_at = time.time() + 2.0  # the workers' imports are done by then
    cfgs = [
        {"port": shape.port, "cookies": cookies[w::nw], "indices": list(range(n))[w::nw], "n": n,
         "window": args.window, "start_at": start_at, "meeting": shape.meeting, "run": run, "retries": args.retries}
        for w in range(nw)
    ]  # fmt: skip
    workers = C.Workers()
    members: list[F.Member] = []
    files = [work / f"lat-{i}" for i in range(nw)]
    try:
        # ---- join storm
        for cfg in cfgs:  # C.Workers starts _common.py; the joiners live in this file
            proc = await asyncio.create_subprocess_exec(
                C.PY, str(Path(__file__).resolve()), "joiners", json.dumps(cfg), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, preexec_fn=C._preexec_nofile, limit=1 << 24,
            )  # fmt: skip
            workers.procs.append(proc)
        cpu0 = F.cpu_seconds([shape.proc.pid])
        ready = await asyncio.wait_for(asyncio.gather(*(workers._read(p) for p in workers.procs)), args.window + 300)
        cpu1 = F.cpu_seconds([shape.proc.pid])
        results = [r for w in ready for r in w["results"]]
        errors: dict[str, int] = {}
        for w in ready:
            for k, v in w["errors"].items():
                errors[k] = errors.get(k, 0) + v
        joined = len(results)
        first = min((r["start"] for r in results), default=0)
        last = max((r["end"] for r in results), default=0)
        span = (last - first) / 1e9 if results else math.nan
        first_try = [r for r in results if r["attempts"] == 1]
        out["storm"] = {
            "joined": joined, "first_try": len(first_try), "retried": joined - len(first_try),
            "attempts_failed": sum(errors.values()), "first_try_total": ms([r["total"] for r in first_try]),
            "errors": errors, "span_s": span, "joins_per_s": joined / span if span > 0 else math.nan,
            "total": ms([r["total"] for r in results]),
            "steps": {k: ms([r[k] for r in results]) for k in ("open", "hello", "join", "subscribe")},
            "snapshot_kb": (sum(r["bytes"] for r in results) / joined / 1024) if joined else math.nan,
            "srv_cpu_pct": 100 * (cpu1 - cpu0) / span if span > 0 else math.nan,
        }  # fmt: skip
        s = out["storm"]
        print(f"#   join storm: {joined}/{n} joined over {span:.1f}s ({s['joins_per_s']:.1f}/s); connect -> snapshot "
              f"p50 {s['total']['p50']:.0f} ms p99 {s['total']['p99']:.0f} ms max {s['total']['max']:.0f} ms; "
              f"{s['first_try']} on the first attempt, {s['retried']} after retrying; failed attempts {errors or 0}",
              flush=True)  # fmt: skip
        att, settle = await wait_attendance(shape, joined, 30)
        out["attendance"] = att
        out["attendance_settle_s"] = settle
        out["rss_joined_mb"] = shape.proc.rss() / 2**20
        events = C.stream_events(shape.port, shape.host_cookie, head0, shape.stream)
        joins = [e for e in events if e["type"] == "attendance.joined"]
        from datetime import datetime

        lags = [
            (datetime.fromisoformat(e["at"]) - datetime.fromisoformat(e["data"]["at"].replace("Z", "+00:00")))
            .total_seconds() * 1e9
            for e in joins
        ]  # fmt: skip
        out["joined_events"] = len(joins)
        out["joined_event_users"] = len({e["data"]["user"]["id"] for e in joins})
        out["attendance_lag"] = ms([int(x) for x in lags])
        print(f"#   attendance: {att['open_intervals']} open intervals, 实到 {att['counts']['present']}/"
              f"{att['counts']['expected']}, {len(joins)} attendance.joined events (settled {settle:.1f}s after the "
              f"last join)", flush=True)  # fmt: skip

        # ---- chat
        await asyncio.sleep(1.5)
        head1 = C.stream_head(shape.port, shape.host_cookie, shape.stream)
        out["head_chat"] = head1
        for i in range(min(args.chatters, n)):
            m = F.Member(shape.port, cookies[i], f"c{i}")
            await m.open()
            members.append(m)
        chat = Chat(members, shape.meeting, run, args.seed)
        await workers.ask({"cmd": "phase", "phase": "w", "size": 2})
        for i in range(2):
            await chat.send(members[0], "w", i)
        d = await F.deliver(workers, files, 2, 30)
        out["warmup"] = {"received": d["received"], "complete": d["complete"]}

        count = max(1, math.ceil(args.rate * args.paced_seconds))
        await workers.ask({"cmd": "phase", "phase": "p", "size": count})
        cpu0 = F.cpu_seconds([shape.proc.pid])
        t_first = time.time_ns()
        ok = await chat.paced("p", count, args.rate)
        d = await F.deliver(workers, files, ok, 60)
        cpu1 = F.cpu_seconds([shape.proc.pid])
        wall = (d["last_ns"] - t_first) / 1e9 if d["last_ns"] else math.nan
        out["paced"] = {"sent": count, "acked": ok, "received": d["received"], "expected": ok * joined,
                        "complete": d["complete"], "dups": d["dups"], **F.lat_summary(d["lat"]),
                        "deliveries_per_s": d["received"] / wall if wall > 0 else math.nan,
                        "srv_cpu_pct": 100 * (cpu1 - cpu0) / wall if wall > 0 else math.nan}  # fmt: skip
        p = out["paced"]
        print(f"#   paced chat {args.rate:g}/s x {args.paced_seconds:g}s: {p['acked']}/{count} acked, {p['received']}/"
              f"{p['expected']} deliveries, complete {p['complete']}/{joined}, dups {p['dups']}; p50 {p['p50']:.1f} ms "
              f"p99 {p['p99']:.1f} ms max {p['max']:.1f} ms", flush=True)  # fmt: skip

        await workers.ask({"cmd": "phase", "phase": "b", "size": args.burst})
        cpu0 = F.cpu_seconds([shape.proc.pid])
        t_first = time.time_ns()
        ok, last_ack = await chat.burst("b", args.burst)
        d = await F.deliver(workers, files, ok, args.drain_timeout)
        cpu1 = F.cpu_seconds([shape.proc.pid])
        wall = (d["last_ns"] - t_first) / 1e9 if d["last_ns"] else math.nan
        ack_s = (last_ack - t_first) / 1e9 if last_ack else math.nan
        out["burst"] = {"sent": args.burst, "acked": ok, "received": d["received"], "expected": ok * joined,
                        "complete": d["complete"], "dups": d["dups"], **F.lat_summary(d["lat"]),
                        "deliveries_per_s": d["received"] / wall if wall > 0 else math.nan,
                        "msgs_per_s": ok / ack_s if ack_s > 0 else math.nan, "wall_s": wall,
                        "srv_cpu_pct": 100 * (cpu1 - cpu0) / wall if wall > 0 else math.nan}  # fmt: skip
        b = out["burst"]
        print(f"#   burst chat {args.burst} at once: {b['acked']} acked ({b['msgs_per_s']:.0f} msgs/s), {b['received']}/"
              f"{b['expected']} deliveries = {b['deliveries_per_s']:.0f}/s, complete {b['complete']}/{joined}, dups "
              f"{b['dups']}; p50 {b['p50']:.0f} ms p99 {b['p99']:.0f} ms max {b['max']:.0f} ms", flush=True)  # fmt: skip
        out["chat_errors"] = chat.errors
        shape.check_alive()
        out["rss_mb"] = shape.proc.rss() / 2**20
        st = await workers.ask({"cmd": "stats"})
        out["still_open"] = sum(x["open"] for x in st)
        out["message_ids"] = chat.ids
    finally:
        for m in members:
            await m.close()
        await workers.stop()
    return out


def check_chat(shape: Shape, lv: dict) -> dict:
    ids = lv["message_ids"]
    db = shape.data("chat", {"meeting": shape.meeting, "message_ids": ids})
    events = C.stream_events(shape.port, shape.host_cookie, lv["head_chat"], shape.stream)
    chats = [e for e in events if e["type"] == "chat.message" and "BLT" in e["data"].get("body", "")]
    seqs = [e["seq"] for e in events]
    return {
        **db,
        "events": len(chats),
        "event_ids_match": sorted(e["data"]["id"] for e in chats) == sorted(ids),
        "gapless": seqs == list(range(lv["head_chat"] + 1, lv["head_chat"] + 1 + len(seqs))),
    }


# --------------------------------------------------------------------------- report


def print_shape(shape: Shape, lv: dict, chk: dict, args) -> bool:
    sd, t = shape.seed, shape.seed["timings"]
    fmt = F.fmt
    print()
    print(f"== {shape.shape} ==")
    print(f"  seed: migrate+demo {t['migrate_demo']:.1f}s; branch + {args.participants} full members with sessions "
          f"(ORM, one transaction) {t['members_sessions']:.1f}s; meeting scheduled/opened/started (meetings.actions) "
          f"{t['meeting']:.1f}s: status {sd['status']}, 应到 {sd['expected']} ({sd['voting_expected']} voting)")  # fmt: skip
    s = lv["storm"]
    print(f"  join storm: {args.participants} participants, starts spread over {args.window:g}s, each: connect, hello, "
          f"meetings.join, subscribe {shape.stream} (snapshot ~{fmt(s['snapshot_kb'], '.0f')} KB)")  # fmt: skip
    print(f"    joined {s['joined']}/{args.participants} in {s['span_s']:.1f}s = {s['joins_per_s']:.1f} joins/s: "
          f"{s['first_try']} on the first attempt, {s['retried']} after retrying (up to {args.retries} more attempts, "
          f"1 s apart); failed attempts {s['attempts_failed']}{' ' + str(s['errors']) if s['errors'] else ''}; "
          f"server CPU {fmt(s['srv_cpu_pct'], '.0f')}%")  # fmt: skip
    print(f"    {'ms':<34} {'p50':>7} {'p99':>7} {'max':>7}")
    rows = [("first connect -> snapshot (all)", s["total"]), ("connect -> snapshot (first try)", s["first_try_total"])]
    rows += [
        (label, s["steps"][k]) for k, label in (("open", "  TCP + upgrade (last try)"), ("hello", "  hello"),
                                                ("join", "  meetings.join"), ("subscribe", "  subscribe (snapshot)"))
    ]  # fmt: skip
    for label, v in rows:
        print(f"    {label:<34} {v['p50']:>7.1f} {v['p99']:>7.1f} {v['max']:>7.1f}")
    a = lv["attendance"]
    ok_att = (a["admitted"] == a["open_intervals"] == a["counts"]["present"] == s["joined"] == args.participants
              and lv["joined_event_users"] == args.participants)  # fmt: skip
    lag = lv["attendance_lag"]
    print(f"  attendance recorded by the server: {a['admitted']} admitted participants, {a['open_intervals']} open "
          f"intervals, 实到 {a['counts']['present']}/{a['counts']['expected']} (late {a['counts']['late']}, absent "
          f"{a['counts']['absent']}), voting present {a['quorum']['voting_present']}/{a['quorum']['voting_expected']}, "
          f"statuses {a['statuses']}; {lv['joined_events']} attendance.joined events for {lv['joined_event_users']} "
          f"members (socket joined -> event logged p50 {lag['p50']:.0f} ms p99 {lag['p99']:.0f} ms max "
          f"{lag['max']:.0f} ms) -> {'OK' if ok_att else 'MISMATCH'}")  # fmt: skip
    print(f"  server RSS {lv['rss_joined_mb']:.0f} MB after the storm, {lv['rss_mb']:.0f} MB after chat; "
          f"{lv['still_open']} sockets still open at the end")  # fmt: skip
    print(f"  chat fan-out to {s['joined']} receivers ({args.chatters} members sending from a second tab), "
          f"send -> chat.message at every receiver, ms:")  # fmt: skip
    print(f"    {'phase':<34} {'acked':>5} {'p50':>7} {'p99':>7} {'max':>7} {'deliv/s':>8} {'srv%':>5} {'lost':>5} "
          f"{'dups':>5}")  # fmt: skip
    for name, label in (("paced", f"paced {args.rate:g} msg/s x {args.paced_seconds:g}s"),
                        ("burst", f"burst {args.burst} at once")):  # fmt: skip
        v = lv[name]
        print(f"    {label:<34} {v['acked']:>5} {v['p50']:>7.1f} {v['p99']:>7.1f} {v['max']:>7.1f} "
              f"{fmt(v['deliveries_per_s'], '.0f'):>8} {fmt(v['srv_cpu_pct'], '.0f'):>5} {v['expected'] - v['received']:>5} "
              f"{v['dups']:>5}")  # fmt: skip
    b = lv["burst"]
    print(f"    burst: {fmt(b['msgs_per_s'], '.0f')} messages/s accepted, last delivery {fmt(b['wall_s'], '.2f')}s "
          f"after the first send")  # fmt: skip
    if lv.get("chat_errors"):
        print(f"    chat errors: {lv['chat_errors']}")
    exact = all(lv[k]["complete"] == s["joined"] and lv[k]["dups"] == 0 for k in ("paced", "burst"))
    ok_chat = (chk["acked"] == chk["unique_acked"] == chk["rows"] == chk["visible"] == chk["marked_in_meeting"]
               == chk["events"] and chk["event_ids_match"] and chk["gapless"])  # fmt: skip
    print(f"  exactly once: every receiver got every acknowledged message once -> {'OK' if exact else 'NO'}")
    print(f"  persisted: {chk['acked']} acked messages, {chk['rows']} rows ({chk['visible']} visible, "
          f"{chk['marked_in_meeting']} benchmark messages in the meeting), {chk['events']} chat.message events in the "
          f"meeting's log (ids match: {chk['event_ids_match']}), seqs {'gapless' if chk['gapless'] else 'NOT gapless'} "
          f"-> {'OK' if ok_chat else 'MISMATCH'}")  # fmt: skip
    return ok_att and exact and ok_chat


async def run_all(args) -> int:
    C.raise_nofile()
    run = f"m{os.getpid()}{int(time.time()) % 100000}"
    load0 = os.getloadavg()
    t_start = time.monotonic()
    print(f"# meeting benchmark: {args.participants} participants joining over {args.window:g}s, {args.chatters} "
          f"chatting; shapes {','.join(args.shapes)}; {os.cpu_count()} CPUs; load avg {load0[0]:.1f} {load0[1]:.1f} "
          f"{load0[2]:.1f}", flush=True)  # fmt: skip
    done, all_ok = [], True
    for name in args.shapes:
        work = C.tmpdir(f"blbench-meeting-{name}-")
        shape = Shape(name, work, args)
        try:
            t0 = time.monotonic()
            shape.start()
            print(f"# {name}: seeded in {shape.seed['timings']['wall']:.1f}s, meeting {shape.meeting} live, up on port "
                  f"{shape.port} pid {shape.proc.pid}, {time.monotonic() - t0:.1f}s; load avg "
                  f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
            lv = await live(shape, args, run, work)
            chk = check_chat(shape, lv)
            shape.check_alive()
            all_ok &= print_shape(shape, lv, chk, args)
            print(f"  load avg {os.getloadavg()[0]:.1f} at the end of this shape")
            done.append(name)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next shape
            print(f"# {name}: FAILED: {type(exc).__name__}: {exc}", flush=True)
            if shape.proc is not None:
                print(shape.proc.tail(20))
        finally:
            shape.stop()
            C.rmtree(work)
    load1 = os.getloadavg()
    print()
    print(f"# done: {', '.join(done) or 'nothing'} in {time.monotonic() - t_start:.0f}s; checks "
          f"{'OK' if all_ok and done else 'NOT OK'}; load avg at start {load0[0]:.1f}, at end {load1[0]:.1f} "
          f"({os.cpu_count()} CPUs, shared machine: wall-clock figures move with the load)")  # fmt: skip
    return 0 if len(done) == len(args.shapes) and all_ok else 1


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "joiners":
        asyncio.run(joiners_main(json.loads(sys.argv[2])))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", "--shape", default="embedded,scaled", help="any of embedded,scaled")
    p.add_argument("--participants", type=int, default=200, help="members of the benchmark branch who join")
    p.add_argument("--window", type=float, default=10, help="join storm: the joins start spread over this many s")
    p.add_argument("--retries", type=int, default=3, help="join storm: attempts after a failed one (0: none)")
    p.add_argument("--chatters", type=int, default=8, help="members who send chat (from a second socket)")
    p.add_argument("--rate", type=float, default=5, help="paced chat: messages/s, all chatters together")
    p.add_argument("--paced-seconds", type=float, default=20)
    p.add_argument("--burst", type=int, default=100, help="burst: messages sent at once")
    p.add_argument("--drain-timeout", type=float, default=120)
    p.add_argument("--workers", type=int, default=1, help="participant client processes")
    p.add_argument("--seed", type=int, default=20261122, help="PRNG seed of the chat text")
    args = p.parse_args()
    args.shapes = [s for s in args.shapes.split(",") if s]
    if any(s not in ("embedded", "scaled") for s in args.shapes):
        p.error("--shapes: embedded and/or scaled")
    return asyncio.run(run_all(args))


if __name__ == "__main__":
    sys.exit(main())
