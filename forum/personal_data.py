"""What the forum keeps about a member, for 我的数据 (accounts/personal_data.py): their
posts as they wrote them (with what moderation did to them), their reactions, and the
flags they raised."""

from __future__ import annotations

from accounts.personal_data import part, when
from moderation.models import Flag

from .models import Post, Reaction


@part("forum_posts")
def _posts(user) -> list:
    return [{"id": p.pk, "topic": {"id": p.topic_id, "title": p.topic.title}, "number": p.number, "kind": p.kind,
             "text": p.source, "status": p.status, "status_reason": p.status_reason,
             "posted_at": when(p.created_at), "edited_at": when(p.edited_at)}
            for p in Post.objects.filter(author=user).select_related("topic").order_by("-created_at")]


@part("forum_reactions")
def _reactions(user) -> list:
    return [{"post": r.post_id, "emoji": r.emoji, "at": when(r.created_at)}
            for r in Reaction.objects.filter(user=user).order_by("-created_at")]


@part("flags_raised")
def _flags(user) -> list:
    return [{"what": f.target_type, "id": f.target_id, "reason": f.reason, "note": f.note, "at": when(f.created_at)}
            for f in Flag.objects.filter(user=user).order_by("-created_at")]
