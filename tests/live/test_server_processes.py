"""The list of running server processes (realtime/processes.py), and a restore that
will not run under a live server."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.servers import PYTHON, REPO, django_shell

pytestmark = pytest.mark.live

RUNNING = "from realtime.processes import running\nresult = [[p.pid, p.host] for p in running()]\n"


def test_a_running_daphne_is_listed_holds_a_restore_back_and_is_gone_once_stopped(server, ensure_running, tmp_path):
    pid = server.daphne.proc.pid
    deadline = time.monotonic() + 10
    listed: list = []
    while time.monotonic() < deadline and not listed:  # its first word comes a second after the start
        listed = [row for row in django_shell(server.env, RUNNING) if row[0] == pid]
        if not listed:
            time.sleep(0.5)
    assert listed, "the running daphne never said it runs"

    proc = subprocess.run([PYTHON, "manage.py", "restore", str(tmp_path / "any.tar"), "--yes"], cwd=REPO,
                          env=server.env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "is not a Branchline backup" in proc.stderr  # a file that is no backup is refused before anything
    made = subprocess.run([PYTHON, "manage.py", "backup", "--to", str(tmp_path)], cwd=REPO, env=server.env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    (tar,) = tmp_path.glob("branchline-*.tar")
    proc = subprocess.run([PYTHON, "manage.py", "restore", str(tar), "--yes", "--to", str(tmp_path / "kept")],
                          cwd=REPO, env=server.env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert f"pid {pid}" in proc.stderr and "Stop every daphne process first" in proc.stderr, proc.stderr
    assert not (tmp_path / "kept").exists()

    server.daphne.stop()  # SIGTERM: it takes itself off the list as it goes
    assert [row for row in django_shell(server.env, RUNNING) if row[0] == pid] == []
