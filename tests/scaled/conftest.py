"""Fixtures for the scaled shape: PostgreSQL + a private redis-server + two daphnes.

The database is created fresh for the session (branchline_scaled_<random>) on the
machine's PostgreSQL and dropped at the end; the redis-server is private to the
session, on a free port, so a test may kill and restart it. Each pair of daphne
processes gets a unique REDIS_PREFIX. Tests that kill Redis start it again in a
`finally`, so the next test finds it running.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from tests.servers import (
    STARTED,
    Daphne,
    RedisServer,
    ServerHandle,
    TempDir,
    log_tails,
    pg_create_database,
    pg_drop_database,
    pg_unavailable_reason,
    prepare_database,
    require_service,
    server_env,
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        report.sections.append(("server logs", log_tails(80)))
    return report


@pytest.fixture(scope="session")
def pg_database() -> Any:
    reason = pg_unavailable_reason()
    if reason:
        require_service(reason)
    name = pg_create_database()
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        ids = prepare_database(server_env(DATABASE_URL=url))
        yield url, ids
    finally:
        pg_drop_database(name)


@pytest.fixture(scope="session")
def workdir():
    tmp = TempDir("branchline-scaled-")
    yield tmp.path
    if os.environ.get("BRANCHLINE_KEEP_TEST_LOGS"):
        print(f"logs kept in {tmp.path}")
    else:
        tmp.cleanup()


@pytest.fixture(scope="session")
def redis_server(workdir) -> Any:
    if shutil.which("redis-server") is None:
        require_service("redis-server is not installed (scripts/services ensure installs it)")
    redis = RedisServer(workdir)
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()
        if redis in STARTED:
            STARTED.remove(redis)


@dataclass
class Pair:
    """Two daphne processes on one database and one Redis: the scaled shape."""

    one: ServerHandle
    two: ServerHandle
    redis: RedisServer
    prefix: str

    @property
    def both(self) -> tuple[ServerHandle, ServerHandle]:
        return self.one, self.two

    def group_channel(self, stream: str) -> str:
        """The Redis pub/sub channel channels_redis uses for a stream's group."""
        return f"{self.prefix}__group__s.{stream.replace(':', '.')}"


@pytest.fixture(scope="session")
def pair_factory(pg_database, redis_server, workdir) -> Callable[..., Pair]:
    url, ids = pg_database
    started: list[Daphne] = []
    # Sessions live in the one database: a login is good on every daphne of the session.
    cookies: dict[str, str] = {}

    def make(**env_extra: str | int) -> Pair:
        prefix = f"bltest{uuid.uuid4().hex[:8]}"
        env = server_env(DATABASE_URL=url, REDIS_URL=redis_server.url, REDIS_PREFIX=prefix, **env_extra)
        handles = []
        for n in (1, 2):
            daphne = Daphne(env, name=f"daphne{n}-{prefix}", log_dir=workdir)
            started.append(daphne)
            daphne.start()
            handles.append(ServerHandle(daphne=daphne, env=env, ids=ids, cookies=cookies))
        return Pair(one=handles[0], two=handles[1], redis=redis_server, prefix=prefix)

    yield make
    for daphne in started:
        daphne.stop()
        if daphne in STARTED:
            STARTED.remove(daphne)


@pytest.fixture(scope="session")
def doorbell_pair(pair_factory) -> Pair:
    """A pair whose periodic head check is an hour away: live delivery across the two
    processes can only come through Redis, so a broken doorbell cannot hide."""
    return pair_factory(WS_HEAD_CHECK_SECONDS=3600)
