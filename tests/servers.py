"""Real servers for the live and scaled tests: daphne, redis-server, a PostgreSQL database.

Everything here starts real processes and talks to them over real sockets; nothing is
mocked. Each helper knows how to stop what it started (by its own pid, never by name),
and the fixtures in tests/live/conftest.py and tests/scaled/conftest.py register those
stops as finalizers so a failing test still leaves no process or temp file behind.
"""

from __future__ import annotations

import asyncio
import atexit
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
DAPHNE = str(VENV_BIN / "daphne") if (VENV_BIN / "daphne").exists() else shutil.which("daphne") or "daphne"
DEMO_PASSWORD = "branchline-demo"
# daphne's own inbound limit, as in `make serve` (the app itself refuses > 64 KiB).
DAPHNE_MAX_MESSAGE = 1024 * 1024

# Variables of the caller's environment that would silently change the shape under test.
_SHAPE_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_PREFIX",
    "SQLITE_PATH",
    "SQLITE_TEST_PATH",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_SETTINGS_MODULE",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_service(reason: str) -> None:
    """A service the test needs is missing: fatal in CI, a visible skip elsewhere."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


_media: list[str] = []


def _media_root() -> str:
    """One folder for the servers' uploaded files (the demo's attachment) per test run,
    not the checkout's var/media."""
    if not _media:
        _media.append(tempfile.mkdtemp(prefix="branchline-media-"))
        atexit.register(shutil.rmtree, _media[0], True)
    return _media[0]


def server_env(**extra: str | int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SHAPE_VARS and not k.startswith("WS_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "MEDIA_ROOT": _media_root(),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    proc = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


_RESULT_MARK = "@@BRANCHLINE_RESULT@@"


def django_shell(env: dict[str, str], code: str, timeout: float = 120) -> Any:
    """Run `code` in `manage.py shell -c` against the server's database; it sets `result`."""
    wrapped = f"{code}\nimport json as _json\nprint({_RESULT_MARK!r} + _json.dumps(result))\n"
    out = manage(env, "shell", "-c", wrapped, timeout=timeout)
    for line in out.splitlines():
        if line.startswith(_RESULT_MARK):
            return json.loads(line[len(_RESULT_MARK) :])
    raise RuntimeError(f"no result from shell:\n{out}")


def prepare_database(env: dict[str, str]) -> dict[str, Any]:
    """migrate + seed_demo (as subprocesses, with the server's env); returns ids the tests need."""
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    return django_shell(
        env,
        "from accounts.models import Branch\n"
        "from django.contrib.auth import get_user_model\n"
        "result = {'branches': {b.name: b.pk for b in Branch.objects.all()},\n"
        "          'users': {u.username: u.pk for u in get_user_model().objects.all()}}\n",
    )


def post_via_shell(env: dict[str, str], branch_id: int, titles: list[str], username: str = "shuji") -> list[int]:
    """Write announcements through the action, from a process that is not daphne."""
    return django_shell(
        env,
        "from django.contrib.auth import get_user_model\n"
        "from accounts.identity import identity_for_user\n"
        "from announcements.actions import post_announcement\n"
        f"ident = identity_for_user(get_user_model().objects.get(username={username!r}))\n"
        f"result = [post_announcement(identity=ident, branch_id={branch_id}, title=t, body='body of ' + t).seq\n"
        f"          for t in {titles!r}]\n",
    )


def db_counts(env: dict[str, str], stream: str, title_prefix: str = "") -> dict[str, Any]:
    branch_id = int(stream.split(":")[1])
    return django_shell(
        env,
        "from realtime.models import Event, Stream\n"
        "from announcements.models import Announcement\n"
        f"s = Stream.objects.filter(key={stream!r}).values_list('last_seq', flat=True).first() or 0\n"
        f"seqs = list(Event.objects.filter(stream_id={stream!r}).order_by('seq').values_list('seq', flat=True))\n"
        f"a = Announcement.objects.filter(branch_id={branch_id}, title__startswith={title_prefix!r})\n"
        "result = {'head': s, 'event_seqs': seqs, 'announcements': a.count(),\n"
        "          'titles': sorted(a.values_list('title', flat=True))}\n",
    )


# -- daphne ------------------------------------------------------------------------------


# Every daphne and redis-server started in this test session, for failure reports.
STARTED: list[Any] = []


def log_tails(lines: int = 60) -> str:
    parts = []
    for server in STARTED:
        text = server.log_tail(lines) if hasattr(server, "log_tail") else ""
        if text:
            parts.append(f"----- {server.name} ({'running' if server.running else 'stopped'}) -----\n{text}")
    return "\n".join(parts)


class Daphne:
    """One daphne process serving server.asgi:application on a fixed port."""

    def __init__(self, env: dict[str, str], *, name: str, log_dir: Path, port: int | None = None) -> None:
        STARTED.append(self)
        self.env = env
        self.name = name
        self.port = port or free_port()
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def origin(self) -> str:
        return self.base_url

    def start(self, timeout: float = 30, *, healthy: bool = True) -> None:
        """Start and wait for /healthz: a 200, or (healthy=False) any answer at all."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start #{self.starts} on port {self.port} =====\n".encode())
        log.flush()
        try:
            self.proc = subprocess.Popen(
                [
                    DAPHNE,
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "--websocket-max-message-size",
                    str(DAPHNE_MAX_MESSAGE),
                    "--websocket-max-frame-size",
                    str(DAPHNE_MAX_MESSAGE),
                    "server.asgi:application",
                ],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self.wait_healthy(timeout, any_status=not healthy)

    def wait_healthy(self, timeout: float = 30, *, any_status: bool = False) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, body = self.healthz(timeout=6)
                last = (status, body)
                if status == 200 or any_status:
                    return body
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy within {timeout}s (last: {last}):\n{self.log_tail()}")

    def healthz(self, timeout: float = 10) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                return exc.code, json.loads(body or b"{}")
            except ValueError:
                return exc.code, {"raw": body[:300].decode("utf-8", "replace")}

    def stop(self, timeout: float = 10) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@dataclass
class ServerHandle:
    """A daphne plus what tests need to know about its data (branch ids, logins)."""

    daphne: Daphne
    env: dict[str, str]
    ids: dict[str, Any]
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def b1(self) -> int:
        return self.ids["branches"]["第一党支部"]

    @property
    def b2(self) -> int:
        return self.ids["branches"]["第二党支部"]

    @property
    def g1(self) -> int:
        return self.ids["branches"]["第一党小组"]

    def cookie(self, username: str) -> str:
        # Sessions live in the database, so a cookie outlives a daphne restart (and, in
        # the scaled shape, works on every daphne of the same database).
        if username not in self.cookies:
            self.cookies[username] = login(self.daphne.base_url, username)
        return self.cookies[username]


async def health_becomes(daphne: Daphne, status: int, timeout: float) -> dict:
    """Poll /healthz (off the event loop) until it answers `status`; returns the body."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await asyncio.to_thread(daphne.healthz, 10)
            if last[0] == status:
                return last[1]
        except OSError as exc:
            last = exc
        await asyncio.sleep(0.3)
    raise AssertionError(f"{daphne.name}: /healthz did not become {status} within {timeout}s: {last}")


# -- redis-server ------------------------------------------------------------------------


class RedisServer:
    """A private redis-server (no persistence) that a test may kill and start again."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.log_path = workdir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self.name = f"redis-{self.port}"
        STARTED.append(self)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self.workdir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def command(self, *args: str, timeout: float = 2) -> Any:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            return client.execute_command(*args)
        finally:
            client.close()

    def ping(self) -> bool:
        try:
            return bool(self.command("PING", timeout=0.5))
        except Exception:
            return False

    def kill(self) -> None:
        """SIGKILL: a crash, not a shutdown; the port is free again at once."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.kill()
        proc.wait(10)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# -- PostgreSQL ----------------------------------------------------------------------------

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def pg_unavailable_reason() -> str | None:
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL is not reachable as user postgres at 127.0.0.1:5432 without a password ({exc})"
    return None


def pg_create_database() -> str:
    import psycopg

    name = f"branchline_scaled_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def pg_drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- HTTP login ----------------------------------------------------------------------------


def login(base_url: str, username: str, password: str = DEMO_PASSWORD) -> str:
    """Log in through the real /login/ form; returns a Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base_url + "/login/", timeout=20).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(
        base_url + "/login/", data=form.encode(), headers={"Referer": base_url + "/login/"}
    )
    opener.open(request, timeout=20).read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"login as {username!r} failed: no session cookie")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# -- WebSocket client ----------------------------------------------------------------------


class OpFailed(AssertionError):
    def __init__(self, frame: dict) -> None:
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.frame = frame


@dataclass
class Client:
    """A /ws/ client that files replies by ref and events by stream, as they arrive."""

    conn: ClientConnection
    label: str = "client"
    events: dict[str, list[dict]] = field(default_factory=dict)
    others: list[dict] = field(default_factory=list)
    # Replies without a ref (e.g. errors for frames the server would not parse).
    unmatched: list[dict] = field(default_factory=list)
    _waiters: dict[Any, asyncio.Future] = field(default_factory=dict)
    _replies: dict[Any, dict] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _next_ref: int = 0
    _reader: asyncio.Task | None = None
    close_code: int | None = None

    @classmethod
    async def open(
        cls, server: Daphne, cookie: str | None = None, *, label: str = "client", origin: str | None = None, **kw
    ) -> Client:
        headers = {"Cookie": cookie} if cookie else {}
        kw.setdefault("compression", None)
        kw.setdefault("open_timeout", 10)
        kw.setdefault("max_size", 4 * 1024 * 1024)
        # origin="" sends no Origin header at all.
        origin = server.origin if origin is None else origin or None
        conn = await connect(server.ws_url, origin=origin, additional_headers=headers, **kw)
        client = cls(conn=conn, label=label)
        client._reader = asyncio.create_task(client._read(), name=f"reader-{label}")
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                frame = json.loads(raw)
                op = frame.get("op")
                if op in ("ok", "error"):
                    ref = frame.get("ref")
                    waiter = self._waiters.pop(ref, None) if ref is not None else None
                    if waiter is not None and not waiter.done():
                        waiter.set_result(frame)
                    elif ref is not None:
                        self._replies[ref] = frame
                    else:
                        self.unmatched.append(frame)
                elif op == "event":
                    self.events.setdefault(frame["stream"], []).append(frame)
                else:
                    self.others.append(frame)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.conn.close_code
            for waiter in self._waiters.values():
                if not waiter.done():
                    waiter.set_exception(ConnectionError(f"{self.label}: connection closed ({self.close_code})"))
                    waiter.exception()  # whoever awaits it still gets it; nobody awaiting is fine
            self._changed.set()

    def ref(self) -> str:
        self._next_ref += 1
        return f"{self.label}-{self._next_ref}"

    def expect(self, ref: Any) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        if ref in self._replies:
            fut.set_result(self._replies.pop(ref))
        else:
            self._waiters[ref] = fut
        return fut

    async def send_frame(self, op: str, args: dict | None = None, *, cid: str | None = None, ref: Any = None) -> Any:
        ref = self.ref() if ref is None else ref
        frame: dict = {"op": op, "ref": ref}
        if args is not None:
            frame["args"] = args
        if cid is not None:
            frame["cid"] = cid
        await self.conn.send(json.dumps(frame, ensure_ascii=False))
        return ref

    async def request(self, op: str, args: dict | None = None, *, cid: str | None = None, timeout: float = 20) -> dict:
        """Send one frame and return its reply frame (ok or error)."""
        ref = self.ref()
        fut = self.expect(ref)
        await self.send_frame(op, args, cid=cid, ref=ref)
        return await asyncio.wait_for(fut, timeout)

    async def call(self, op: str, args: dict | None = None, *, cid: str | None = None, timeout: float = 20) -> dict:
        reply = await self.request(op, args, cid=cid, timeout=timeout)
        if reply["op"] != "ok":
            raise OpFailed(reply)
        return reply["data"]

    async def subscribe(self, stream: str, since: int | None = None) -> dict:
        args: dict = {"stream": stream}
        if since is not None:
            args["since"] = since
        return await self.call("subscribe", args)

    async def post(self, branch_id: int, title: str, *, cid: str | None = None, body: str = "body") -> dict:
        return await self.call(
            "announcements.post", {"branch": branch_id, "title": title, "body": body}, cid=cid or new_cid()
        )

    def seqs(self, stream: str) -> list[int]:
        return [e["seq"] for e in self.events.get(stream, [])]

    async def wait_for(self, predicate, timeout: float, what: str = "condition") -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"{self.label}: timed out after {timeout}s waiting for {what}")
            if self._reader is not None and self._reader.done() and not predicate():
                raise AssertionError(f"{self.label}: connection closed ({self.close_code}) waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass

    async def wait_seq(self, stream: str, seq: int, timeout: float = 20) -> None:
        await self.wait_for(
            lambda: any(s >= seq for s in self.seqs(stream)),
            timeout,
            f"{stream} seq {seq} (have up to {max(self.seqs(stream), default=None)})",
        )

    @property
    def is_open(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.conn.close(), 5)
        except Exception:
            pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:
                pass


def new_cid() -> str:
    return "t-" + uuid.uuid4().hex


def assert_exact_seqs(label: str, got: list[int], expected: list[int]) -> None:
    """Every expected seq exactly once, in order, nothing else; says where it first differs."""
    if got == expected:
        return
    dupes = sorted({s for s in got if got.count(s) > 1}) if len(got) < 5000 else "?"
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    raise AssertionError(
        f"{label}: got {len(got)} events, expected {len(expected)}; first difference at index {first} "
        f"(got {got[first : first + 5]}, expected {expected[first : first + 5]}); "
        f"missing {missing[:20]}{'...' if len(missing) > 20 else ''}; extra {extra[:20]}; duplicates {dupes}"
    )


class TempDir:
    """A temp directory removed by `cleanup()` (tmp_path keeps old runs; we keep nothing)."""

    def __init__(self, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
