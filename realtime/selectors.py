"""Reads of the event log."""

from __future__ import annotations

from dataclasses import dataclass

from .frames import event_frame
from .models import Event, Stream


@dataclass(frozen=True, slots=True)
class Head:
    last_seq: int
    trimmed_through: int


def stream_head(stream_key: str) -> Head:
    row = Stream.objects.filter(key=stream_key).values_list("last_seq", "trimmed_through").first()
    return Head(*row) if row else Head(0, 0)


def event_frames_after(stream_key: str, after: int, limit: int) -> list[tuple[int, str]]:
    rows = (
        Event.objects.filter(stream_id=stream_key, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "type", "data", "created_at")[:limit]
    )
    return [(seq, event_frame(stream_key, seq, type_, data, at)) for seq, type_, data, at in rows]


def stream_heads(stream_keys: list[str]) -> dict[str, int]:
    return dict(Stream.objects.filter(key__in=stream_keys).values_list("key", "last_seq"))
