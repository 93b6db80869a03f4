"""Frames that are not worth keeping: typing indicators and the like.

They go to the stream's current subscribers through the same per-process hub, have no
seq, are never logged and are not replayed on resume.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .frames import dumps
from .streams import group_name

log = logging.getLogger(__name__)


def broadcast(stream: str, payload: dict, *, exclude_connection: str | None = None) -> None:
    """Send {"op": ..., "stream": stream, ...payload} to the stream's subscribers now."""
    layer = get_channel_layer()
    if layer is None:
        return
    frame = dumps({**payload, "stream": stream})
    try:
        async_to_sync(layer.group_send)(
            group_name(stream), {"type": "bl.ephemeral", "stream": stream, "frame": frame, "exclude": exclude_connection}
        )
    except Exception:
        log.warning("could not broadcast an ephemeral frame on %s", stream, exc_info=True)


def evict(stream: str, identity_key: str, *, reason: str) -> None:
    """Unsubscribe every socket of `identity_key` from `stream`, on every process.

    Each gets `{"op": "unsubscribed", "stream", "reason"}`; the stream's read check
    decides whether it may subscribe again.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    frame = dumps({"op": "unsubscribed", "stream": stream, "reason": reason})
    try:
        async_to_sync(layer.group_send)(
            group_name(stream), {"type": "bl.evict", "stream": stream, "identity": identity_key, "frame": frame}
        )
    except Exception:
        log.warning("could not evict %s from %s", identity_key, stream, exc_info=True)
