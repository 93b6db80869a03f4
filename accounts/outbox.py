"""发信: the site's mail goes out from one background thread per process, after the
transaction that caused it commits, so no request, socket or fan-out waits for a mail
server. Only when the server sends mail at all (SENDS_EMAIL). Best effort: each job
logs its own failure, and what the mail tells is on the site regardless.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_pending: set[Future] = set()


def _thread() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="branchline-mail")
        return _executor


def _run(job: Callable, args: tuple):
    try:
        return job(*args)
    finally:
        # This thread's own database connection: closed, not left for the next job.
        connection.close()


def after_commit(job: Callable, *args) -> None:
    """Once the current transaction commits (at once outside one), run `job(*args)` on
    the mail thread."""
    if not settings.SENDS_EMAIL:
        return

    def submit() -> None:
        future = _thread().submit(_run, job, args)
        _pending.add(future)
        future.add_done_callback(_pending.discard)

    transaction.on_commit(submit)


def wait_idle(timeout: float = 10) -> None:
    """For tests and shutdown: wait until the mail queued so far has gone."""
    for future in list(_pending):
        future.result(timeout=timeout)
