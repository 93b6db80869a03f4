"""Forum benchmark: 1,000 readers on one topic while members post; search over 100,000 posts.

Prints figures; asserts nothing. See bench/README.md ("forum.py") for what each figure means.

    .venv/bin/python bench/forum.py                                   # issue size, both shapes
    .venv/bin/python bench/forum.py --readers 100 --posts 10000 --shapes embedded   # quick check

Per shape (embedded: one daphne on SQLite + in-memory layer; scaled: PostgreSQL + Redis
+ daphne; scaled2: two daphne processes, opt-in):

1. seed (timed): demo data, `--readers` reader accounts and `--posters` posting members
   with logged-in sessions, the benchmark topic, and `--posts` posts of generated
   Chinese/Latin text indexed through forum.actions.index_post (bench/_forum_data.py);
2. open `--readers` sockets, one per reader account, each subscribed to topic:<id>;
3. (a) paced: `--posters` members post replies (op forum.post) at `--rate` posts/s in
   total for `--paced-seconds`; every reader's latency = receipt of the post.created
   frame (rendered HTML: what the page inserts as is) - the poster's clock at submit;
   (b) saturation: 1, 2, 4, ... concurrent posters, each posting its next reply as soon as
   the previous one is acknowledged, for `--step-seconds` per step, until posts/s stops
   growing; posts/s accepted, deliveries/s and latency per step;
   every reader must get every post exactly once (per-socket bitmap of post indices);
4. server RSS with the readers connected; every acknowledged post is a visible row of
   the topic, and a post.created event in the topic's durable log, seqs gapless;
5. search: `--search-rounds` rounds over a fixed mixed query set (Chinese one- and
   two-character words, multi-word queries, Latin words, numbers, misses) as a member,
   through the forum.search WebSocket op and the /forum/search/ page; p50/p99 per class.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _forum_data as D  # noqa: E402

DATA = Path(__file__).resolve().parent / "_forum_data.py"


# --------------------------------------------------------------------------- server


class Shape:
    """One shape's database, seed and daphne process(es)."""

    def __init__(self, shape: str, work: Path, args) -> None:
        self.shape, self.work, self.args = shape, work, args
        self.procs: list[C.Proc] = []
        self.ports: list[int] = []
        self.store: C.ShapeStore | None = None
        self.seed: dict = {}
        self.env: dict[str, str] = {}

    def start(self) -> None:
        self.store = C.ShapeStore(self.shape, self.work, "forum")
        self.env = self.store.env
        t0 = time.monotonic()
        C.prepare_db(self.env)
        demo_s = time.monotonic() - t0
        cfg = {"readers": self.args.readers, "posters": self.args.posters, "posts": self.args.posts,
               "seed": self.args.seed, "progress": True}  # fmt: skip
        t1 = time.monotonic()
        proc = subprocess.run(
            [C.PY, str(DATA), "seed", json.dumps(cfg)], cwd=C.ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=self.args.seed_timeout,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{proc.stderr[-3000:]}")
        self.seed = json.loads(proc.stdout.strip().splitlines()[-1])
        self.seed["timings"]["migrate_demo"] = demo_s
        self.seed["timings"]["wall"] = time.monotonic() - t1
        for i in range(2 if self.shape == "scaled2" else 1):
            port = C.free_port()
            self.procs.append(C.start_daphne(self.env, port, self.work / f"daphne-{self.shape}-{i}.log"))
            self.ports.append(port)

    @property
    def topic(self) -> int:
        return self.seed["topic"]

    @property
    def stream(self) -> str:
        return f"topic:{self.topic}"

    def rss(self) -> int:
        return sum(p.rss() for p in self.procs)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def check_alive(self) -> None:
        for p in self.procs:
            if not p.alive():
                raise RuntimeError(f"{self.shape} server {p.pid} died:\n{p.tail()}")

    def verify(self, post_ids: list[int]) -> dict:
        proc = subprocess.run(
            [C.PY, str(DATA), "verify", json.dumps({"topic": self.topic, "post_ids": post_ids})], cwd=C.ROOT,
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"verify failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        for p in self.procs:
            p.stop()
        if self.store is not None:
            self.store.drop()


# --------------------------------------------------------------------------- posting members


class Member:
    """One posting member's WebSocket (websockets library; a handful of these is cheap)."""

    def __init__(self, port: int, cookie: str, name: str) -> None:
        self.port, self.cookie, self.name = port, cookie, name
        self.pending: dict[int, asyncio.Future] = {}
        self.ref = 0
        self.errors: list[str] = []

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            f"ws://127.0.0.1:{self.port}/ws/", origin=f"http://127.0.0.1:{self.port}",
            additional_headers={"Cookie": self.cookie}, compression=None, max_size=1 << 24, ping_interval=None,
        )  # fmt: skip
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def _read(self) -> None:
        async for message in self.ws:
            if message.startswith('{"op":"ok"') or message.startswith('{"op":"error"'):
                now = time.time_ns()
                frame = json.loads(message)
                fut = self.pending.pop(frame.get("ref"), None)
                if fut is not None and not fut.done():
                    fut.set_result((now, frame))

    async def request(self, op: str, args: dict, cid: str | None = None) -> tuple[int, dict]:
        self.ref += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.ref] = fut
        frame = {"op": op, "ref": self.ref, "args": args}
        if cid:
            frame["cid"] = cid
        await self.ws.send(json.dumps(frame, ensure_ascii=False))
        return await asyncio.wait_for(fut, 120)


class Posting:
    """The members who post, and what they got acknowledged."""

    def __init__(self, members: list[Member], topic: int, run: str, seed: int) -> None:
        self.members, self.topic, self.run = members, topic, run
        self.rng = random.Random(seed)
        self.post_ids: list[int] = []
        self.errors: dict[str, int] = {}

    async def post(self, member: Member, phase: str, index: int) -> int | None:
        """One reply; returns the ack time (ns) or None on an error frame."""
        text = D.post_text(self.rng)
        body = f"{text}\n\nBLT{phase}.{time.time_ns()}X{index}Y"
        ack_ns, frame = await member.request(
            "forum.post", {"topic": self.topic, "body": body}, cid=f"{self.run}.{phase}.{index}"
        )
        if frame["op"] != "ok":
            key = f"{frame.get('code')}: {frame.get('message', '')[:80]}"
            self.errors[key] = self.errors.get(key, 0) + 1
            return None
        self.post_ids.append(frame["data"]["post"]["id"])
        return ack_ns

    async def paced(self, phase: str, count: int, rate: float) -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        tasks = []
        for i in range(count):
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.post(self.members[i % len(self.members)], phase, i)))
        acks = await asyncio.gather(*tasks)
        ok = [a for a in acks if a is not None]
        return len(ok), (max(ok) if ok else 0)

    async def closed_loop(self, phase: str, concurrency: int, seconds: float, cap: int) -> dict:
        """`concurrency` members, each posting its next reply when the last is acked."""
        counter = {"next": 0, "ok": 0, "last_ack": 0}
        start_ns = time.time_ns()
        stop_at = time.monotonic() + seconds

        async def one(member: Member) -> None:
            while time.monotonic() < stop_at and counter["next"] < cap:
                index = counter["next"]
                counter["next"] += 1
                ack = await self.post(member, phase, index)
                if ack is not None:
                    counter["ok"] += 1
                    counter["last_ack"] = max(counter["last_ack"], ack)

        await asyncio.gather(*(one(m) for m in self.members[:concurrency]))
        return {"sent": counter["next"], "ok": counter["ok"], "first_ns": start_ns, "last_ack_ns": counter["last_ack"]}


# --------------------------------------------------------------------------- measurements


def load_lat(files: list[Path]) -> list[int]:
    out = array.array("q")
    for f in files:
        with contextlib.suppress(FileNotFoundError):
            a = array.array("q")
            a.frombytes(f.read_bytes())
            out.extend(a)
            f.unlink()
    return sorted(out)


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        with contextlib.suppress(Exception):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


async def deliver(workers: C.Workers, phase_files: list[Path], expect: int, timeout: float) -> dict:
    res = await workers.ask(
        [{"cmd": "wait", "expect": expect, "timeout": timeout, "lat_file": str(f)} for f in phase_files]
    )
    lat = load_lat(phase_files)
    return {
        "received": sum(r["received"] for r in res),
        "complete": sum(r["complete"] for r in res),
        "dups": sum(r["dups"] for r in res),
        "open": sum(r["open"] for r in res),
        "last_ns": max(r["last_ns"] for r in res),
        "lat": lat,
    }


def lat_summary(lat: list[int]) -> dict:
    return {"p50": C.percentile(lat, 50) / 1e6, "p99": C.percentile(lat, 99) / 1e6,
            "max": (lat[-1] / 1e6) if lat else float("nan")}  # fmt: skip


async def live(shape: Shape, args, run: str, work: Path) -> dict:
    out: dict = {}
    ports = shape.ports
    cookies = shape.seed["reader_cookies"]
    since = C.stream_head(ports[0], cookies[0], shape.stream)
    out["head_before"] = since
    nw = max(1, args.workers)
    cfgs = [
        {"ports": ports, "cookies": cookies, "n": args.readers // nw + (1 if i < args.readers % nw else 0),
         "offset": i, "since": since, "stream": shape.stream, "exact": True}
        for i in range(nw)
    ]  # fmt: skip
    # reader i uses cookie (i*nw + offset): with the `offset` scheme each reader gets its own account
    for i, cfg in enumerate(cfgs):
        cfg["cookies"] = cookies[i::nw]
        cfg["offset"] = 0
        cfg["ports"] = ports[i % len(ports) :] + ports[: i % len(ports)]
    workers = C.Workers()
    members: list[Member] = []
    files = [work / f"lat-{i}" for i in range(nw)]
    try:
        t0 = time.monotonic()
        ready = await workers.start(cfgs, timeout=600)
        out["readers"] = sum(r["ready"] for r in ready)
        out["connect_s"] = time.monotonic() - t0
        errs: dict[str, int] = {}
        for r in ready:
            for k, v in r["errors"].items():
                errs[k] = errs.get(k, 0) + v
        out["connect_errors"] = errs
        print(f"#   {out['readers']}/{args.readers} readers subscribed to {shape.stream} in {out['connect_s']:.1f}s"
              + (f"; connect errors {errs}" if errs else ""), flush=True)  # fmt: skip
        await asyncio.sleep(2.5)  # the presence flush (1 s) of 1,000 joins goes out before timing
        for i, cookie in enumerate(shape.seed["poster_cookies"]):
            m = Member(ports[i % len(ports)], cookie, f"p{i}")
            await m.open()
            members.append(m)
        posting = Posting(members, shape.topic, run, args.seed + 1)

        # warm-up
        await workers.ask({"cmd": "phase", "phase": "w", "size": 3})
        for i in range(3):
            await posting.post(members[0], "w", i)
        d = await deliver(workers, files, 3, 30)
        out["warmup"] = {"received": d["received"], "complete": d["complete"]}

        # (a) paced
        count = max(1, math.ceil(args.rate * args.paced_seconds))
        await workers.ask({"cmd": "phase", "phase": "p", "size": count})
        cpu0 = cpu_seconds(shape.pids())
        t_first = time.time_ns()
        ok, _last_ack = await posting.paced("p", count, args.rate)
        d = await deliver(workers, files, ok, 60)
        cpu1 = cpu_seconds(shape.pids())
        wall = (d["last_ns"] - t_first) / 1e9 if d["last_ns"] else float("nan")
        out["paced"] = {
            "posts": count, "acked": ok, "received": d["received"], "expected": ok * out["readers"],
            "complete": d["complete"], "dups": d["dups"], **lat_summary(d["lat"]),
            "srv_cpu_pct": 100 * (cpu1 - cpu0) / wall if wall == wall and wall > 0 else float("nan"),
        }  # fmt: skip
        p = out["paced"]
        print(f"#   paced {args.rate:g} posts/s x {args.paced_seconds:g}s by {len(members)} members: {p['acked']}/{count} acked, "
              f"{p['received']}/{p['expected']} deliveries, readers complete {p['complete']}/{out['readers']}, dups {p['dups']}; "
              f"p50 {p['p50']:.1f} ms p99 {p['p99']:.1f} ms max {p['max']:.1f} ms; server CPU {p['srv_cpu_pct']:.0f}%", flush=True)  # fmt: skip

        # (b) saturation: more concurrent posters until posts/s stops growing
        steps = []
        best = 0.0
        for conc in [c for c in args.concurrency if c <= len(members)]:
            phase = f"s{conc}"
            await workers.ask({"cmd": "phase", "phase": phase, "size": args.step_cap})
            cpu0 = cpu_seconds(shape.pids())
            r = await posting.closed_loop(phase, conc, args.step_seconds, args.step_cap)
            d = await deliver(workers, files, r["ok"], args.drain_timeout)
            cpu1 = cpu_seconds(shape.pids())
            ack_s = (r["last_ack_ns"] - r["first_ns"]) / 1e9 if r["last_ack_ns"] else float("nan")
            dl_s = (d["last_ns"] - r["first_ns"]) / 1e9 if d["last_ns"] else float("nan")
            step = {
                "concurrency": conc, "sent": r["sent"], "acked": r["ok"], "posts_per_s": r["ok"] / ack_s if ack_s > 0 else 0,
                "received": d["received"], "expected": r["ok"] * out["readers"], "complete": d["complete"],
                "dups": d["dups"], "deliveries_per_s": d["received"] / dl_s if dl_s > 0 else 0,
                "drain_s": dl_s - ack_s, "srv_cpu_pct": 100 * (cpu1 - cpu0) / dl_s if dl_s > 0 else float("nan"),
                **lat_summary(d["lat"]),
            }  # fmt: skip
            steps.append(step)
            print(f"#   {conc:>2} posters: {step['acked']} acked = {step['posts_per_s']:.1f} posts/s; "
                  f"{step['received']}/{step['expected']} deliveries = {step['deliveries_per_s']:.0f}/s, complete "
                  f"{step['complete']}/{out['readers']}, dups {step['dups']}; p50 {step['p50']:.0f} ms p99 {step['p99']:.0f} ms "
                  f"max {step['max']:.0f} ms; server CPU {step['srv_cpu_pct']:.0f}%", flush=True)  # fmt: skip
            if len(steps) >= args.min_steps and step["posts_per_s"] < best * (1 + args.saturation_gain):
                break  # saturated: more posters no longer buy more posts/s
            best = max(best, step["posts_per_s"])
        out["steps"] = steps
        out["post_errors"] = posting.errors
        shape.check_alive()
        out["rss_mb"] = shape.rss() / 2**20
        st = await workers.ask({"cmd": "stats"})
        out["still_open"] = sum(s["open"] for s in st)
        out["post_ids"] = posting.post_ids
    finally:
        for m in members:
            await m.close()
        await workers.stop()
    return out


def check_persisted(shape: Shape, live_out: dict) -> dict:
    ids = live_out["post_ids"]
    db = shape.verify(ids)
    events = C.stream_events(shape.ports[0], shape.seed["reader_cookies"][0], live_out["head_before"], shape.stream)
    created = [e for e in events if e["type"] == "post.created" and "BLT" in e["data"].get("html", "")]
    seqs = [e["seq"] for e in events]
    event_ids = [e["data"]["id"] for e in created]
    return {
        **db,
        "events": len(created),
        "event_ids_match": sorted(event_ids) == sorted(ids),
        "gapless": seqs == list(range(live_out["head_before"] + 1, live_out["head_before"] + 1 + len(seqs))),
    }


async def search_bench(shape: Shape, args) -> dict:
    """Sequential searches as a member of 第一党支部, over the op and over the page."""
    cookie = shape.seed["search_cookie"]
    port = shape.ports[0]
    member = Member(port, cookie, "searcher")
    await member.open()
    ws: dict[str, list[float]] = {}
    page: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    errors: list[str] = []
    loop = asyncio.get_running_loop()
    opener = urllib.request.build_opener()

    def get_page(q: str) -> float:
        url = f"http://127.0.0.1:{port}/forum/search/?q={urllib.parse.quote(q)}"
        t = time.perf_counter()
        with opener.open(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=60) as r:
            r.read()
            if r.status != 200:
                errors.append(f"page {q!r}: status {r.status}")
        return time.perf_counter() - t

    try:
        for _cls, q in D.QUERIES[:3]:  # warm-up (connection, caches, query plans)
            await member.request("forum.search", {"q": q})
        for rnd in range(args.search_rounds):
            for cls, q in D.QUERIES:
                t = time.perf_counter()
                _ack, frame = await member.request("forum.search", {"q": q, "limit": 20})
                ws.setdefault(q, []).append(time.perf_counter() - t)
                if frame["op"] != "ok":
                    errors.append(f"op {q!r}: {frame}")
                elif rnd == 0:
                    hits[q] = len(frame["data"]["hits"])
                if not args.no_page:
                    page.setdefault(q, []).append(await loop.run_in_executor(None, get_page, q))
    finally:
        await member.close()
    return {"ws": ws, "page": page, "hits": hits, "errors": errors[:5]}


# --------------------------------------------------------------------------- report


def fmt(v, spec: str = ".1f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def print_search(shape: Shape, s: dict) -> None:
    classes: dict[str, tuple[list[float], list[float]]] = {}
    for cls, q in D.QUERIES:
        a, b = classes.setdefault(cls, ([], []))
        a.extend(s["ws"].get(q, []))
        b.extend(s["page"].get(q, []))
    all_ws = sorted(x for q in s["ws"].values() for x in q)
    all_page = sorted(x for q in s["page"].values() for x in q)
    print(
        f"  search over {shape.seed['corpus']['documents']} indexed documents, as a member (results filtered by permission), "
        "ms (op = forum.search over the socket, page = GET /forum/search/):"
    )
    print(f"    {'class':<8} {'n':>4} {'op p50':>7} {'op p99':>7} {'page p50':>8} {'page p99':>8}")
    for cls, (a, b) in list(classes.items()) + [("all", (all_ws, all_page))]:
        a, b = sorted(a), sorted(b)
        print(
            f"    {cls:<8} {len(a):>4} {fmt(C.percentile(a, 50) * 1e3):>7} {fmt(C.percentile(a, 99) * 1e3):>7} "
            f"{fmt(C.percentile(b, 50) * 1e3):>8} {fmt(C.percentile(b, 99) * 1e3):>8}"
        )
    print("    per query: query -> documents matching (all branches) / hits returned / op median ms")
    line = []
    for _cls, q in D.QUERIES:
        med = sorted(s["ws"].get(q, [float("nan")]))[len(s["ws"].get(q, [0])) // 2] * 1e3
        line.append(f"{q} {shape.seed['matches'].get(q, '?')}/{s['hits'].get(q, '?')}/{med:.0f}")
    for i in range(0, len(line), 6):
        print("      " + "; ".join(line[i : i + 6]))
    if s["errors"]:
        print(f"    ERRORS: {s['errors']}")


def print_shape(shape: Shape, lv: dict, persisted: dict, srch: dict | None, args) -> None:
    sd = shape.seed
    t = sd["timings"]
    print()
    print(f"== {shape.shape} ({sd['vendor']}) ==")
    print(f"  seed: migrate+demo {t['migrate_demo']:.1f}s; {args.readers} readers + {args.posters} members with sessions "
          f"{t['users_sessions']:.1f}s; topic + members' approved first posts {t['topic_posters']:.1f}s; corpus "
          f"{sd['corpus']['topics']} topics (create_topic) {t['corpus_topics']:.1f}s + {sd['corpus']['posts'] - sd['corpus']['topics']} "
          f"posts (bulk rows + index_post, batches of 1,000) {t['corpus_posts']:.1f}s "
          f"({(sd['corpus']['posts'] - sd['corpus']['topics']) / max(t['corpus_posts'], 1e-9):.0f} posts/s); analyze {t['analyze']:.1f}s; "
          f"seed total {t['wall']:.1f}s; avg post {sd['corpus']['avg_chars']} chars")  # fmt: skip
    if not lv:
        return
    print(f"  readers: {lv['readers']}/{args.readers} subscribed in {lv['connect_s']:.1f}s, {lv['still_open']} still open at the end; "
          f"server RSS {lv['rss_mb']:.0f} MB with them connected")  # fmt: skip
    p = lv["paced"]
    print(f"  paced: {args.rate:g} posts/s for {args.paced_seconds:g}s ({p['acked']} posts, {args.posters} members): submit -> "
          f"post.created at every reader p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms, max {p['max']:.1f} ms; "
          f"{p['received']}/{p['expected']} deliveries; server CPU {fmt(p['srv_cpu_pct'], '.0f')}%")  # fmt: skip
    print(f"  saturation (closed loop, {args.step_seconds:g}s per step):")
    print(f"    {'posters':>7} {'acked':>6} {'posts/s':>8} {'deliv/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'drain s':>7} {'srv%':>5} {'lost':>6} {'dups':>5}")  # fmt: skip
    for s in lv["steps"]:
        print(f"    {s['concurrency']:>7} {s['acked']:>6} {s['posts_per_s']:>8.1f} {s['deliveries_per_s']:>8.0f} {s['p50']:>7.0f} "
              f"{s['p99']:>7.0f} {s['max']:>7.0f} {fmt(s['drain_s'], '.2f'):>7} {fmt(s['srv_cpu_pct'], '.0f'):>5} "
              f"{s['expected'] - s['received']:>6} {s['dups']:>5}")  # fmt: skip
    best = max(lv["steps"], key=lambda s: s["posts_per_s"]) if lv["steps"] else None
    if best:
        print(
            f"    posting throughput: {best['posts_per_s']:.1f} posts/s accepted at {best['concurrency']} posters "
            f"({best['deliveries_per_s']:.0f} deliveries/s to {lv['readers']} readers)"
        )
    if lv.get("post_errors"):
        print(f"    post errors: {lv['post_errors']}")
    ok = (
        persisted["found"]
        == persisted["acked"]
        == persisted["unique_acked"]
        == persisted["visible"]
        == persisted["marked_in_topic"]
        == persisted["events"]
        and persisted["event_ids_match"]
        and persisted["gapless"]
        and not persisted["wrong_topic"]
    )
    exact = all(s["complete"] == lv["readers"] and s["dups"] == 0 for s in lv["steps"]) and (
        p["complete"] == lv["readers"] and p["dups"] == 0
    )
    print(f"  persisted: {persisted['acked']} acked posts, {persisted['found']} rows ({persisted['visible']} visible, "
          f"{persisted['marked_in_topic']} benchmark posts in the topic), {persisted['events']} post.created events in the "
          f"log (ids match: {persisted['event_ids_match']}), seqs {'gapless' if persisted['gapless'] else 'NOT gapless'} "
          f"-> {'OK' if ok else 'MISMATCH'}")  # fmt: skip
    print(f"  exactly once: every reader got every acked post once in every phase -> {'OK' if exact else 'NO'}")
    if srch:
        print_search(shape, srch)


async def run_all(args) -> int:
    C.raise_nofile()
    run = f"f{os.getpid()}{int(time.time()) % 100000}"
    load0 = os.getloadavg()
    t_start = time.monotonic()
    print(f"# forum benchmark: {args.readers} readers, {args.posters} posting members, {args.posts} posts for search; "
          f"shapes {','.join(args.shapes)}; {os.cpu_count()} CPUs; load avg {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}", flush=True)  # fmt: skip
    results = []
    for name in args.shapes:
        work = C.tmpdir(f"blbench-forum-{name}-")
        shape = Shape(name, work, args)
        lv: dict = {}
        persisted: dict = {}
        srch = None
        try:
            t0 = time.monotonic()
            shape.start()
            sd = shape.seed
            print(f"# {name}: seeded in {sd['timings']['wall']:.1f}s ({sd['corpus']['documents']} search documents), "
                  f"up on port(s) {shape.ports}, pid(s) {shape.pids()}, {time.monotonic() - t0:.1f}s", flush=True)  # fmt: skip
            print(f"#   load avg {os.getloadavg()[0]:.1f} before the live phase", flush=True)
            if args.readers > 0:
                lv = await live(shape, args, run, work)
                persisted = check_persisted(shape, lv)
            if args.search_rounds > 0:
                print(f"#   load avg {os.getloadavg()[0]:.1f} before search", flush=True)
                srch = await search_bench(shape, args)
            shape.check_alive()
            print_shape(shape, lv, persisted, srch, args)
            results.append(name)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next shape
            print(f"# {name}: FAILED: {type(exc).__name__}: {exc}", flush=True)
            for p in shape.procs:
                print(p.tail(20))
        finally:
            shape.stop()
            C.rmtree(work)
    load1 = os.getloadavg()
    print()
    print(
        f"# done: {', '.join(results) or 'nothing'} in {time.monotonic() - t_start:.0f}s; load avg at start "
        f"{load0[0]:.1f}, at end {load1[0]:.1f} ({os.cpu_count()} CPUs, shared machine: wall-clock figures move with the load)"
    )
    return 0 if len(results) == len(args.shapes) else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", default="embedded,scaled", help="any of embedded,scaled,scaled2")
    p.add_argument("--readers", type=int, default=1000, help="reader sockets on the topic, one account each")
    p.add_argument("--posters", type=int, default=16, help="posting members (the most concurrent posters)")
    p.add_argument("--posts", type=int, default=100_000, help="posts in the search corpus")
    p.add_argument("--rate", type=float, default=5, help="paced phase: posts/s, all members together")
    p.add_argument("--paced-seconds", type=float, default=20)
    p.add_argument("--concurrency", default="1,2,4,8,16", help="saturation steps: concurrent posters")
    p.add_argument("--step-seconds", type=float, default=6)
    p.add_argument("--step-cap", type=int, default=3000, help="at most this many posts per saturation step")
    p.add_argument(
        "--saturation-gain",
        type=float,
        default=0.05,
        help="stop adding posters when posts/s grew by less than this fraction",
    )
    p.add_argument("--min-steps", type=int, default=3, help="saturation steps run before stopping is considered")
    p.add_argument("--drain-timeout", type=float, default=120)
    p.add_argument("--search-rounds", type=int, default=5, help="rounds over the query set (0: no search)")
    p.add_argument("--no-page", action="store_true", help="time the forum.search op only, not the page")
    p.add_argument("--workers", type=int, default=1, help="reader client processes")
    p.add_argument("--seed", type=int, default=20261122, help="PRNG seed of the generated text")
    p.add_argument("--seed-timeout", type=float, default=1800)
    args = p.parse_args()
    args.shapes = [s for s in args.shapes.split(",") if s]
    args.concurrency = [int(x) for x in args.concurrency.split(",") if x]
    return asyncio.run(run_all(args))


if __name__ == "__main__":
    sys.exit(main())
