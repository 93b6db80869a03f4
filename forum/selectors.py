"""Permission-aware reads and the rules of who may do what in the forum."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.selectors import can_moderate_branch, can_read_branch
from realtime.errors import Forbidden, NotFound

from .models import Board, Post, Reaction, Topic

def can_read_board(identity: Identity, board: Board) -> bool:
    return board.is_public or can_read_branch(identity, board.branch_id)


def can_write_board(identity: Identity, board: Board, *, member: bool | None = None) -> bool:
    """`member`: can_read_branch(identity, board.branch_id) when the caller has it
    already (see reads_branch), so it is not asked twice; None asks."""
    if identity.is_citizen:
        return board.is_public and board.citizens_may_post
    if not identity.is_user:
        return False
    return can_read_branch(identity, board.branch_id) if member is None else member


def reads_branch(board: Board) -> bool | None:
    """What a successful can_read_board(identity, board) says about can_read_branch:
    True for a members-only board (it asked), None for a public one (it did not)."""
    return None if board.is_public else True


def public_boards() -> list[Board]:
    """Every public board, with its branch: what anyone may read, whoever they are."""
    return list(Board.objects.select_related("branch").filter(visibility=Board.Visibility.PUBLIC))


def board_for(identity: Identity, board_id: int) -> Board:
    board = Board.objects.select_related("branch").filter(pk=board_id).first()
    if board is None or not can_read_board(identity, board):
        # Not "forbidden": a members-only board's existence is not revealed.
        raise NotFound(_("There is no board %(id)s.") % {"id": board_id})
    return board


def shown_topics(identity: Identity, topics, branch_id: int):
    """Topics with something to show this reader: a visible post, or their own topic
    (its first post awaiting review); moderators see all. A citizen's topic is not
    listed, titled or opened for others before a moderator approves it."""
    if can_moderate_branch(identity, branch_id):
        return topics
    own = Q(author_id=identity.user_id) if identity.is_user else (
        Q(author_citizen_id=identity.citizen_id) if identity.is_citizen else Q(pk__in=[])
    )
    return topics.filter(Q(post_count__gt=0) | own)


def topic_for(identity: Identity, topic_id: int, *, for_update: bool = False) -> Topic:
    qs = Topic.objects.select_related("board", "board__branch", "author", "author_citizen")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    topic = qs.filter(pk=topic_id, deleted_at__isnull=True).first()
    if topic is None or not can_read_board(identity, topic.board) or not _topic_shown(identity, topic):
        raise NotFound(_("There is no topic %(id)s.") % {"id": topic_id})
    return topic


def _topic_shown(identity: Identity, topic: Topic) -> bool:
    return topic.post_count > 0 or is_author(identity, topic) or can_moderate_branch(identity, topic.board.branch_id)


def post_for(identity: Identity, post_id: int) -> Post:
    post = Post.objects.select_related("topic", "topic__board", "author", "author_citizen").filter(pk=post_id).first()
    if post is None or not can_read_board(identity, post.topic.board):
        raise NotFound(_("There is no post %(id)s.") % {"id": post_id})
    if post.status != Post.Status.VISIBLE and not (
        is_author(identity, post) or can_moderate_branch(identity, post.topic.board.branch_id)
    ):
        raise NotFound(_("There is no post %(id)s.") % {"id": post_id})
    return post


def is_author(identity: Identity, post: Post | Topic) -> bool:
    if identity.is_user:
        return post.author_id == identity.user_id
    if identity.is_citizen:
        return post.author_citizen_id == identity.citizen_id
    return False


def check_can_write(identity: Identity, board: Board, *, member: bool | None = None) -> None:
    if not can_write_board(identity, board, member=member):
        raise Forbidden(_("You may not write on this board."))
    if identity.is_user:
        from moderation.actions import is_silenced

        if is_silenced(identity.user_id, board.branch_id):
            raise Forbidden(_("A moderator has silenced you in this branch for now."))


def visible_posts(identity: Identity, topic: Topic, *, after: int = 0, limit: int = 100) -> list[Post]:
    """Posts in number order: visible ones, plus the reader's own pending ones; moderators see all."""
    qs = Post.objects.filter(topic=topic, number__gt=after).select_related("author", "author_citizen")
    if not can_moderate_branch(identity, topic.board.branch_id):
        own = Q(author_id=identity.user_id) if identity.is_user else (
            Q(author_citizen_id=identity.citizen_id) if identity.is_citizen else Q(pk__in=[])
        )
        qs = qs.filter(Q(status=Post.Status.VISIBLE) | (own & Q(status=Post.Status.PENDING)))
    return list(qs.order_by("number")[:limit])


def search_posts(identity: Identity, q: str, *, limit: int = 20, offset: int = 0) -> list[dict]:
    """Ranked posts matching q that this identity may read, with highlighted snippets."""
    from accounts.selectors import readable_branch_ids
    from search.selectors import search

    hits = search(q, readable_branch_ids=readable_branch_ids(identity), include_public=True,
                  doc_types=["forum.post"], limit=limit, offset=offset)
    posts = {p.pk: p for p in Post.objects.filter(pk__in=[h.doc_id for h in hits]).select_related("topic")}
    return [
        {"post": h.doc_id, "topic": posts[h.doc_id].topic_id, "number": posts[h.doc_id].number,
         "title": h.title, "snippet_html": str(h.snippet_html), "rank": h.rank}
        for h in hits if h.doc_id in posts
    ]


def boards_for(identity: Identity, branch_id: int) -> list[dict]:
    """The branch's boards this identity may read, with topic and unread-topic counts."""
    from django.db.models import Count, OuterRef, Subquery

    from .models import TopicReadState

    boards = [b for b in Board.objects.filter(branch_id=branch_id).order_by("position", "id")
              if can_read_board(identity, b)]
    topics = shown_topics(identity, Topic.objects.filter(board__in=boards, deleted_at__isnull=True), branch_id)
    counts = dict(topics.values("board_id").annotate(n=Count("id")).values_list("board_id", "n"))
    unread: dict[int, int] = {}
    if identity.is_user:
        from django.db.models import Max

        read = TopicReadState.objects.filter(user_id=identity.user_id, topic=OuterRef("pk")).values("last_read_number")
        # Only what the reader can see makes a topic unread: not others' pending posts.
        newest = (
            Post.objects.filter(topic=OuterRef("pk"), status=Post.Status.VISIBLE)
            .values("topic").annotate(n=Max("number")).values("n")
        )
        rows = topics.annotate(read=Subquery(read), newest=Subquery(newest)).values_list("board_id", "newest", "read")
        for board_id, last_number, read_number in rows:
            if (last_number or 0) > (read_number or 0):
                unread[board_id] = unread.get(board_id, 0) + 1
    return [{**b.to_dict(), "topics": counts.get(b.pk, 0), "unread_topics": unread.get(b.pk, 0)} for b in boards]


def reaction_counts_for(post_ids: list[int]) -> dict[int, dict[str, int]]:
    """{post id: {emoji: count}} for these posts, in one query."""
    from django.db.models import Count

    counts: dict[int, dict[str, int]] = {}
    rows = Reaction.objects.filter(post_id__in=post_ids).values("post_id", "emoji").annotate(n=Count("id"))
    for row in rows.order_by("post_id", "emoji"):
        counts.setdefault(row["post_id"], {})[row["emoji"]] = row["n"]
    return counts


def my_reactions(identity: Identity, post_ids: list[int]) -> dict[int, list[str]]:
    """The reader's own reactions per post (the page shows them pressed)."""
    mine: dict[int, list[str]] = {}
    if not identity.is_user or not post_ids:
        return mine
    rows = Reaction.objects.filter(post_id__in=post_ids, user_id=identity.user_id).order_by("id")
    for post_id, emoji in rows.values_list("post_id", "emoji"):
        mine.setdefault(post_id, []).append(emoji)
    return mine


def member_usernames(branch_id: int, names: set[str]) -> set[str]:
    """Which of these usernames are active members of the branch (real @mentions)."""
    if not names:
        return set()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(username__in=names, memberships__branch_id=branch_id, is_active=True)
    return set(users.values_list("username", flat=True).distinct())


def post_revisions(identity: Identity, post_id: int) -> dict:
    """Every version of a post, oldest first, for moderators of its board's branch.

    A PostRevision holds the text an edit replaced: version k was written when
    revision k-1 was replaced (version 1 when the post was made) and replaced at its
    own row's time, by its row's editor.
    """
    from realtime.frames import iso

    from .models import PostRevision
    from .rendering import mentioned_names, render_markdown

    post = post_for(identity, post_id)
    branch_id = post.topic.board.branch_id
    if not can_moderate_branch(identity, branch_id):
        raise Forbidden(_("Only moderators may see earlier versions of a post."))
    rows = list(PostRevision.objects.filter(post=post).select_related("edited_by").order_by("revision"))
    versions = []
    written_at = post.created_at
    for row in rows:
        editor = row.edited_by
        versions.append({
            "revision": row.revision, "source": row.source,
            "html": render_markdown(row.source, mentions=member_usernames(branch_id, mentioned_names(row.source))),
            "written_at": iso(written_at), "replaced_at": iso(row.created_at),
            "replaced_by": (
                {"id": editor.pk, "name": editor.get_full_name() or editor.get_username()} if editor else None
            ),
        })
        written_at = row.created_at
    current = post.to_dict(moderator=True)
    versions.append({
        "revision": post.revision, "source": post.source, "html": post.html,
        "written_at": iso(post.edited_at or post.created_at), "replaced_at": None, "replaced_by": None,
    })
    return {"post": current["id"], "number": post.number, "topic": post.topic_id, "versions": versions}


# -- paging (keyset: a page continues after the last row the reader has) -----------------

TOPICS_PAGE = 100
POSTS_PAGE = 200


def posts_page(identity: Identity, topic: Topic, *, after: int = 0, limit: int = POSTS_PAGE) -> tuple[list[Post], bool]:
    """The posts after number `after` the reader may see, and whether more follow."""
    limit = max(1, min(limit, POSTS_PAGE))
    posts = visible_posts(identity, topic, after=max(0, after), limit=limit + 1)
    return posts[:limit], len(posts) > limit


def _topic_cursor(topic: Topic) -> str:
    return f"{int(topic.pinned)}|{topic.sort_at.isoformat()}|{topic.pk}"


def _parse_topic_cursor(cursor: str):
    from datetime import datetime

    try:
        pinned, at, pk = cursor.split("|")
        parsed = datetime.fromisoformat(at)
        if pinned not in ("0", "1") or parsed.tzinfo is None:
            raise ValueError(cursor)
        return pinned == "1", parsed, int(pk)
    except ValueError:
        from realtime.errors import Invalid

        raise Invalid("before", _("This page marker is not valid; reload the page.")) from None


def topics_page(identity: Identity, board: Board, *, before: str | None = None,
                limit: int = TOPICS_PAGE) -> tuple[list[Topic], str | None]:
    """A board's topics this reader is shown (shown_topics) in the board's order
    (pinned first, latest post first, newest first) after the cursor `before`, and the
    cursor of the next page (None: the end).

    The order's time is the last post's time, or the topic's own when it has none, so
    the key never holds a NULL (databases sort those differently).
    """
    from django.db.models.functions import Coalesce

    limit = max(1, min(limit, TOPICS_PAGE))
    qs = (
        shown_topics(identity, Topic.objects.filter(board=board, deleted_at__isnull=True), board.branch_id)
        .annotate(sort_at=Coalesce("last_post_at", "created_at"))
        .select_related("author", "author_citizen")
        .order_by("-pinned", "-sort_at", "-id")
    )
    if before:
        pinned, at, pk = _parse_topic_cursor(before)
        later = Q(sort_at__lt=at) | Q(sort_at=at, pk__lt=pk)
        # After a pinned topic come the later pinned ones, then every unpinned one.
        qs = qs.filter((Q(pinned=False) | (Q(pinned=True) & later)) if pinned else (Q(pinned=False) & later))
    topics = list(qs[: limit + 1])
    more = len(topics) > limit
    topics = topics[:limit]
    return topics, _topic_cursor(topics[-1]) if more and topics else None
