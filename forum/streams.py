"""Forum stream types (`board:<id>`, `topic:<id>`, `modqueue:<branch>`) and ops."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.identity import Identity
from realtime.errors import Invalid, NotFound
from realtime.ops import OpArgs, OpContext, register_op
from realtime.streams import StreamType, register_stream_type

from . import actions, selectors, topic_management
from .discussions import discussion_data
from .models import Board, Discussion


def _int(object_id: str) -> int | None:
    return int(object_id) if object_id.isdigit() and len(object_id) < 12 else None


def _board_readable(identity: Identity, object_id: str) -> bool:
    board = Board.objects.filter(pk=_int(object_id) or 0).first()
    return board is not None and selectors.can_read_board(identity, board)


def _board_snapshot(identity: Identity, object_id: str) -> dict:
    board = selectors.board_for(identity, int(object_id))
    topics, more = selectors.topics_page(identity, board)
    return {"board": board.to_dict(), "topics": [t.to_dict() for t in topics], "next": more}


def _topic_readable(identity: Identity, object_id: str) -> bool:
    try:
        selectors.topic_for(identity, _int(object_id) or 0)
    except NotFound:
        return False
    return True


def _topic_snapshot(identity: Identity, object_id: str) -> dict:
    topic = selectors.topic_for(identity, int(object_id))
    moderator = selectors.can_moderate_branch(identity, topic.board.branch_id)
    posts, more = selectors.posts_page(identity, topic)
    discussion = Discussion.objects.filter(topic=topic).first()
    return {
        "topic": topic.to_dict(),
        "discussion": discussion_data(discussion) if discussion else None,
        "posts": [p.to_dict(moderator=moderator) for p in posts],
        "has_more": more,
        "reactions": selectors.reaction_counts_for([p.pk for p in posts]),
        # The reader's own reactions, so the page shows them pressed.
        "my_reactions": selectors.my_reactions(identity, [p.pk for p in posts]),
    }


def _queue_readable(identity: Identity, object_id: str) -> bool:
    branch_id = _int(object_id)
    return branch_id is not None and selectors.can_moderate_branch(identity, branch_id)


register_stream_type(StreamType(name="board", can_read=_board_readable, snapshot=_board_snapshot))
register_stream_type(StreamType(name="topic", can_read=_topic_readable, snapshot=_topic_snapshot, presence=True))
register_stream_type(StreamType(name="modqueue", can_read=_queue_readable))


class PostsArgs(OpArgs):
    topic: int
    after: int = 0  # the highest post number the reader has
    limit: int = selectors.POSTS_PAGE


@register_op("forum.posts", args=PostsArgs, audience="any")
def posts(ctx: OpContext, args: PostsArgs) -> dict:
    """The next page of a topic's posts (the snapshot carries the first)."""
    topic = selectors.topic_for(ctx.identity, args.topic)
    moderator = selectors.can_moderate_branch(ctx.identity, topic.board.branch_id)
    page, more = selectors.posts_page(ctx.identity, topic, after=args.after, limit=args.limit)
    ids = [p.pk for p in page]
    return {
        "posts": [p.to_dict(moderator=moderator) for p in page],
        "reactions": selectors.reaction_counts_for(ids),
        "my_reactions": selectors.my_reactions(ctx.identity, ids),
        "has_more": more,
    }


class TopicsArgs(OpArgs):
    board: int
    before: str | None = None  # the `next` of the previous page
    limit: int = selectors.TOPICS_PAGE


@register_op("forum.topics", args=TopicsArgs, audience="any")
def topics(ctx: OpContext, args: TopicsArgs) -> dict:
    """The next page of a board's topics (the snapshot carries the first)."""
    board = selectors.board_for(ctx.identity, args.board)
    page, more = selectors.topics_page(ctx.identity, board, before=args.before, limit=args.limit)
    return {"topics": [t.to_dict() for t in page], "next": more}


class SearchArgs(OpArgs):
    q: str
    limit: int = 20
    offset: int = 0


@register_op("forum.search", args=SearchArgs, audience="any")
def search(ctx: OpContext, args: SearchArgs) -> dict:
    hits = selectors.search_posts(ctx.identity, args.q, limit=max(1, min(args.limit, 50)), offset=max(0, args.offset))
    return {"hits": hits}


class CreateTopicArgs(OpArgs):
    board: int
    title: str
    body: str


@register_op("forum.create_topic", args=CreateTopicArgs, writes=True, audience="user_or_citizen")
def create_topic(ctx: OpContext, args: CreateTopicArgs) -> dict:
    board = selectors.board_for(ctx.identity, args.board)
    topic, post = actions.create_topic(identity=ctx.identity, board=board, title=args.title, body=args.body,
                                       member=selectors.reads_branch(board))
    return {"topic": topic.to_dict(), "post": post.to_dict()}


class PostArgs(OpArgs):
    topic: int
    body: str
    reply_to: int | None = None


@register_op("forum.post", args=PostArgs, writes=True, audience="user_or_citizen")
def post(ctx: OpContext, args: PostArgs) -> dict:
    created = actions.create_post(identity=ctx.identity, topic_id=args.topic, body=args.body,
                                  reply_to_id=args.reply_to)
    return {"post": created.to_dict()}


class EditArgs(OpArgs):
    post: int
    body: str


@register_op("forum.edit", args=EditArgs, writes=True, audience="user_or_citizen")
def edit(ctx: OpContext, args: EditArgs) -> dict:
    return {"post": actions.edit_post(identity=ctx.identity, post_id=args.post, body=args.body).to_dict()}


class DeleteArgs(OpArgs):
    post: int
    reason: str = ""


@register_op("forum.delete", args=DeleteArgs, writes=True, audience="user_or_citizen")
def delete(ctx: OpContext, args: DeleteArgs) -> dict:
    deleted = actions.delete_post(identity=ctx.identity, post_id=args.post, reason=args.reason)
    return {"post": {"id": deleted.pk, "status": deleted.status}}


class RestoreArgs(OpArgs):
    post: int


@register_op("forum.restore", args=RestoreArgs, writes=True)
def restore(ctx: OpContext, args: RestoreArgs) -> dict:
    return {"post": actions.restore_post(identity=ctx.identity, post_id=args.post).to_dict()}


class ReactArgs(OpArgs):
    post: int
    emoji: str


@register_op("forum.react", args=ReactArgs, writes=True)
def react(ctx: OpContext, args: ReactArgs) -> dict:
    return actions.toggle_reaction(identity=ctx.identity, post_id=args.post, emoji=args.emoji)


class RevisionsArgs(OpArgs):
    post: int


@register_op("forum.revisions", args=RevisionsArgs)
def revisions(ctx: OpContext, args: RevisionsArgs) -> dict:
    return selectors.post_revisions(ctx.identity, args.post)


class TopicFlagArgs(OpArgs):
    topic: int
    value: bool


@register_op("forum.pin", args=TopicFlagArgs, writes=True)
def pin(ctx: OpContext, args: TopicFlagArgs) -> dict:
    return {"topic": topic_management.set_pinned(identity=ctx.identity, topic_id=args.topic, pinned=args.value).to_dict()}


@register_op("forum.close", args=TopicFlagArgs, writes=True)
def close(ctx: OpContext, args: TopicFlagArgs) -> dict:
    return {"topic": topic_management.set_closed(identity=ctx.identity, topic_id=args.topic, closed=args.value).to_dict()}


class SlowModeArgs(OpArgs):
    topic: int
    seconds: int


@register_op("forum.slow_mode", args=SlowModeArgs, writes=True)
def slow_mode(ctx: OpContext, args: SlowModeArgs) -> dict:
    topic = topic_management.set_slow_mode(identity=ctx.identity, topic_id=args.topic, seconds=args.seconds)
    return {"topic": topic.to_dict()}


class MoveArgs(OpArgs):
    topic: int
    board: int


@register_op("forum.move", args=MoveArgs, writes=True)
def move(ctx: OpContext, args: MoveArgs) -> dict:
    return {"topic": topic_management.move_topic(identity=ctx.identity, topic_id=args.topic, board_id=args.board).to_dict()}


class MergeArgs(OpArgs):
    source: int
    target: int


@register_op("forum.merge", args=MergeArgs, writes=True)
def merge(ctx: OpContext, args: MergeArgs) -> dict:
    target = topic_management.merge_topics(identity=ctx.identity, source_id=args.source, target_id=args.target)
    return {"topic": target.to_dict()}


class SplitArgs(OpArgs):
    topic: int
    posts: list[int]
    title: str


@register_op("forum.split", args=SplitArgs, writes=True)
def split(ctx: OpContext, args: SplitArgs) -> dict:
    new = topic_management.split_posts(identity=ctx.identity, topic_id=args.topic, post_ids=args.posts, title=args.title)
    return {"topic": new.to_dict()}


class DiscussionArgs(OpArgs):
    board: int
    title: str
    prompt: str
    opens_at: str | None = None  # ISO 8601; without an offset: the branch's zone; absent: open now
    closes_at: str


def _aware(field: str, value: str | None, zone):
    """An ISO 8601 time; one without an offset is wall-clock time in the branch's zone
    (what a moderator types into the form), so the page needs no zone arithmetic."""
    from datetime import datetime

    from django.utils.translation import gettext as _

    from realtime.errors import Invalid

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(field, _("Please give a date and time, e.g. 2026-11-28 09:00.")) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


@register_op("forum.open_discussion", args=DiscussionArgs, writes=True)
def open_discussion(ctx: OpContext, args: DiscussionArgs) -> dict:
    from .discussions import open_discussion as open_

    board = selectors.board_for(ctx.identity, args.board)
    zone = board.branch.zone
    discussion = open_(identity=ctx.identity, board=board, title=args.title, prompt=args.prompt,
                       opens_at=_aware("opens_at", args.opens_at, zone),
                       closes_at=_aware("closes_at", args.closes_at, zone))
    return {"discussion": discussion_data(discussion), "topic": discussion.topic.to_dict()}


class CloseDiscussionArgs(OpArgs):
    topic: int


@register_op("forum.close_discussion", args=CloseDiscussionArgs, writes=True)
def close_discussion(ctx: OpContext, args: CloseDiscussionArgs) -> dict:
    from .discussions import close_discussion as close_

    return {"discussion": close_(identity=ctx.identity, topic_id=args.topic).to_dict()}


class BoardsArgs(OpArgs):
    branch: int


@register_op("forum.boards", args=BoardsArgs, audience="any")
def boards(ctx: OpContext, args: BoardsArgs) -> dict:
    return {"boards": selectors.boards_for(ctx.identity, args.branch)}


class MarkReadArgs(OpArgs):
    topic: int
    number: int


@register_op("forum.mark_read", args=MarkReadArgs)
def mark_read(ctx: OpContext, args: MarkReadArgs) -> dict:
    return {"last_read_number": actions.mark_topic_read(identity=ctx.identity, topic_id=args.topic,
                                                        number=args.number)}


class TypingArgs(OpArgs):
    topic: int


@register_op("forum.typing", args=TypingArgs, audience="user_or_citizen")
def typing(ctx: OpContext, args: TypingArgs) -> dict:
    """Ephemeral: other readers of the topic see "… is typing"; nothing is stored."""
    from realtime.ephemeral import broadcast

    topic = selectors.topic_for(ctx.identity, args.topic)
    selectors.check_can_write(ctx.identity, topic.board)
    broadcast(f"topic:{topic.pk}", {"op": "typing", "who": {"id": ctx.identity.key, "name": ctx.identity.name}},
              exclude_connection=ctx.connection_id)
    return {}


class PreviewArgs(OpArgs):
    text: str


@register_op("markdown.preview", args=PreviewArgs, audience="user_or_citizen")
def preview(ctx: OpContext, args: PreviewArgs) -> dict:
    """What a post or an announcement will look like: the same rendering as when it is
    written (no @mentions marked: those depend on where it is posted)."""
    from .rendering import render_markdown

    if len(args.text) > actions.BODY_MAX:
        raise Invalid("text", _("The text is at most %(max)d characters.") % {"max": actions.BODY_MAX})
    return {"html": render_markdown(args.text)}
