"""Group commit: the write ops waiting at one moment share one database transaction.

Every write op of a process goes through one `WriteBatcher`. While a batch is in the
writer thread, newly arriving writes (from any connection, or pipelined on one)
queue up; the next round takes them all, runs each through its own `run_once` (whose
atomic block is a savepoint inside the batch, so a refused or failing op rolls back
alone) and commits once. Each op still gets its own result or error, in arrival order,
and its events are broadcast after the shared commit, in order.

What this saves per op is the fixed cost a write pays beside its own statements: the
thread hop there and back, BEGIN/COMMIT (the WAL write on SQLite, the round trip on
PostgreSQL) and the commit-hook pass. If the shared commit itself fails (nothing of the
batch is then written), every op is run again alone, so one op's trouble never becomes
another's error; a retry with the same client id is safe either way.

Two passes. The first is optimistic: no savepoints, and the rows nothing reads back in
the transaction (events, idempotency records) held and written in one statement just
before the commit (realtime/sql.py). If anything at all goes wrong in it (a write
refused or failing, a replayed client id, a failed commit) it rolls back whole, which
leaves no trace, and the batch runs again the careful way: every write in its own
savepoint, rows written as they come. Refusals and replays are rare; the common batch
pays neither the SAVEPOINT/RELEASE pair nor a round trip per held row (on PostgreSQL
each is a network round trip, and the COMMIT rides with the flush: a lone post went
from 9 of them to 5, a batch of three from 27 to 7; the BEGIN riding with the first
statement, server/db/postgresql, takes one more off each).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, connections, transaction

from . import metrics
from .events import check_rides, doorbells_held, drop_rides, ride_heads, ring
from .sql import flush_held, write_behind

log = logging.getLogger(__name__)

Outcome = tuple[bool, object]  # (True, result) or (False, exception)


def _alone(write: Callable[[], dict]) -> Outcome:
    try:
        return True, write()
    except Exception as exc:  # handed to the op's caller, which answers with an error frame
        return False, exc


class _Unsure(Exception):
    """The optimistic pass cannot vouch for what it did: roll it back."""


@contextmanager
def _without_savepoints() -> Iterator[None]:
    # Nested atomic blocks then open no savepoint; one that exits by an exception
    # marks the whole transaction for rollback instead, which the pass checks after
    # every write (server/db/savepoints.py). A backend without the switch keeps its
    # savepoints: slower, same outcome.
    if not hasattr(connection, "savepoints_suspended"):
        yield
        return
    connection.savepoints_suspended = True
    try:
        yield
    finally:
        connection.savepoints_suspended = False


def _optimistic(writes: list[Callable[[], dict]]) -> list[Outcome]:
    results = []
    try:
        with transaction.atomic(), write_behind() as pending, _without_savepoints():
            pending.memo["writes"] = len(writes)  # keys to reserve per stream (realtime/events.py)
            # The heads these writes said they move go out with BEGIN (PostgreSQL).
            ride_heads([hint for write in writes if (hint := getattr(write, "appends", None))], pending)
            for write in writes:
                results.append(write())
                if connection.needs_rollback:  # an inner failure was swallowed
                    raise _Unsure
            check_rides(pending)
            flush_held(and_commit=True)  # on PostgreSQL the COMMIT rides along
    finally:
        drop_rides()
    return [(True, result) for result in results]


def run_batch(writes: list[Callable[[], dict]]) -> list[Outcome]:
    """In the writer thread: each write's outcome, in order."""
    try:
        return _optimistic(writes)
    except Exception:
        # Nothing of the pass was written (its transaction rolled back); its
        # on-commit hooks, broadcasts included, were dropped with it.
        log.debug("optimistic pass of %d writes rolled back; running them carefully", len(writes), exc_info=True)
    return _careful(writes)


def _careful(writes: list[Callable[[], dict]]) -> list[Outcome]:
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


# On PostgreSQL the batches run on a thread of their own (on SQLite, only those that
# cannot run on the loop: below), with a database connection of its own,
# not in the thread database_sync_to_async shares between every other database call
# of the process (subscribe reads and snapshots, presence, head checks, periodic jobs):
# a write never queues behind one of those, and on PostgreSQL reads and writes overlap
# (SQLite in WAL mode lets readers run beside its one writer). The hop is a plain
# executor call: asgiref's thread-sensitive machinery cost 0.1-0.15 ms more to reach
# the thread, per batch. One thread per process, however many event loops (tests run
# many).
_writer: ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def _writer_thread() -> ThreadPoolExecutor:
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="branchline-writes")
        return _writer


def _run_batch_in_writer(passes: Callable, writes: list[Callable[[], dict]], doorbells: list) -> list[Outcome]:
    """In the writer thread. The doorbells of what commits are collected in `doorbells`,
    for the loop to ring just before it settles the batch (_settle_batch)."""
    # As database_sync_to_async does around each call: drop a connection that broke or
    # outlived CONN_MAX_AGE before using it, and after.
    close_old_connections()
    try:
        with doorbells_held() as held, metrics.timed_batch():
            try:
                return passes(writes)
            finally:
                doorbells.extend(held)
    finally:
        close_old_connections()


# On SQLite a batch first runs on the event loop itself. SQLite works inside the
# process, so there is nothing to wait for but the write lock, and handing the batch to
# the writer thread and its result back cost more than the writes: in the N=100 write
# burst of bench/fanout.py, server CPU per delivered frame went from 9.3-12.0 to
# 7.3-7.7 us and deliveries from 71-102k to 118-126k a second (three alternating runs
# each). Paced latency did not move (docs/realtime.md says where it goes). The loop
# never sleeps on the lock: the batch's BEGIN fails at once when another
# connection holds it (server/db/sqlite3), and the batch goes to the writer thread,
# which waits as before. So does a batch whose optimistic pass fails for any other
# reason (a refusal, a replay): that pass left nothing behind, and the thread runs the
# careful pass, off the loop (it may wait on the lock). (WriteBatcher.run sends every
# other backend's writes to the thread.)


def _try_on_loop(writes: list[Callable[[], dict]]) -> tuple[list[Outcome] | None, Callable]:
    """On the event loop: the batch's outcomes if its optimistic pass committed, else
    None (nothing was written) and the passes the writer thread must run."""
    loop = asyncio.get_running_loop()
    # Django refuses database work in a thread with a running event loop, the guard
    # against blocking a loop by mistake; here it is the design, so the loop is hidden
    # for the call. The doorbells a commit rings then take the hand-over to the loop
    # (realtime/events.py), as from a database thread, and go out after this returns.
    asyncio.events._set_running_loop(None)
    connection.begin_without_waiting = True
    try:
        close_old_connections()
        with metrics.timed_batch():
            return _optimistic(writes), run_batch
    except Exception as exc:
        if isinstance(exc, OperationalError) and "locked" in str(exc):
            return None, run_batch  # another connection holds the write lock: both passes
        log.debug("optimistic pass of %d writes rolled back; running them carefully", len(writes), exc_info=True)
        return None, _careful
    finally:
        connection.begin_without_waiting = False
        asyncio.events._set_running_loop(loop)


def close_writer_connections() -> None:
    """Close the writer thread's database connections (tests, before dropping a database)."""
    if _writer is not None:
        _writer.submit(connections.close_all).result()


class WriteBatcher:
    """One per event loop (one per process in the server), used from the loop."""

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max(1, max_batch)
        self._queue: list[tuple[Callable[[], dict], asyncio.Future]] = []
        self._runner: asyncio.Task | None = None
        # PostgreSQL: writes waiting for the writer thread, which takes them itself.
        self._for_thread: list[tuple[Callable[[], dict], asyncio.Future]] = []
        self._thread_lock = threading.Lock()
        self._thread_taking = False
        self.batches = 0  # counters for tests and benchmarks
        self.writes = 0
        self.on_loop = 0  # batches that ran on the loop (SQLite)

    async def run(self, write: Callable[[], dict]) -> dict:
        return await self.submit(write)

    def waiting(self) -> int:
        """Writes queued for their batch, not yet taken (realtime/metrics.py)."""
        return len(self._queue) + len(self._for_thread)

    def submit(self, write: Callable[[], dict]) -> asyncio.Future:
        """Queue one write; its future settles with the write's result or error. The
        consumer hangs the reply on it (no task per write)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if connection.vendor != "sqlite":
            self._hand_to_thread(loop, write, future)
            return future
        self._queue.append((write, future))
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._drain())
        return future

    # On PostgreSQL the writer thread takes the next batch itself as soon as it has
    # committed one, from writes the loop has queued meanwhile. Were the loop to hand
    # each batch over, the next one would wait for the loop to come round to it, which
    # it does late when it is fanning out the previous batch's events: that wait was
    # most of a batch's time in the N=100 write burst (docs/realtime.md).
    def _hand_to_thread(self, loop: asyncio.AbstractEventLoop, write, future: asyncio.Future) -> None:
        with self._thread_lock:
            self._for_thread.append((write, future))
            start, self._thread_taking = not self._thread_taking, True
        if not start:
            return
        try:
            _writer_thread().submit(self._take_in_thread, loop)
        except RuntimeError as exc:  # the interpreter is shutting down
            with self._thread_lock:
                waiting, self._for_thread, self._thread_taking = self._for_thread, [], False
            for _, waiter in waiting:
                _settle(waiter, (False, exc))

    def _take_in_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the writer thread: run batches while writes are queued for it."""
        while True:
            with self._thread_lock:
                batch = self._for_thread[: self.max_batch]
                del self._for_thread[: self.max_batch]
                if not batch:
                    self._thread_taking = False
                    return
            doorbells: list = []
            try:
                outcomes = _run_batch_in_writer(run_batch, [write for write, _ in batch], doorbells)
            except BaseException as exc:  # run_batch answers every write; this is a bug
                log.exception("a batch of %d writes failed in the writer thread", len(batch))
                outcomes = [(False, exc)] * len(batch)
            try:
                # One callback: the events go out first, then the replies (below).
                loop.call_soon_threadsafe(self._settle_batch, batch, outcomes, doorbells)
            except RuntimeError:  # the loop is closed: nobody waits for these answers
                pass

    def _settle_batch(self, batch: list, outcomes: list[Outcome], doorbells: list = ()) -> None:
        # The batch's events first: the fan-out task is made before the replies' callbacks
        # are queued, so subscribers get the events before writers get their replies,
        # and a writer's socket, which sends its settled replies before any event, gets
        # its reply before the event its write made.
        ring(list(doorbells))
        self.batches += 1
        self.writes += len(batch)
        refused = sum(1 for ok, _ in outcomes if not ok)
        metrics.WRITES.labels("ok").inc(len(batch) - refused)
        if refused:
            metrics.WRITES.labels("refused").inc(refused)
        for (_, future), outcome in zip(batch, outcomes):
            _settle(future, outcome)

    async def _drain(self) -> None:
        """SQLite: each round on the loop, or in the writer thread when it cannot be.
        Inside a transaction of this thread's connection (a test's), a batch on the loop
        would join it, so it goes to the thread."""
        loop = asyncio.get_running_loop()
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            writes = [write for write, _ in batch]
            doorbells: list = []  # of a batch the writer thread runs
            try:
                outcomes, passes = (None, run_batch) if connection.in_atomic_block else _try_on_loop(writes)
                if outcomes is not None:
                    self.on_loop += 1
                    # Settled after the doorbells its commit handed to the loop, as from
                    # the writer thread: the subscribers' fan-out starts before the
                    # writers' replies go out.
                    loop.call_soon(self._settle_batch, batch, outcomes)
                    continue
                outcomes = await loop.run_in_executor(
                    _writer_thread(), _run_batch_in_writer, passes, writes, doorbells)
            except BaseException as exc:  # the thread hop itself failed (shutdown)
                outcomes = [(False, exc)] * len(batch)
                if not isinstance(exc, Exception):
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
                    raise
            self._settle_batch(batch, outcomes, doorbells)


def _settle(future: asyncio.Future, outcome: Outcome) -> None:
    if future.done():  # the waiting connection went away
        return
    ok, value = outcome
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
