"""Fixtures for the embedded shape: daphne as a subprocess on a fresh SQLite file."""

from __future__ import annotations

import os
import shutil
from typing import Callable

import pytest

from tests.servers import STARTED, Daphne, ServerHandle, TempDir, log_tails, prepare_database, server_env


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        # The server side of a failure is usually in daphne's log: attach it.
        report.sections.append(("server logs", log_tails(80)))
    return report


EmbeddedServer = ServerHandle


@pytest.fixture(scope="session")
def sqlite_template():
    """One migrated, seeded SQLite file per session; each server gets a copy."""
    tmp = TempDir("branchline-live-template-")
    path = tmp.path / "template.sqlite3"
    ids = prepare_database(server_env(SQLITE_PATH=path))
    yield path, ids
    tmp.cleanup()


@pytest.fixture(scope="session")
def embedded_server_factory(sqlite_template) -> Callable[..., EmbeddedServer]:
    template, ids = sqlite_template
    tmp = TempDir("branchline-live-")
    started: list[Daphne] = []

    def make(name: str = "daphne", **env_extra: str | int) -> EmbeddedServer:
        db = tmp.path / f"{name}.sqlite3"
        shutil.copyfile(template, db)
        env = server_env(SQLITE_PATH=db, **env_extra)
        daphne = Daphne(env, name=name, log_dir=tmp.path)
        started.append(daphne)
        daphne.start()
        return EmbeddedServer(daphne=daphne, env=env, ids=ids)

    yield make
    for daphne in started:
        daphne.stop()
        if daphne in STARTED:
            STARTED.remove(daphne)
    if os.environ.get("BRANCHLINE_KEEP_TEST_LOGS"):
        print(f"logs kept in {tmp.path}")
    else:
        tmp.cleanup()


@pytest.fixture(scope="session")
def server(embedded_server_factory) -> EmbeddedServer:
    """A daphne with the default limits (20 frames/s, burst 60), shared by the live tests.

    Tests read the stream head before they act and assert relative to it, so sharing
    one server (and its logins) across modules keeps them independent.
    """
    return embedded_server_factory("daphne")


@pytest.fixture
def ensure_running(server):
    """A test that stops daphne must not leave it stopped for the next one."""
    yield server
    if not server.daphne.running:
        server.daphne.start()
