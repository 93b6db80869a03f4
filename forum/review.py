"""How the shared review queue acts on forum posts."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from accounts import notifications
from accounts.identity import Identity
from moderation.targets import ReviewTarget, register_review_target
from realtime.events import append_event

from .actions import index_post, publish_visible_post, render_post, topic_stream, unindex_post, visible_posts_changed
from .models import Post, PostRevision, Topic
from .selectors import post_for, reads_branch


def _post(identity: Identity, post_id: int) -> Post:
    return post_for(identity, post_id)


def _tell_author(post: Post, type_: str, reason: str) -> None:
    if post.author_id is not None:
        notifications.send([post.author_id], type_, {"post": post.pk, "topic": post.topic_id, "reason": reason})


def describe(identity: Identity, post_id: int) -> dict:
    post = _post(identity, post_id)
    author = f"u:{post.author_id}" if post.author_id else f"c:{post.author_citizen_id}"
    # "member": what post_for learnt of can_read_branch (True on a members-only board,
    # None when it did not ask), so the flag's own membership check is not asked twice.
    return {"branch": post.topic.board.branch_id, "author": author, "author_user_id": post.author_id,
            "member": reads_branch(post.topic.board)}


def approve(identity: Identity, post_id: int) -> None:
    post = _post(identity, post_id)
    if post.status == Post.Status.PENDING:
        post.status, post.status_reason = Post.Status.VISIBLE, ""
        post.save(update_fields=["status", "status_reason"])
        publish_visible_post(post, actor=identity)
        _tell_author(post, "post.approved", "")
    elif post.status == Post.Status.HIDDEN:
        restore(identity, post_id)


def reject(identity: Identity, post_id: int, reason: str) -> None:
    post = _post(identity, post_id)
    if post.status == Post.Status.PENDING:
        post.status, post.status_reason = Post.Status.REJECTED, reason
        post.save(update_fields=["status", "status_reason"])
        _tell_author(post, "post.rejected", reason)
    elif post.status == Post.Status.VISIBLE:
        hide(identity, post_id, reason)


def hide(identity: Identity, post_id: int, reason: str) -> None:
    post = _post(identity, post_id)
    if post.status != Post.Status.VISIBLE:
        return
    post.status, post.status_reason = Post.Status.HIDDEN, reason
    post.save(update_fields=["status", "status_reason"])
    unindex_post(post)
    Topic.objects.filter(pk=post.topic_id).update(post_count=F("post_count") - 1)
    append_event(topic_stream(post.topic_id), "post.hidden", {"id": post.pk, "number": post.number}, actor=identity)
    visible_posts_changed(post.topic_id)
    _tell_author(post, "post.hidden", reason)


def restore(identity: Identity, post_id: int) -> None:
    post = _post(identity, post_id)
    if post.status not in (Post.Status.HIDDEN, Post.Status.DELETED):
        return
    post.status, post.status_reason = Post.Status.VISIBLE, ""
    post.save(update_fields=["status", "status_reason"])
    index_post(post)
    Topic.objects.filter(pk=post.topic_id).update(post_count=F("post_count") + 1)
    append_event(topic_stream(post.topic_id), "post.restored", post.to_dict(), actor=identity)
    visible_posts_changed(post.topic_id)


def delete(identity: Identity, post_id: int, reason: str) -> None:
    post = _post(identity, post_id)
    was_visible = post.status == Post.Status.VISIBLE
    post.status, post.status_reason = Post.Status.DELETED, reason
    post.save(update_fields=["status", "status_reason"])
    unindex_post(post)
    if was_visible:
        Topic.objects.filter(pk=post.topic_id).update(post_count=F("post_count") - 1)
        append_event(topic_stream(post.topic_id), "post.deleted", {"id": post.pk, "number": post.number},
                     actor=identity)
        visible_posts_changed(post.topic_id)


def edit(identity: Identity, post_id: int, body: str) -> None:
    post = _post(identity, post_id)
    PostRevision.objects.create(post=post, revision=post.revision, source=post.source, edited_by_id=identity.user_id)
    post.source = body.strip()
    post.html, post.censored_html = render_post(post.topic.board.branch_id, post.source)
    post.revision += 1
    post.edited_at = timezone.now()
    post.save(update_fields=["source", "html", "censored_html", "revision", "edited_at"])


def preview(identity: Identity, post_id: int) -> dict:
    post = _post(identity, post_id)
    return {**post.to_dict(moderator=True), "title": post.topic.title}


def preview_many(identity: Identity, post_ids: list[int]) -> dict[int, dict]:
    """Previews for a page of the queue: the queue is read by the branch's moderators
    only (moderation.selectors checks), and a moderator may see every post of the
    branch, so one query for the posts, one permission check per branch."""
    from .selectors import can_moderate_branch

    posts = Post.objects.filter(pk__in=post_ids).select_related("topic", "topic__board", "author", "author_citizen")
    allowed: dict[int, bool] = {}
    previews = {}
    for post in posts:
        branch_id = post.topic.board.branch_id
        if branch_id not in allowed:
            allowed[branch_id] = can_moderate_branch(identity, branch_id)
        if allowed[branch_id]:
            previews[post.pk] = {**post.to_dict(moderator=True), "title": post.topic.title}
    return previews


register_review_target(ReviewTarget(
    name="forum.post", describe=describe, approve=approve, reject=reject, hide=hide, restore=restore,
    delete=delete, edit=edit, preview=preview, preview_many=preview_many,
))
