"""Periodic jobs that every server process runs (no separate scheduler to deploy).

Jobs are database-driven and idempotent: each finds what is due with a row lock and
skips what another process already did, so N processes and restarts are safe and a
job missed while the server was down runs at the next tick after it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[], object]  # sync; runs in a database thread
    every_seconds: int


_jobs: list[PeriodicJob] = []


def register_periodic(name: str, every_seconds: int):
    def decorator(fn: Callable[[], object]):
        if not any(job.name == name for job in _jobs):
            _jobs.append(PeriodicJob(name=name, run=fn, every_seconds=every_seconds))
        return fn

    return decorator


def periodic_jobs() -> list[PeriodicJob]:
    return list(_jobs)
