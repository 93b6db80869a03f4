"""Moderation ops: flag content, decide on review-queue items."""

from __future__ import annotations

from realtime.ops import OpArgs, OpContext, register_op

from . import actions, selectors


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


class QueueArgs(OpArgs):
    branch: int
    status: str | None = "pending"
    after: str | None = None  # the `next` of the previous page
    limit: int = selectors.QUEUE_PAGE


@register_op("moderation.queue", args=QueueArgs)
def queue(ctx: OpContext, args: QueueArgs) -> dict:
    items, more = selectors.queue_page(ctx.identity, args.branch, status=args.status, after=args.after,
                                       limit=args.limit)
    return {"items": items, "next": more}


class BranchArgs(OpArgs):
    branch: int


@register_op("moderation.watched_words.list", args=BranchArgs)
def watched_words(ctx: OpContext, args: BranchArgs) -> dict:
    return {"words": selectors.watched_words(ctx.identity, args.branch)}


class AddWordArgs(OpArgs):
    branch: int
    pattern: str
    action: str
    case_sensitive: bool = False


@register_op("moderation.watched_words.add", args=AddWordArgs, writes=True)
def add_word(ctx: OpContext, args: AddWordArgs) -> dict:
    word = actions.add_watched_word(identity=ctx.identity, branch_id=args.branch, pattern=args.pattern,
                                    action=args.action, case_sensitive=args.case_sensitive)
    return {"word": word.to_dict()}


class RemoveWordArgs(OpArgs):
    id: int


@register_op("moderation.watched_words.remove", args=RemoveWordArgs, writes=True)
def remove_word(ctx: OpContext, args: RemoveWordArgs) -> dict:
    actions.remove_watched_word(identity=ctx.identity, word_id=args.id)
    return {"id": args.id}


class AuditArgs(OpArgs):
    branch: int
    action: str | None = None
    actor: str | None = None
    before: int | None = None
    limit: int = 50


@register_op("moderation.audit", args=AuditArgs)
def audit_log(ctx: OpContext, args: AuditArgs) -> dict:
    return {"entries": selectors.audit_log(ctx.identity, args.branch, action=args.action, actor=args.actor,
                                           before=args.before, limit=args.limit)}
