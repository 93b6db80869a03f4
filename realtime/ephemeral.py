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
