"""A member's own stream, `inbox:<user id>`: what follows them across tabs and devices.

Today it carries read markers (so every open tab agrees on unread counts); mentions
and notices arrive here later.
"""

from __future__ import annotations

from realtime.streams import StreamType, register_stream_type

from .identity import Identity


def inbox_stream(user_id: int) -> str:
    return f"inbox:{user_id}"


def _can_read(identity: Identity, object_id: str) -> bool:
    return identity.is_user and object_id == str(identity.user_id)


register_stream_type(StreamType(name="inbox", can_read=_can_read))
