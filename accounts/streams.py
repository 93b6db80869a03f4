"""A member's own stream, `inbox:<user id>`: what follows them across tabs and devices.

It carries read markers (so every open tab agrees on unread counts) and notifications
(mentions, moderation decisions, meetings: accounts/notifications.py). The drafts ops
(accounts/drafts.py), which follow a member across devices too, are here as well.
"""

from __future__ import annotations

from realtime.ops import OpArgs, OpContext, register_op
from realtime.streams import StreamType, register_stream_type

from . import drafts
from .identity import Identity


def inbox_stream(user_id: int) -> str:
    return f"inbox:{user_id}"


def _can_read(identity: Identity, object_id: str) -> bool:
    return identity.is_user and object_id == str(identity.user_id)


# Notifications are the inbox's events (accounts/notifications.py): a member back from
# a few weeks away still finds who mentioned them and which meetings were called.
NOTIFICATIONS_KEEP_DAYS = 90

register_stream_type(StreamType(name="inbox", can_read=_can_read, keep_days=NOTIFICATIONS_KEEP_DAYS))


class MarkSeenArgs(OpArgs):
    seq: int


@register_op("notifications.mark_read", args=MarkSeenArgs)
def mark_notifications_read(ctx: OpContext, args: MarkSeenArgs) -> dict:
    from . import notifications

    return {"read_seq": notifications.mark_read(identity=ctx.identity, seq=args.seq)}


# -- 草稿: drafts kept on the server (accounts/drafts.py) ----------------------------------


class DraftPlaceArgs(OpArgs):
    place: str  # e.g. "reply:17"


class SaveDraftArgs(DraftPlaceArgs):
    fields: dict[str, str]
    base: str | None = None  # the server copy's updated_at these fields grew from; absent: overwrite


@register_op("drafts.get", args=DraftPlaceArgs)
def get_draft(ctx: OpContext, args: DraftPlaceArgs) -> dict:
    return {"draft": drafts.get_draft(identity=ctx.identity, place=args.place)}


@register_op("drafts.save", args=SaveDraftArgs)
def save_draft(ctx: OpContext, args: SaveDraftArgs) -> dict:
    base = args.base if "base" in args.model_fields_set else drafts.ANY
    return {"draft": drafts.save_draft(identity=ctx.identity, place=args.place, fields=args.fields, base=base)}


@register_op("drafts.discard", args=DraftPlaceArgs)
def discard_draft(ctx: OpContext, args: DraftPlaceArgs) -> dict:
    drafts.discard_draft(identity=ctx.identity, place=args.place)
    return {"draft": None}
