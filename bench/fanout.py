"""Fan-out benchmark: one writer, N subscribers on one stream, ours against a bare server.

Prints figures; asserts nothing. See bench/README.md for what each column means.

    .venv/bin/python bench/fanout.py                 # bare, embedded, scaled (~3.5 min on 2 cores)
    .venv/bin/python bench/fanout.py --shapes bare,scaled2 --n 1000   # two daphne processes
    .venv/bin/python bench/fanout.py --shapes bare,embedded --n 1000 --paced-seconds 10

Shapes
  bare      a tiny `websockets` server in this file: subscribe -> joins a set;
            announcements.post -> builds an event frame of the same shape and size,
            `websockets.broadcast`s it, acks the writer. No persistence, no auth.
  embedded  daphne on a temp SQLite file (WAL), in-memory channel layer.
  scaled    daphne on a fresh PostgreSQL database + Redis (unique REDIS_PREFIX).
  scaled2   as scaled, two daphne processes; subscribers split across them, the
            writer on the first (the event crosses Redis pub/sub to the second).
  barepg    a floor, not a product: the bare server, but each event is first INSERTed
            into a PostgreSQL table and committed (autocommit, so one round trip and
            one WAL flush) before it is broadcast. No auth, no seq counter, no
            idempotency, no batching: the least any server pays to persist an event
            in PostgreSQL before anyone sees it. Compare its p99 with scaled's.

Per shape and N: (a) burst: the writer pipelines K posts (window W) and we time from
the first send to the moment the last subscriber got the last event; (b) paced: 1,000
deliveries/s (1000/N events/s) for --paced-seconds, latency writer-send -> subscriber
receipt, same clock (time.time_ns); (c) server RSS after the run; (d) every acked post
is in the stream's durable log (HTTP export API), seqs gapless.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

BODY = (
    "各位党员：定于本月28日（周六）上午9:00在社区党群服务中心召开支部党员大会，请准时参加。"
    "无法到会的请提前向支部书记请假。 (benchmark body, roughly the size of a real notice)"
)


# --------------------------------------------------------------------------- bare server


async def bare_server(port: int, pg_url: str = "") -> None:
    """The baseline: receive a post from the writer, forward an event frame to everyone.

    With `pg_url` (shape barepg) each event is committed to PostgreSQL first."""
    from websockets.asyncio.server import broadcast, serve

    C.raise_nofile()
    subscribers: set = set()
    state = {"seq": 0}
    db = None
    if pg_url:
        import psycopg

        db = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
        await db.execute("CREATE TABLE IF NOT EXISTS bench_event (seq bigint PRIMARY KEY, frame text NOT NULL)")

    async def handler(ws) -> None:
        try:
            async for message in ws:
                frame = json.loads(message)
                op, ref = frame.get("op"), frame.get("ref")
                if op == "subscribe":
                    subscribers.add(ws)
                    reply = {"stream": C.STREAM, "head": state["seq"], "seq": state["seq"], "snapshot": None}
                    await ws.send(json.dumps({"op": "ok", "ref": ref, "data": reply}, separators=(",", ":")))
                elif op == "announcements.post":
                    state["seq"] += 1
                    seq = state["seq"]
                    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
                    args = frame["args"]
                    data = {
                        "id": seq, "branch": args["branch"], "title": args["title"], "body": args["body"],
                        "body_html": f"<p>{args['body']}</p>",  # ours renders Markdown: same size, not the work
                        "author": {"id": 2, "name": "王书记"}, "created_at": now, "edited_at": None, "pinned_at": None,
                        "attachments": [], "seq": seq,
                    }  # fmt: skip
                    event = {"op": "event", "stream": C.STREAM, "seq": seq, "type": "announcement.posted", "data": data, "at": now}
                    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                    if db is not None:
                        await db.execute("INSERT INTO bench_event (seq, frame) VALUES (%s, %s)", (seq, text))
                    broadcast(subscribers, text)
                    await ws.send(json.dumps({"op": "ok", "ref": ref, "data": {"announcement": data}}, ensure_ascii=False, separators=(",", ":")))
                else:
                    await ws.send(json.dumps({"op": "ok", "ref": ref, "data": {}}))
        finally:
            subscribers.discard(ws)

    async def health(connection, request):
        if request.path == "/healthz":
            return connection.respond(200, "ok\n")
        return None

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=1 << 20, process_request=health, backlog=4096):
        await asyncio.Future()


# --------------------------------------------------------------------------- servers under test


class Server:
    """One shape's server process(es); .ports, .cookie_writer, .cookie_reader, .rss()."""

    def __init__(self, shape: str, work: Path) -> None:
        self.shape, self.work = shape, work
        self.procs: list[C.Proc] = []
        self.ports: list[int] = []
        self.cookie_writer = self.cookie_reader = ""
        self.store: C.ShapeStore | None = None

    def start(self) -> None:
        if self.shape in ("bare", "barepg"):
            port = C.free_port()
            argv = [C.PY, str(Path(__file__).resolve()), "--bare-server", str(port)]
            if self.shape == "barepg":
                self.store = C.ShapeStore(self.shape, self.work)
                argv += ["--bare-pg", self.store.env["DATABASE_URL"]]
            self.procs.append(C.Proc(argv, None, self.work / f"{self.shape}.log"))
            C.wait_http(port, proc=self.procs[0])
            self.ports = [port]
            return
        self.store = C.ShapeStore(self.shape, self.work)
        env = self.store.env
        C.prepare_db(env)
        for i in range(2 if self.shape == "scaled2" else 1):
            port = C.free_port()
            self.procs.append(C.start_daphne(env, port, self.work / f"daphne-{self.shape}-{i}.log"))
            self.ports.append(port)
        self.cookie_writer = C.login(self.ports[0], "shuji")
        self.cookie_reader = C.login(self.ports[0], "dangyuan")

    @property
    def persistent(self) -> bool:
        return self.shape not in ("bare", "barepg")

    def rss(self) -> int:
        return sum(p.rss() for p in self.procs)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def check_alive(self) -> None:
        for p in self.procs:
            if not p.alive():
                raise RuntimeError(f"{self.shape} server {p.pid} died:\n{p.tail()}")

    def stop(self) -> None:
        for p in self.procs:
            p.stop()
        if self.store is not None:
            self.store.drop()


# --------------------------------------------------------------------------- writer


class Writer:
    def __init__(self, port: int, cookie: str, run: str) -> None:
        self.port, self.cookie, self.run = port, cookie, run
        self.pending: dict[int, asyncio.Future] = {}
        self.ref = 0
        self.errors: list[str] = []
        self.acked = 0

    async def __aenter__(self) -> "Writer":
        from websockets.asyncio.client import connect

        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.ws = await connect(
            f"ws://127.0.0.1:{self.port}/ws/", origin=f"http://127.0.0.1:{self.port}", additional_headers=headers,
            compression=None, max_size=1 << 24, ping_interval=None,
        )  # fmt: skip
        self.reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader
        await self.ws.close()

    async def _read(self) -> None:
        async for message in self.ws:
            if message.startswith('{"op":"ok"') or message.startswith('{"op":"error"'):
                frame = json.loads(message)
                fut = self.pending.pop(frame.get("ref"), None)
                if frame["op"] == "error":
                    self.errors.append(message[:300])
                else:
                    self.acked += 1
                if fut is not None and not fut.done():
                    fut.set_result(time.time_ns())

    async def post(self, phase: str, i: int) -> asyncio.Future:
        self.ref += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.ref] = fut
        title = f"bench {i} BLT{phase}.{time.time_ns()}X"
        frame = {
            "op": "announcements.post", "ref": self.ref, "cid": f"{self.run}.{phase}.{i}",
            "args": {"branch": C.BRANCH, "title": title, "body": BODY},
        }  # fmt: skip
        await self.ws.send(json.dumps(frame, ensure_ascii=False))
        return fut

    async def burst(self, phase: str, k: int, window: int) -> tuple[int, int]:
        sem = asyncio.Semaphore(window)
        futs = []
        first = time.time_ns()
        for i in range(k):
            await sem.acquire()
            fut = await self.post(phase, i)
            fut.add_done_callback(lambda _f: sem.release())
            futs.append(fut)
        done = await asyncio.wait_for(asyncio.gather(*futs), 120)
        return first, max(done)

    async def paced(self, phase: str, count: int, rate: float) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        futs = []
        for i in range(count):
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            futs.append(await self.post(phase, i))
        await asyncio.wait_for(asyncio.gather(*futs), 60)


# --------------------------------------------------------------------------- one measurement


async def measure(server: Server, n: int, args, run: str, work: Path) -> dict:
    row: dict = {"shape": server.shape, "n": n}
    ports = server.ports
    # Subscribe as a resuming client (since = head): no 50-item snapshot per socket, so
    # opening 1,000 sockets costs the server less; live delivery is the same path.
    since = C.stream_head(ports[0], server.cookie_writer) if server.persistent else None
    # Subscribers in their own process(es), never in the server's or the writer's.
    nw = max(1, args.workers)
    cfgs = [
        {
            "ports": ports, "cookies": [server.cookie_reader] if server.cookie_reader else [],
            "n": n // nw + (1 if i < n % nw else 0), "offset": i, "since": since,
        }  # fmt: skip
        for i in range(nw)
    ]
    workers = C.Workers()
    try:
        ready = await workers.start(cfgs)
        row["subscribed"] = sum(r["ready"] for r in ready)
        errs = {k: v for r in ready for k, v in r["errors"].items()}
        if errs:
            row["connect_errors"] = errs
        await asyncio.sleep(1.5)  # let the presence flush (1 s) go out before timing
        async with Writer(ports[0], server.cookie_writer, run) as writer:
            # warm-up: a couple of events through the whole path
            phase = f"w{n}"
            await workers.ask({"cmd": "phase", "phase": phase})
            await writer.burst(phase, 3, 1)
            await workers.ask({"cmd": "wait", "expect": 3, "timeout": 20})

            # (a) burst
            k = args.burst_events if args.burst_events else max(50, args.burst_frames // n)
            phase = f"b{n}"
            await workers.ask({"cmd": "phase", "phase": phase})
            profiler = start_profiler(args, server, f"{server.shape}-burst-{n}", work)
            cpu0 = cpu_seconds(server.pids()), cpu_seconds(workers.pids())
            first, last_ack = await writer.burst(phase, k, args.window)
            res = await workers.ask({"cmd": "wait", "expect": k, "timeout": args.burst_timeout, "lat_file": str(work / f"lb{n}")})
            cpu1 = cpu_seconds(server.pids()), cpu_seconds(workers.pids())
            stop_profiler(profiler)
            received = sum(r["received"] for r in res)
            last = max(r["last_ns"] for r in res)
            elapsed = (last - first) / 1e9 if last else float("nan")
            lat = sorted(load_lat([work / f"lb{n}"])[0])
            row.update(
                burst_events=k, burst_received=received, burst_expected=k * row["subscribed"],
                burst_elapsed=elapsed, burst_rate=received / elapsed if elapsed > 0 else 0.0,
                burst_ack_rate=k / ((last_ack - first) / 1e9), burst_p50=C.percentile(lat, 50) / 1e6,
                burst_p99=C.percentile(lat, 99) / 1e6, burst_incomplete=sum(r["expected"] // max(1, k) - r["complete"] for r in res),
                frame_bytes=(sum(r["bytes"] for r in res) / received) if received else 0,
                srv_cpu=(cpu1[0] - cpu0[0]), cli_cpu=(cpu1[1] - cpu0[1]),
            )  # fmt: skip

            # (b) paced at 1,000 deliveries/s
            rate = 1000.0 / n
            count = max(1, math.ceil(rate * args.paced_seconds))
            phase = f"p{n}"
            await workers.ask({"cmd": "phase", "phase": phase})
            await writer.paced(phase, count, rate)
            files = [work / f"lp{n}-{i}" for i in range(nw)]
            res = await workers.ask([{"cmd": "wait", "expect": count, "timeout": 30, "lat_file": str(f)} for f in files])
            lat, sent = load_lat(files)
            events = per_event(lat, sent)
            if args.dump_lat:
                dump_timeline(events, Path(args.dump_lat) / f"{server.shape}-paced-{n}.txt")
            lat = sorted(lat)
            firsts = sorted(first for _, first, _ in events)
            row.update(
                paced_events=count, paced_received=len(lat), paced_expected=count * row["subscribed"],
                p50=C.percentile(lat, 50) / 1e6, p99=C.percentile(lat, 99) / 1e6, pmax=(lat[-1] / 1e6 if lat else float("nan")),
                first_p50=C.percentile(firsts, 50) / 1e6,
            )  # fmt: skip
            row["writer_errors"] = writer.errors[:3]
            row["acked"] = writer.acked
        server.check_alive()
        # (c) RSS with the subscribers still connected, after the run
        row["rss_mb"] = server.rss() / 2**20
    finally:
        await workers.stop()
    return row


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        with contextlib.suppress(Exception):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


def per_event(lat: array.array, sent: array.array) -> list[tuple[int, int, int]]:
    """(send time, first receipt's latency, last receipt's latency) per event, in send
    order: each delivery carries its event's send time (bench/_common.py)."""
    spans: dict[int, list[int]] = {}
    for at, ns in zip(sent, lat):
        span = spans.get(at)
        if span is None:
            spans[at] = [ns, ns]
        elif ns < span[0]:
            span[0] = ns
        elif ns > span[1]:
            span[1] = ns
    return [(at, first, last) for at, (first, last) in sorted(spans.items())]


def dump_timeline(events: list[tuple[int, int, int]], out: Path) -> None:
    """Per event, in send order: the first and the last subscriber's latency in ms, to
    spot periodic stalls."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        for i, (_, first, last) in enumerate(events):
            fh.write(f"{i} first {first / 1e6:.2f} last {last / 1e6:.2f}\n")


def load_lat(files: list[Path]) -> tuple[array.array, array.array]:
    """Every delivery's latency and its event's send time, in pairs, from the workers'
    files (then removed); a worker's two files are read both, or neither."""
    lat, sent = array.array("q"), array.array("q")
    for f in files:
        paired = Path(str(f) + ".sent")
        with contextlib.suppress(FileNotFoundError):
            lat_bytes, sent_bytes = f.read_bytes(), paired.read_bytes()
            lat.frombytes(lat_bytes)
            sent.frombytes(sent_bytes)
        f.unlink(missing_ok=True)
        paired.unlink(missing_ok=True)
    return lat, sent


def start_profiler(args, server: Server, name: str, work: Path):
    if not args.profile or not server.persistent or name.split("-")[-1] != str(max(args.n)):
        return None
    out = Path(args.profile) / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [args.py_spy, "record", "-p", str(server.pids()[0]), "-r", "200", "-f", "raw", "-o", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop_profiler(proc) -> None:
    if proc is None:
        return
    proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(20)
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def check_persisted(server: Server, head_before: int, run: str) -> str:
    events = C.stream_events(server.ports[0], server.cookie_writer, head_before)
    ours = [e for e in events if "BLT" in e["data"].get("title", "")]
    seqs = [e["seq"] for e in events]
    gapless = seqs == list(range(head_before + 1, head_before + 1 + len(seqs)))
    return f"{len(ours)} events in log after seq {head_before}, seqs {'gapless' if gapless else 'NOT gapless'}"


# --------------------------------------------------------------------------- report


def fmt(v, spec: str = ".0f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def best_bare(rows: list[dict]) -> dict[int, dict]:
    """Per N, the best bare figures over its runs (highest throughput, lowest p99).

    The machine is shared: one unlucky bare run would flatter our ratios, so the ratios
    use bare at its best (conservative for us)."""
    best: dict[int, dict] = {}
    for r in rows:
        if r["shape"] != "bare":
            continue
        b = best.setdefault(r["n"], dict(r))
        b["burst_rate"] = max(b["burst_rate"], r["burst_rate"])
        b["p99"] = min(b["p99"], r["p99"])
    return best


def print_table(rows: list[dict]) -> None:
    bare = best_bare(rows)
    head = (
        f"{'shape':<9} {'N':>5} {'subs':>5} | {'K':>4} {'deliv/s':>8} {'x bare':>6} {'acks/s':>6} {'burst s':>7} {'b.p50ms':>7} | "
        f"{'1st ms':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'x bare':>6} | {'RSS MB':>6} {'srv%':>4} {'cli%':>4} {'us/dlv':>6} {'lost':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        b = bare.get(r["n"])
        tr = r["burst_rate"] / b["burst_rate"] if b and b.get("burst_rate") else None
        pr = r["p99"] / b["p99"] if b and b.get("p99") else None
        lost = (r["burst_expected"] - r["burst_received"]) + (r["paced_expected"] - r["paced_received"])
        print(
            f"{r['shape']:<9} {r['n']:>5} {r['subscribed']:>5} | {r['burst_events']:>4} {fmt(r['burst_rate']):>8} "
            f"{fmt(tr, '.2f') if r['shape'] != 'bare' else '1':>6} {fmt(r['burst_ack_rate']):>6} {fmt(r['burst_elapsed'], '.2f'):>7} "
            f"{fmt(r['burst_p50'], '.0f'):>7} | {fmt(r.get('first_p50'), '.2f'):>6} {fmt(r['p50'], '.2f'):>7} {fmt(r['p99'], '.2f'):>7} {fmt(r['pmax'], '.1f'):>7} "
            f"{fmt(pr, '.2f') if r['shape'] != 'bare' else '1':>6} | {fmt(r['rss_mb'], '.0f'):>6} "
            f"{fmt(100 * r['srv_cpu'] / r['burst_elapsed']):>4} {fmt(100 * r['cli_cpu'] / r['burst_elapsed']):>4} "
            f"{fmt(1e6 * r['srv_cpu'] / max(1, r['burst_received']), '.1f'):>6} {lost:>5}"
        )
    print()
    print("targets: throughput ratio (ours/bare) >= 0.35; p99 ratio (ours/bare) <= 1.5 "
          "(against bare's best run per N: highest deliv/s, lowest p99)")
    for r in rows:
        b = bare.get(r["n"])
        if r["shape"] == "bare" or not b:
            continue
        tr = r["burst_rate"] / b["burst_rate"] if b.get("burst_rate") else float("nan")
        pr = r["p99"] / b["p99"] if b.get("p99") else float("nan")
        if r["shape"] == "barepg":
            print(f"  {r['shape']:<9} N={r['n']:<5} throughput {tr:.2f}, p99 {pr:.2f}: the floor for committing to PostgreSQL first, not a target")
            continue
        print(
            f"  {r['shape']:<9} N={r['n']:<5} throughput {tr:.2f} ({'met' if tr >= 0.35 else 'MISSED'}), "
            f"p99 {pr:.2f} ({'met' if pr <= 1.5 else 'MISSED'})"
        )


# --------------------------------------------------------------------------- main


async def run_all(args) -> int:
    C.raise_nofile()
    run = f"r{os.getpid()}{int(time.time()) % 100000}"
    rows: list[dict] = []
    notes: list[str] = []
    t_start = time.monotonic()
    load0 = os.getloadavg()[0]
    shapes = list(args.shapes)
    if args.bare_repeat and "bare" in shapes and len(shapes) > 1:
        shapes.append("bare")  # again at the end: the better of two runs is the yardstick
    for shape in shapes:
        if time.monotonic() - t_start > args.budget:
            notes.append(f"{shape}: skipped, time budget of {args.budget:.0f}s used up")
            continue
        work = C.tmpdir(f"blbench-{shape}-")
        server = Server(shape, work)
        try:
            t0 = time.monotonic()
            server.start()
            head_before = C.stream_head(server.ports[0], server.cookie_writer) if server.persistent else 0
            print(f"# {shape}: up in {time.monotonic() - t0:.1f}s on port(s) {server.ports}, pid(s) {server.pids()}", flush=True)
            acked = 0
            for n in args.n:
                if time.monotonic() - t_start > args.budget:
                    notes.append(f"{shape} N={n}: skipped, time budget of {args.budget:.0f}s used up")
                    print(f"#   N={n}: skipped (time budget)", flush=True)
                    continue
                row = await measure(server, n, args, run, work)
                rows.append(row)
                acked += row.get("acked", 0)
                extra = f" connect errors {row['connect_errors']}" if row.get("connect_errors") else ""
                if row.get("writer_errors"):
                    extra += f" writer errors {row['writer_errors']}"
                print(
                    f"#   N={n}: burst {row['burst_received']}/{row['burst_expected']} frames in {row['burst_elapsed']:.2f}s "
                    f"= {row['burst_rate']:.0f}/s; paced {row['paced_received']}/{row['paced_expected']} "
                    f"p50 {row['p50']:.2f} ms p99 {row['p99']:.2f} ms; RSS {row['rss_mb']:.0f} MB; "
                    f"event frame {row['frame_bytes']:.0f} B{extra}",
                    flush=True,
                )
            if server.persistent:
                msg = check_persisted(server, head_before, run)
                notes.append(f"{shape}: writer got {acked} acks (incl. warm-up); {msg}")
                print(f"#   persisted: {notes[-1]}", flush=True)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next shape
            print(f"# {shape}: FAILED: {type(exc).__name__}: {exc}", flush=True)
            for p in server.procs:
                print(p.tail(15))
        finally:
            server.stop()
            C.rmtree(work)
    print()
    print(f"Fan-out, one stream, one writer (window {args.window}); paced = 1,000 deliveries/s for {args.paced_seconds:.0f}s; "
          f"{os.cpu_count()} CPUs; load avg at start {load0:.1f}, at end {os.getloadavg()[0]:.1f}; total {time.monotonic() - t_start:.0f}s")  # fmt: skip
    print_table(rows)
    if notes:
        print()
        print("persistence (d) and notes:")
        for n in notes:
            print(f"  {n}")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", default="bare,embedded,scaled", help="any of bare,embedded,scaled,scaled2,barepg")
    p.add_argument("--n", default="100,1000", help="subscriber counts")
    p.add_argument("--burst-frames", type=int, default=30_000, help="burst size: K = max(50, this / N) events")
    p.add_argument("--burst-events", type=int, default=0, help="fixed K instead of --burst-frames")
    p.add_argument("--burst-timeout", type=float, default=60)
    p.add_argument("--window", type=int, default=8, help="writer pipelining window")
    p.add_argument("--paced-seconds", type=float, default=20)
    p.add_argument("--workers", type=int, default=1, help="subscriber client processes")
    p.add_argument("--profile", default="", help="directory: py-spy the (first) daphne during the largest-N burst")
    p.add_argument("--py-spy", default="py-spy")
    p.add_argument("--dump-lat", default="", help="directory: per-event latency timeline of the paced runs")
    p.add_argument("--no-bare-repeat", dest="bare_repeat", action="store_false", help="run bare only once, first")
    p.add_argument("--budget", type=float, default=250, help="skip measurements that would start after this many seconds")
    p.add_argument("--bare-server", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--bare-pg", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.bare_server:
        asyncio.run(bare_server(args.bare_server, args.bare_pg))
        return 0
    args.shapes = [s for s in args.shapes.split(",") if s]
    args.n = [int(x) for x in args.n.split(",") if x]
    return asyncio.run(run_all(args))


if __name__ == "__main__":
    sys.exit(main())
