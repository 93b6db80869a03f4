"""A real Branchline server for browser tests: daphne in a subprocess on a temporary SQLite file.

Self-contained on purpose (tests/live has its own): the browser suite must not depend
on another suite's fixtures. The embedded shape only: DATABASE_URL and REDIS_URL are
removed from the child's environment, so a developer's shell cannot point the
browser tests at a shared database.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DAPHNE = str(Path(PYTHON).with_name("daphne"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    dropped = {"DATABASE_URL", "REDIS_URL", "DEBUG", "HTTPS"}  # HTTPS would make cookies Secure-only
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "server.settings",
            # Fixed, so sessions survive a restart in the middle of a test, and nothing
            # is written to the checkout's var/.
            "SECRET_KEY": "branchline-browser-tests-not-a-secret",
            "SQLITE_PATH": str(db_path),
            "MEDIA_ROOT": str(db_path.parent / "media"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # What a test posts from another process (post_announcement: a manage.py shell)
            # reaches an embedded daphne (in-memory layer) only at its next check of the
            # stream heads. At the default 5 s that raced Playwright's 5 s wait for it.
            "WS_HEAD_CHECK_SECONDS": "1",
        }
    )
    env.update(extra or {})
    return env


def manage(db_path: Path, *args: str, timeout: float = 60) -> str:
    """Run a manage.py command against db_path; raise with its output if it fails."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=server_env(db_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build_seeded_database(db_path: Path) -> None:
    manage(db_path, "migrate", "--noinput", "-v", "0")
    manage(db_path, "seed_demo")


def copy_database(source: Path, target: Path) -> None:
    """Copy through SQLite's backup API, so a WAL file is never left behind."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


class BranchlineServer:
    def __init__(self, db_path: Path, log_path: Path, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.db_path = db_path
        self.log_path = log_path
        self.env = env or {}
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "server.asgi:application"],
            cwd=ROOT,
            env=server_env(self.db_path, self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not become healthy within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def manage(self, *args: str) -> str:
        return manage(self.db_path, *args)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.db_path, timeout=10) as db:
            return db.execute(sql, params).fetchall()

    def branch_id(self, name: str) -> int:
        rows = self.query("SELECT id FROM accounts_branch WHERE name = ?", (name,))
        assert rows, f"no branch named {name!r} in the demo data"
        return rows[0][0]

    def post_announcement(self, *, username: str, branch_id: int, title: str, body: str) -> None:
        """Post from a separate process through the same action users trigger."""
        code = (
            "from django.contrib.auth import get_user_model\n"
            "from accounts.identity import identity_for_user\n"
            "from announcements.actions import post_announcement\n"
            f"user = get_user_model().objects.get(username={username!r})\n"
            f"post_announcement(identity=identity_for_user(user), branch_id={branch_id}, "
            f"title={title!r}, body={body!r})\n"
        )
        self.manage("shell", "-c", code)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
