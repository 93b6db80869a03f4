"""A member's own stream, `inbox:<user id>`: what follows them across tabs and devices.

It carries read markers (so every open tab agrees on unread counts) and notifications
(mentions, moderation decisions, meetings: accounts/notifications.py).
"""

from __future__ import annotations

from realtime.ops import OpArgs, OpContext, register_op
from realtime.streams import StreamType, register_stream_type

from .identity import Identity


def inbox_stream(user_id: int) -> str:
    return f"inbox:{user_id}"


def _can_read(identity: Identity, object_id: str) -> bool:
    return identity.is_user and object_id == str(identity.user_id)


register_stream_type(StreamType(name="inbox", can_read=_can_read))


class MarkSeenArgs(OpArgs):
    seq: int


@register_op("notifications.mark_read", args=MarkSeenArgs)
def mark_notifications_read(ctx: OpContext, args: MarkSeenArgs) -> dict:
    from . import notifications

    return {"read_seq": notifications.mark_read(identity=ctx.identity, seq=args.seq)}
