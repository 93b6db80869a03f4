"""Frames that are not worth keeping: typing indicators and the like.

They go to the stream's current subscribers through the same per-process hub, have no
seq, are never logged and are not replayed on resume.
"""

from __future__ import annotations

from .events import send_soon
from .frames import dumps
from .streams import group_name


def broadcast(stream: str, payload: dict, *, exclude_connection: str | None = None) -> None:
    """Send {"op": ..., "stream": stream, ...payload} to the stream's subscribers now."""
    frame = dumps({**payload, "stream": stream})
    message = {"type": "bl.ephemeral", "stream": stream, "frame": frame, "exclude": exclude_connection}
    send_soon(group_name(stream), message, f"an ephemeral frame on {stream}")


def evict(stream: str, identity_key: str, *, reason: str) -> None:
    """Unsubscribe every socket of `identity_key` from `stream`, on every process.

    Each gets `{"op": "unsubscribed", "stream", "reason"}`; the stream's read check
    decides whether it may subscribe again.
    """
    frame = dumps({"op": "unsubscribed", "stream": stream, "reason": reason})
    message = {"type": "bl.evict", "stream": stream, "identity": identity_key, "frame": frame}
    send_soon(group_name(stream), message, f"the eviction of {identity_key} from {stream}")


def recheck(identity_key: str, *, via: str) -> None:
    """Ask every process where `identity_key` has a socket subscribed to `via` to check
    each of that identity's subscriptions again, and unsubscribe (as `evict` does, with
    reason "forbidden") those it may no longer read: taken off a branch, no longer a
    moderator. `via` is a stream such sockets follow (a member's inbox)."""
    message = {"type": "bl.recheck", "identity": identity_key}
    send_soon(group_name(via), message, f"a recheck of {identity_key}'s subscriptions")
