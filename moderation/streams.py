"""Moderation ops: flag content, decide on review-queue items."""

from __future__ import annotations

from realtime.ops import OpArgs, OpContext, register_op

from . import actions


class FlagArgs(OpArgs):
    target_type: str
    target_id: int
    reason: str
    note: str = ""


@register_op("moderation.flag", args=FlagArgs, writes=True)
def flag(ctx: OpContext, args: FlagArgs) -> dict:
    actions.flag_target(identity=ctx.identity, target_type=args.target_type, target_id=args.target_id,
                        reason=args.reason, note=args.note)
    return {"flagged": True}


class ReviewArgs(OpArgs):
    item: int
    version: int
    decision: str
    reason: str = ""
    body: str | None = None
    silence_days: int = 0


@register_op("moderation.review", args=ReviewArgs, writes=True)
def review(ctx: OpContext, args: ReviewArgs) -> dict:
    item = actions.review_item(identity=ctx.identity, item_id=args.item, version=args.version,
                               decision=args.decision, reason=args.reason, body=args.body,
                               silence_days=args.silence_days)
    return {"item": item.to_dict()}
