"""The announcements stream type and its WebSocket ops."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.models import Branch
from accounts.selectors import can_manage_branch, can_read_branch
from realtime.errors import Invalid
from realtime.ops import OpArgs, OpContext, register_op
from realtime.streams import StreamType, register_stream_type

from . import actions, scheduling, selectors
from .models import Announcement


def _branch_id(object_id: str) -> int | None:
    return int(object_id) if object_id.isdigit() and len(object_id) < 12 else None


def _exists(object_id: str) -> bool:
    branch_id = _branch_id(object_id)
    return branch_id is not None and Branch.objects.filter(pk=branch_id).exists()


def _can_read(identity: Identity, object_id: str) -> bool:
    branch_id = _branch_id(object_id)
    return branch_id is not None and can_read_branch(identity, branch_id)


def _snapshot(identity: Identity, object_id: str) -> dict:
    branch_id = int(object_id)
    items = selectors.announcements_for(identity, branch_id)
    read_seq = selectors.read_marker(identity, branch_id)
    return {
        "announcements": selectors.listed(identity, branch_id, items, read_seq=read_seq),
        "read_seq": read_seq,
        "unread": selectors.unread_count(identity, branch_id, read_seq=read_seq),
    }


register_stream_type(
    StreamType(name="announcements", can_read=_can_read, snapshot=_snapshot, exists=_exists, presence=True,
               quiet_follow=True)
)


def _may_see_receipts(identity: Identity, object_id: str) -> bool:
    branch_id = _branch_id(object_id)
    return branch_id is not None and can_manage_branch(identity, branch_id)


# 已读 counts as members read, for the branch's secretaries (and those above) with the
# list open: ephemeral frames only (actions._tell_secretaries), nothing logged.
register_stream_type(StreamType(name="receipts", can_read=_may_see_receipts, exists=_exists))


class PostArgs(OpArgs):
    branch: int
    title: str
    body: str
    attachments: list[int] = []  # ids of uploads (POST /api/branches/{id}/attachments)
    also: list[int] = []  # 下发: branches below this one that get it too


@register_op(
    "announcements.post",
    args=PostArgs,
    writes=True,
    appends=lambda args: (actions.stream_for(args.branch), Announcement),
)
def post(ctx: OpContext, args: PostArgs) -> dict:
    announcement = actions.post_announcement(
        identity=ctx.identity, branch_id=args.branch, title=args.title, body=args.body, attachments=args.attachments,
        also=args.also,
    )
    return {"announcement": announcement.to_dict(author_name=ctx.identity.name)}


class CorrectionArgs(OpArgs):
    title: str
    body: str
    attachments: list[int] | None = None  # the files it keeps plus new uploads; absent: unchanged


class EditArgs(CorrectionArgs):
    announcement: int


@register_op("announcements.edit", args=EditArgs, writes=True)
def edit(ctx: OpContext, args: EditArgs) -> dict:
    announcement = actions.edit_announcement(
        identity=ctx.identity, announcement_id=args.announcement, title=args.title, body=args.body,
        attachments=args.attachments,
    )
    return {"announcement": announcement.to_dict()}


class WithdrawArgs(OpArgs):
    announcement: int


@register_op("announcements.withdraw", args=WithdrawArgs, writes=True)
def withdraw(ctx: OpContext, args: WithdrawArgs) -> dict:
    announcement = actions.withdraw_announcement(identity=ctx.identity, announcement_id=args.announcement)
    return {"announcement": {"id": announcement.pk, "withdrawn": True}}


class PinArgs(OpArgs):
    announcement: int
    pinned: bool
    until: str | None = None  # 置顶至: unpinned by itself then (on the branch's clock without an offset)


@register_op("announcements.pin", args=PinArgs, writes=True)
def pin(ctx: OpContext, args: PinArgs) -> dict:
    announcement = actions.pin_announcement(identity=ctx.identity, announcement_id=args.announcement,
                                            pinned=args.pinned, until=args.until)
    return {"announcement": announcement.to_dict()}


class MarkReadArgs(OpArgs):
    branch: int
    seq: int | None = None  # everything up to this seq (mark all read)
    announcements: list[int] | None = None  # or these, one by one (seen on the page)


@register_op("announcements.mark_read", args=MarkReadArgs)
def mark_read(ctx: OpContext, args: MarkReadArgs) -> dict:
    if (args.seq is None) == (args.announcements is None):
        raise Invalid("seq", _("Give either seq or announcements."))
    if args.seq is not None:
        seq = actions.mark_read(identity=ctx.identity, branch_id=args.branch, seq=args.seq)
        return {"read_seq": seq, "unread": selectors.unread_count(ctx.identity, args.branch, read_seq=seq)}
    read = actions.read_announcements(identity=ctx.identity, branch_id=args.branch,
                                      announcement_ids=args.announcements)
    seq = selectors.read_marker(ctx.identity, args.branch)
    # `announcements`: those read now that were not before.
    return {"read_seq": seq, "announcements": read,
            "unread": selectors.unread_count(ctx.identity, args.branch, read_seq=seq)}


class ListArgs(OpArgs):
    branch: int
    before: int | None = None
    limit: int = 50


@register_op("announcements.list", args=ListArgs)
def list_older(ctx: OpContext, args: ListArgs) -> dict:
    items = selectors.announcements_for(
        ctx.identity, args.branch, limit=max(1, min(args.limit, 100)), before=args.before
    )
    return {"announcements": selectors.listed(ctx.identity, args.branch, items)}


class ReadersArgs(OpArgs):
    announcement: int


@register_op("announcements.readers", args=ReadersArgs)
def readers(ctx: OpContext, args: ReadersArgs) -> dict:
    return selectors.readers_of(ctx.identity, args.announcement)


class RemindArgs(OpArgs):
    announcement: int


@register_op("announcements.remind", args=RemindArgs, writes=True)
def remind(ctx: OpContext, args: RemindArgs) -> dict:
    return actions.remind_unread(identity=ctx.identity, announcement_id=args.announcement)


# -- 定时发布: announcements scheduled for later (announcements/scheduling.py) ---------------

# The secretaries' list of what waits to be published: ephemeral `scheduled` frames, each
# with the whole list, whenever it changes. Nothing logged; a page asks for the list
# (`announcements.scheduled`) whenever it comes online.
register_stream_type(StreamType(name="scheduled", can_read=_may_see_receipts, exists=_exists))


class ScheduleArgs(PostArgs):
    publish_at: str  # ISO 8601; without an offset, on the branch's clock


@register_op("announcements.schedule", args=ScheduleArgs, writes=True)
def schedule(ctx: OpContext, args: ScheduleArgs) -> dict:
    s = scheduling.schedule_announcement(identity=ctx.identity, branch_id=args.branch, title=args.title,
                                         body=args.body, publish_at=args.publish_at, attachments=args.attachments,
                                         also=args.also)
    return {"scheduled": scheduling.to_dict(s)}


class ScheduledListArgs(OpArgs):
    branch: int


@register_op("announcements.scheduled", args=ScheduledListArgs)
def scheduled_list(ctx: OpContext, args: ScheduledListArgs) -> dict:
    return {"scheduled": scheduling.scheduled_for(ctx.identity, args.branch)}


class ChangeScheduledArgs(CorrectionArgs):
    scheduled: int
    publish_at: str
    also: list[int] | None = None  # 下发: the branches below, all of them; absent: unchanged


@register_op("announcements.change_scheduled", args=ChangeScheduledArgs, writes=True)
def change_scheduled(ctx: OpContext, args: ChangeScheduledArgs) -> dict:
    s = scheduling.change_scheduled(identity=ctx.identity, scheduled_id=args.scheduled, title=args.title,
                                    body=args.body, publish_at=args.publish_at, attachments=args.attachments,
                                    also=args.also)
    return {"scheduled": scheduling.to_dict(s)}


class ScheduledArgs(OpArgs):
    scheduled: int


@register_op("announcements.cancel_scheduled", args=ScheduledArgs, writes=True)
def cancel_scheduled(ctx: OpContext, args: ScheduledArgs) -> dict:
    s = scheduling.cancel_scheduled(identity=ctx.identity, scheduled_id=args.scheduled)
    return {"scheduled": {"id": s.pk, "status": s.status}}


@register_op("announcements.publish_scheduled", args=ScheduledArgs, writes=True)
def publish_scheduled(ctx: OpContext, args: ScheduledArgs) -> dict:
    announcement = scheduling.publish_now(identity=ctx.identity, scheduled_id=args.scheduled)
    return {"announcement": announcement.to_dict(author_name=ctx.identity.name)}
