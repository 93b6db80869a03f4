"""Test helpers: see exactly which events an action appended, and to which streams."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import events


@contextmanager
def capture_events() -> Iterator[list[events.AppendedEvent]]:
    captured: list[events.AppendedEvent] = []
    events._listeners.append(captured.append)
    try:
        yield captured
    finally:
        events._listeners.remove(captured.append)
