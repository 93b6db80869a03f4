"""Shared plumbing for the benchmarks in bench/ (not a test; nothing here asserts timings).

* server processes: prepare a database (migrate + seed_demo), start daphne with the
  rate limits raised, log in over HTTP, read RSS;
* a lean asyncio WebSocket client (`RawWS`): a plain asyncio.Protocol that does the
  RFC 6455 handshake and parses server frames straight from `data_received` with no
  per-frame coroutine. One client process can then absorb ~100k frames/s, so on a
  2-core machine the clients steal as little CPU from the server under test as
  possible. It answers pings (daphne pings idle sockets every 20 s) and closes;
* the subscriber worker (`python bench/_common.py subscribers '<json>'`): opens N
  sockets, subscribes each to a stream, then obeys line-delimited JSON commands on
  stdin (phase / wait / stats / quit) and answers on stdout. Receive timestamps are
  `time.time_ns()` taken once per `data_received` call; the writer embeds its own
  `time.time_ns()` at send in the announcement title as `BLT<phase>.<ns>X`, so a
  subscriber computes latency without parsing JSON.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import http.cookiejar
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DEMO_PASSWORD = "branchline-demo"
STREAM = "announcements:2"  # 第一党支部: shuji is its secretary, dangyuan a member
BRANCH = 2
MARK = b"BLT"


# --------------------------------------------------------------------------- processes


def raise_nofile(want: int = 1_000_000) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _preexec_nofile() -> None:  # runs in the child before exec
    raise_nofile()
    os.setsid()  # own process group: cleanup can kill exactly what we started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "SQLITE_PATH"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
            # The writer must not be rate-limited.
            "WS_RATE_PER_SECOND": "1000000",
            "WS_RATE_BURST": "1000000",
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    proc = subprocess.run([PY, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def prepare_db(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")


def create_pg_db(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_pg_db(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ShapeStore:
    """Where one shape's server keeps its data: a temp SQLite file (embedded), or a fresh
    PostgreSQL database plus a Redis key prefix of its own (scaled). `drop()` removes them."""

    def __init__(self, shape: str, work: Path, tag: str = "") -> None:
        self.pg_db: str | None = None
        self.prefix: str | None = None
        media = {"MEDIA_ROOT": str(work / f"{tag or 'bench'}-media")}  # the demo's attachment
        if shape == "embedded":
            self.env = server_env({"SQLITE_PATH": str(work / f"{tag or 'bench'}.sqlite3"), **media})
            return
        part = f"{tag}_" if tag else ""
        self.pg_db = f"bl_bench_{part}{os.getpid()}_{shape}"
        self.prefix = f"blbench{tag}{os.getpid()}{shape}"
        create_pg_db(self.pg_db)
        self.env = server_env(
            {
                **media,
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.pg_db}",
                "REDIS_URL": "redis://127.0.0.1:6379/0",
                "REDIS_PREFIX": self.prefix,
            }
        )

    def drop(self) -> None:
        if self.pg_db:
            with contextlib.suppress(Exception):
                drop_pg_db(self.pg_db)
        if self.prefix:
            redis_cleanup(self.prefix)


def redis_cleanup(prefix: str) -> None:
    """Remove whatever keys the channel layer left under our prefix (pub/sub leaves none)."""
    with contextlib.suppress(Exception):
        keys = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "--scan", "--pattern", f"{prefix}*"], capture_output=True, text=True, timeout=10
        ).stdout.split()
        if keys:
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "del", *keys], capture_output=True, timeout=10)


class Proc:
    """A child process in its own process group, killed (group and all) on stop()."""

    def __init__(self, argv: list[str], env: dict[str, str] | None, log_path: Path, cwd: Path = ROOT) -> None:
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.popen = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_preexec_nofile
        )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def rss(self) -> int:
        import psutil

        return psutil.Process(self.pid).memory_info().rss

    def tail(self, n: int = 30) -> str:
        with contextlib.suppress(Exception):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(5)
        self.log.close()


def wait_http(port: int, path: str = "/healthz", timeout: float = 30, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"server exited early:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path} in {timeout}s")


def start_daphne(env: dict[str, str], port: int, log_path: Path) -> Proc:
    argv = [
        str(Path(PY).parent / "daphne"),
        "-b", "127.0.0.1", "-p", str(port),
        "--websocket-max-message-size", "1048576", "--websocket-max-frame-size", "1048576",
        "--ping-interval", "20", "--ping-timeout", "30",
        "server.asgi:application",
    ]  # fmt: skip
    proc = Proc(argv, env, log_path)
    wait_http(port, proc=proc)
    return proc


def login(port: int, username: str) -> str:
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/login/").read()
    token = [c.value for c in jar if c.name == "csrftoken"][0]
    data = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}).encode()
    opener.open(urllib.request.Request(base + "/login/", data=data, headers={"Referer": base + "/login/"})).read()
    if not any(c.name == "sessionid" for c in jar):
        raise RuntimeError(f"login as {username} failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def get_json(port: int, path: str, cookie: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def stream_events(port: int, cookie: str, after: int, stream: str = STREAM) -> list[dict]:
    """Every event of `stream` after `after`, via the HTTP export API (paged by 5000)."""
    out: list[dict] = []
    while True:
        page = get_json(port, f"/api/streams/{stream}/events?after={after}&limit=5000", cookie)
        out.extend(page["events"])
        if len(page["events"]) < 5000:
            return out
        after = page["events"][-1]["seq"]


def stream_head(port: int, cookie: str, stream: str = STREAM) -> int:
    return get_json(port, f"/api/streams/{stream}/events?after=1000000000&limit=1", cookie)["head"]


def percentile(sorted_values, p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


# --------------------------------------------------------------------------- raw client


def _mask(payload: bytes) -> bytes:
    n = len(payload)
    key = os.urandom(4)
    if not n:
        return key
    full = (key * (n // 4 + 1))[:n]
    return key + (int.from_bytes(payload, "big") ^ int.from_bytes(full, "big")).to_bytes(n, "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + _mask(payload)


class RawWS(asyncio.Protocol):
    """Minimal WebSocket client protocol; subclasses implement on_message(payload, now_ns)."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str]) -> None:
        self.host, self.port, self.path, self.headers = host, port, path, headers
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.upgraded = False
        self.frag: list[bytes] | None = None
        loop = asyncio.get_running_loop()
        self.opened = loop.create_future()
        self.closed = loop.create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in self.headers.items()),
        ]
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost during handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)
        self.on_closed()

    def on_closed(self) -> None:
        pass

    def send_text(self, text: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(0x1, text.encode()))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()

    def on_message(self, payload: bytes, now_ns: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def data_received(self, data: bytes) -> None:
        if not self.upgraded:
            data = self.buf + data
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            head, data = data[:end], data[end + 4 :]
            self.buf = b""
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode("latin-1")))
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(None)
            if not data:
                return
        now = time.time_ns()
        if self.buf:
            data = self.buf + data
        pos, n = 0, len(data)
        while n - pos >= 2:
            b0, b1 = data[pos], data[pos + 1]
            length = b1 & 0x7F
            hdr = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                hdr = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                hdr = 10
            end = pos + hdr + length
            if end > n:
                break
            payload = data[pos + hdr : end]
            pos = end
            opcode = b0 & 0x0F
            if opcode in (1, 2):
                if b0 & 0x80:
                    self.on_message(payload, now)
                else:
                    self.frag = [payload]
            elif opcode == 0:
                if self.frag is not None:
                    self.frag.append(payload)
                    if b0 & 0x80:
                        whole, self.frag = b"".join(self.frag), None
                        self.on_message(whole, now)
            elif opcode == 9:  # ping -> pong
                self.transport.write(client_frame(0xA, payload))
            elif opcode == 8:  # close -> echo and hang up
                with contextlib.suppress(Exception):
                    self.transport.write(client_frame(0x8, payload[:2]))
                self.transport.close()
                break
        self.buf = data[pos:] if pos < n else b""


# --------------------------------------------------------------------------- subscriber worker


class Tally:
    def __init__(self) -> None:
        self.phase = b"-"
        self.total = 0
        self.other = 0
        self.bytes = 0
        self.last_ns = 0
        self.lat = array.array("q")
        self.sent = array.array("q")  # each delivery's send time: groups deliveries by event
        self.target = -1
        self.reached: asyncio.Event | None = None
        # exact mode (cfg "exact"): markers are BLT<phase>.<ns>X<index>Y; each connection
        # keeps a bitmap of the indices it got, so duplicates are counted, not added.
        self.exact = False
        self.size = 0
        self.dups = 0


class SubConn(RawWS):
    def __init__(self, tally: Tally, stream: str, *args) -> None:
        super().__init__(*args)
        self.tally = tally
        self.stream = stream
        self.count = 0
        self.seen: bytearray | None = None
        self.subscribed = asyncio.get_running_loop().create_future()
        self.subscribed.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.opened.add_done_callback(lambda f: f.cancelled() or f.exception())

    def on_message(self, payload: bytes, now_ns: int) -> None:
        t = self.tally
        i = payload.find(MARK)
        if i >= 0:
            j = payload.find(b".", i)
            if payload[i + 3 : j] == t.phase:
                k = payload.find(b"X", j)
                if t.exact:
                    index = int(payload[k + 1 : payload.find(b"Y", k)])
                    if self.seen is None or len(self.seen) < t.size:
                        self.seen = bytearray(t.size)
                    if index >= t.size or self.seen[index]:
                        t.dups += 1
                        return
                    self.seen[index] = 1
                sent = int(payload[j + 1 : k])
                t.lat.append(now_ns - sent)
                t.sent.append(sent)
                t.total += 1
                t.bytes += len(payload)
                self.count += 1
                if now_ns > t.last_ns:
                    t.last_ns = now_ns
                if t.total == t.target:
                    t.reached.set()
                return
        if not self.subscribed.done():
            if payload.startswith(b'{"op":"ok"'):
                self.subscribed.set_result(None)
                return
            if payload.startswith(b'{"op":"error"'):
                self.subscribed.set_exception(RuntimeError(payload[:300].decode(errors="replace")))
                return
        t.other += 1

    def on_closed(self) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError("closed before subscribe reply"))


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def subscribers_main(cfg: dict) -> None:
    """cfg: host, ports[], cookies[] (or cookies_file: one a line), n, stream, concurrency, offset."""
    raise_nofile()
    loop = asyncio.get_running_loop()
    tally = Tally()
    tally.reached = asyncio.Event()
    tally.exact = bool(cfg.get("exact"))
    host, ports, cookies = cfg.get("host", "127.0.0.1"), cfg["ports"], cfg.get("cookies", [])
    if cfg.get("cookies_file"):  # thousands of cookies do not fit on a command line
        cookies = Path(cfg["cookies_file"]).read_text().split()
    stream = cfg.get("stream", STREAM)
    sem = asyncio.Semaphore(cfg.get("concurrency", 100))
    conns: list[SubConn] = []
    errors: dict[str, int] = {}

    sub_args: dict = {"stream": stream}
    if cfg.get("since") is not None:
        sub_args["since"] = cfg["since"]  # resume from the head: no snapshot in the reply
    deadline = time.monotonic() + cfg.get("budget", 1e9)
    skipped = 0

    async def open_one(i: int) -> None:
        nonlocal skipped
        idx = i + cfg.get("offset", 0)
        port = ports[idx % len(ports)]
        headers = {"Origin": f"http://{host}:{port}"}
        if cookies:
            headers["Cookie"] = cookies[idx % len(cookies)]
        async with sem:
            for attempt in range(4):
                if time.monotonic() > deadline:
                    skipped += 1
                    return
                try:
                    _, conn = await asyncio.wait_for(
                        loop.create_connection(lambda: SubConn(tally, stream, host, port, "/ws/", headers), host, port), 30
                    )
                    await asyncio.wait_for(conn.opened, 30)
                    conn.send_text(json.dumps({"op": "subscribe", "ref": 1, "args": sub_args}))
                    await asyncio.wait_for(conn.subscribed, 60)
                    conns.append(conn)
                    return
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    key = f"{type(exc).__name__}: {str(exc)[:120]}"
                    errors[key] = errors.get(key, 0) + 1
                    await asyncio.sleep(0.2 * (attempt + 1))

    t0 = time.monotonic()
    await asyncio.gather(*(open_one(i) for i in range(cfg["n"])))
    _reply({"ready": len(conns), "errors": errors, "skipped": skipped, "seconds": round(time.monotonic() - t0, 2)})
    await command_loop(tally, conns)


async def command_loop(tally: Tally, conns: list[SubConn]) -> None:
    """Obey phase / wait / stats / quit lines on stdin (after the sockets are open), then close them."""
    reader = await _stdin_reader()
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        what = cmd["cmd"]
        if what == "phase":
            tally.phase = str(cmd["phase"]).encode()
            tally.total = tally.other = tally.bytes = tally.last_ns = 0
            tally.lat = array.array("q")
            tally.sent = array.array("q")
            tally.target = -1
            tally.reached.clear()
            tally.size = int(cmd.get("size", 0))  # exact mode: indices 0..size-1 in this phase
            tally.dups = 0
            for c in conns:
                c.count = 0
                c.seen = None
            _reply({"ok": True})
        elif what == "wait":
            target = cmd["expect"] * len(conns)
            tally.target = target
            if tally.total < target:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(tally.reached.wait(), cmd.get("timeout", 60))
            counts = [c.count for c in conns] or [0]
            if cmd.get("lat_file"):
                with open(cmd["lat_file"], "wb") as f:
                    tally.lat.tofile(f)
                with open(cmd["lat_file"] + ".sent", "wb") as f:
                    tally.sent.tofile(f)
            _reply(
                {
                    "received": tally.total,
                    "expected": target,
                    "complete": sum(1 for c in counts if c >= cmd["expect"]),
                    "min": min(counts),
                    "max": max(counts),
                    "last_ns": tally.last_ns,
                    "bytes": tally.bytes,
                    "other": tally.other,
                    "open": sum(1 for c in conns if not c.closed.done()),
                    "dups": tally.dups,
                }
            )
        elif what == "stats":
            _reply({"open": sum(1 for c in conns if not c.closed.done()), "other": tally.other, "total": tally.total})
        elif what == "quit":
            break
    for c in conns:
        c.close()
    await asyncio.sleep(0.2)
    _reply({"bye": True})


class Workers:
    """Subscriber worker processes driven over stdin/stdout from the orchestrator's loop."""

    def __init__(self) -> None:
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self, cfgs: list[dict], timeout: float = 300) -> list[dict]:
        for cfg in cfgs:
            proc = await asyncio.create_subprocess_exec(
                PY, str(Path(__file__).resolve()), "subscribers", json.dumps(cfg),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, preexec_fn=_preexec_nofile,
                limit=1 << 20,
            )  # fmt: skip
            self.procs.append(proc)
        return await asyncio.wait_for(asyncio.gather(*(self._read(p) for p in self.procs)), timeout)

    async def _read(self, proc) -> dict:
        line = await proc.stdout.readline()
        if not line:
            raise RuntimeError(f"subscriber worker {proc.pid} exited")
        return json.loads(line)

    async def ask(self, cmds: list[dict] | dict, timeout: float = 300) -> list[dict]:
        if isinstance(cmds, dict):
            cmds = [cmds] * len(self.procs)
        for proc, cmd in zip(self.procs, cmds):
            proc.stdin.write((json.dumps(cmd) + "\n").encode())
            await proc.stdin.drain()
        return await asyncio.wait_for(asyncio.gather(*(self._read(p) for p in self.procs)), timeout)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(Exception):
                    proc.stdin.write(b'{"cmd":"quit"}\n')
                    await proc.stdin.drain()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        self.procs = []


def tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "subscribers":
        asyncio.run(subscribers_main(json.loads(sys.argv[2])))
    else:
        print("usage: _common.py subscribers '<json config>'", file=sys.stderr)
        sys.exit(2)
