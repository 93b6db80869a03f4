"""What the forum and moderation pages show before the socket takes over.

The pages are complete without JavaScript: these reads give the server-rendered HTML
the same data the streams' snapshots give the scripts. Permission checks come from
the apps' own selectors (forum.selectors, accounts.selectors); nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from accounts.identity import Identity
from accounts.selectors import can_moderate_branch
from forum import selectors as forum_selectors
from forum.models import Board, Discussion, Topic, TopicReadState
from moderation.models import AuditEntry, ReviewItem



# -- boards ---------------------------------------------------------------------------


def read_numbers(identity: Identity, topic_ids: list[int]) -> dict[int, int]:
    """How far the reader has read each of these topics (absent: not at all)."""
    if not identity.is_user or not topic_ids:
        return {}
    rows = TopicReadState.objects.filter(user_id=identity.user_id, topic_id__in=topic_ids)
    return dict(rows.values_list("topic_id", "last_read_number"))


def board_topics(identity: Identity, board: Board) -> tuple[list[Topic], dict[int, int], str | None]:
    """The board's first page of topics (pinned first), as the board stream's snapshot,
    the reader's read positions and the next page's cursor. A topic is unread while its last number is past the
    reader's: forum.selectors.boards_for's rule, so the board page and list agree."""
    topics, next_page = forum_selectors.topics_page(identity, board)
    return topics, read_numbers(identity, [t.pk for t in topics]), next_page


def discussion_topic_ids(topic_ids: list[int]) -> set[int]:
    return set(Discussion.objects.filter(topic_id__in=topic_ids).values_list("topic_id", flat=True))


def last_read_number(identity: Identity, topic: Topic) -> int:
    if not identity.is_user:
        return 0
    state = TopicReadState.objects.filter(user_id=identity.user_id, topic=topic).first()
    return state.last_read_number if state else 0


# -- topics ---------------------------------------------------------------------------


@dataclass
class TopicPage:
    topic: Topic
    moderator: bool
    posts: list[dict]
    reactions: dict[int, dict[str, int]]
    my_reactions: dict[int, list[str]] = field(default_factory=dict)
    has_more: bool = False


def topic_page(identity: Identity, topic: Topic) -> TopicPage:
    """The topic's posts as its stream's snapshot gives them to this reader."""
    moderator = can_moderate_branch(identity, topic.board.branch_id)
    posts, more = forum_selectors.posts_page(identity, topic)
    ids = [p.pk for p in posts]
    reactions = forum_selectors.reaction_counts_for(ids)
    mine = forum_selectors.my_reactions(identity, ids)
    return TopicPage(
        topic=topic,
        moderator=moderator,
        posts=[p.to_dict(moderator=moderator) for p in posts],
        reactions=reactions,
        my_reactions=mine,
        has_more=more,
    )


def boards_to_move_to(identity: Identity, topic: Topic) -> list[Board]:
    """Boards of branches this moderator moderates (forum.move's rule), other than the topic's own."""
    branch_ids = {topic.board.branch_id}
    if identity.is_user:
        from accounts.models import Membership

        branch_ids |= set(Membership.objects.filter(user_id=identity.user_id).values_list("branch_id", flat=True))
    boards = Board.objects.filter(branch_id__in=branch_ids).exclude(pk=topic.board_id).select_related("branch")
    return [b for b in boards.order_by("branch_id", "position", "id") if can_moderate_branch(identity, b.branch_id)]


def merge_candidates(topic: Topic, limit: int = 50) -> list[Topic]:
    """Recent topics of the same branch a moderator might merge this one into."""
    return list(
        Topic.objects.filter(board__branch_id=topic.board.branch_id, deleted_at__isnull=True)
        .exclude(pk=topic.pk)
        .select_related("board")
        .order_by("-last_post_at", "-id")[:limit]
    )


# -- moderation -------------------------------------------------------------------------


def review_counts(branch_id: int) -> dict[str, int]:
    rows = ReviewItem.objects.filter(branch_id=branch_id).values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows.values_list("status", "n")}


def audit_actions(branch_id: int) -> list[str]:
    return sorted(set(AuditEntry.objects.filter(branch_id=branch_id).values_list("action", flat=True)))
