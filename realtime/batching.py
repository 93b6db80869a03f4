"""Group commit: the write ops waiting at one moment share one database transaction.

Every write op of a process goes through one `WriteBatcher`. While a batch is in the
database thread, newly arriving writes (from any connection, or pipelined on one)
queue up; the next round takes them all, runs each through its own `run_once` (whose
atomic block is a savepoint inside the batch, so a refused or failing op rolls back
alone) and commits once. Each op still gets its own result or error, in arrival order,
and its events are broadcast after the shared commit, in order.

What this saves per op is the fixed cost a write pays beside its own statements: the
thread hop there and back, BEGIN/COMMIT (the WAL write on SQLite, the round trip on
PostgreSQL) and the commit-hook pass. If the shared commit itself fails (nothing of the
batch is then written), every op is run again alone, so one op's trouble never becomes
another's error; a retry with the same client id is safe either way.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Callable

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

Outcome = tuple[bool, object]  # (True, result) or (False, exception)


def _alone(write: Callable[[], dict]) -> Outcome:
    try:
        return True, write()
    except Exception as exc:  # handed to the op's caller, which answers with an error frame
        return False, exc


def run_batch(writes: list[Callable[[], dict]]) -> list[Outcome]:
    """In the database thread: each write's outcome, in order."""
    if len(writes) == 1:
        return [_alone(writes[0])]
    try:
        with transaction.atomic():
            # Each write is a run_once call: its own atomic block (a savepoint here)
            # rolls back that write alone when it raises.
            return [_alone(write) for write in writes]
    except Exception:
        log.warning("a batch of %d writes failed to commit; running them one by one", len(writes), exc_info=True)
        return [_alone(write) for write in writes]


class WriteBatcher:
    """One per process, used from the event loop."""

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max(1, max_batch)
        self._queue: list[tuple[Callable[[], dict], asyncio.Future]] = []
        self._runner: asyncio.Task | None = None
        self.batches = 0  # counters for tests and benchmarks
        self.writes = 0

    async def run(self, write: Callable[[], dict]) -> dict:
        future = asyncio.get_running_loop().create_future()
        self._queue.append((write, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                outcomes = await database_sync_to_async(run_batch)([write for write, _ in batch])
            except BaseException as exc:  # the thread hop itself failed (shutdown)
                outcomes = [(False, exc)] * len(batch)
                if not isinstance(exc, Exception):
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
                    raise
            self.batches += 1
            self.writes += len(batch)
            for (_, future), (ok, value) in zip(batch, outcomes):
                if future.done():  # the waiting connection went away
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


# One batcher per event loop: one per server process; tests run several loops in turn.
_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriteBatcher]" = weakref.WeakKeyDictionary()


def get_batcher() -> WriteBatcher:
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = WriteBatcher(settings.BRANCHLINE_REALTIME["WRITE_BATCH"])
    return batcher
