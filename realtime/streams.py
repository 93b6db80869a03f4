"""Stream keys, stream types and who may read them.

A stream key is `<type>:<id>`, e.g. `announcements:3`. Each app registers its stream
types here (in its AppConfig.ready), declaring the read check and, optionally, the
snapshot a fresh subscriber gets and whether the stream tracks presence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from django.conf import settings

from accounts.identity import Identity

from .errors import BadRequest, NotFound

STREAM_KEY_RE = re.compile(r"^([a-z][a-z0-9_]{0,30}):([A-Za-z0-9_\-]{1,64})$")


@dataclass(frozen=True)
class StreamType:
    name: str
    # (identity, object id) -> may this identity read the stream? Runs in a DB thread.
    can_read: Callable[[Identity, str], bool]
    # (identity, object id) -> current state for a fresh subscriber (JSON-ready dict).
    snapshot: Callable[[Identity, str], dict] | None = None
    # (object id) -> does the object exist? Unknown objects answer not_found.
    exists: Callable[[str], bool] | None = None
    presence: bool = False
    # A subscriber may follow without being listed as here (`subscribe` with here=false),
    # e.g. a page counting new announcements while the reader is elsewhere. Off where
    # being on the stream is a record (a meeting's attendance) or a courtesy to others.
    quiet_follow: bool = False
    # (object id, joined {identity key: at}, left {identity key: (at, lost)}) -> None. Runs
    # in a database thread after the hub saw real presence changes: a first socket in, a
    # last socket out (across processes), or a dead process's sockets expiring. `at` is
    # when it happened; for a lost connection, its last sign of life.
    on_presence: Callable[[str, dict, dict], None] | None = None
    # Its events are kept at least this many days, however short EVENT_RETENTION_DAYS
    # is (the inbox: notifications are read after a holiday). The count limit still holds.
    keep_days: int = 0


_stream_types: dict[str, StreamType] = {}


def keep_days(stream_key: str) -> int:
    """How many days a stream's events are kept: EVENT_RETENTION_DAYS, or its type's
    `keep_days` where that is longer."""
    stream_type = _stream_types.get(stream_key.partition(":")[0])
    return max(settings.BRANCHLINE_REALTIME["RETENTION_DAYS"], stream_type.keep_days if stream_type else 0)


def register_stream_type(stream_type: StreamType) -> None:
    if stream_type.name in _stream_types and _stream_types[stream_type.name] != stream_type:
        raise RuntimeError(f"stream type {stream_type.name!r} registered twice")
    _stream_types[stream_type.name] = stream_type


def parse_stream_key(key: object) -> tuple[StreamType, str]:
    if not isinstance(key, str):
        raise BadRequest("stream must be a string like 'announcements:1'", details={"field": "stream"})
    match = STREAM_KEY_RE.match(key)
    if not match:
        raise BadRequest(f"malformed stream key {key[:130]!r}", details={"field": "stream"})
    stream_type = _stream_types.get(match.group(1))
    if stream_type is None:
        raise NotFound(f"no such stream type {match.group(1)!r}", details={"field": "stream"})
    return stream_type, match.group(2)


def group_name(stream_key: str) -> str:
    """Channel-layer group for a stream (group names may not contain ':')."""
    return "s." + stream_key.replace(":", ".")
