"""Boards, topics and posts of the micro-forum (微论坛)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from realtime.frames import iso


class Board(models.Model):
    """版块. Members-only boards belong to one branch; public boards are read by anyone."""

    class Visibility(models.TextChoices):
        MEMBERS = "members", _("members only")
        PUBLIC = "public", _("public")

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="boards",
                               verbose_name=_("branch"))
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    visibility = models.CharField(_("visibility"), max_length=16, choices=Visibility.choices,
                                  default=Visibility.MEMBERS)
    # Citizens may write on a public board only when this is set, and always pre-moderated.
    citizens_may_post = models.BooleanField(_("citizens may post"), default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("board")
        verbose_name_plural = _("boards")
        ordering = ["branch_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(citizens_may_post=False) | Q(visibility="public"),
                name="board_citizens_only_on_public",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC

    def to_dict(self) -> dict:
        return {
            "id": self.pk, "branch": self.branch_id, "name": self.name, "description": self.description,
            "visibility": self.visibility, "citizens_may_post": self.citizens_may_post,
        }


class Topic(models.Model):
    """主题."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="topics", verbose_name=_("board"))
    title = models.CharField(_("title"), max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    author_citizen = models.ForeignKey("accounts.Citizen", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    pinned = models.BooleanField(_("pinned"), default=False)
    closed = models.BooleanField(_("closed"), default=False)
    # Minimum seconds between two posts of one author in this topic; moderators are exempt.
    slow_mode_seconds = models.PositiveIntegerField(_("slow mode (seconds)"), default=0)
    # Visible posts (replies included); kept by the actions, never by signals.
    post_count = models.PositiveIntegerField(default=0)
    last_post_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The highest post number handed out (numbers are never reused).
    last_number = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["-pinned", "-last_post_at", "-id"]
        indexes = [models.Index(fields=["board", "pinned", "last_post_at"])]

    def __str__(self) -> str:
        return self.title

    def author_dict(self) -> dict:
        return author_dict(self.author, self.author_citizen)

    def to_dict(self) -> dict:
        return {
            "id": self.pk, "board": self.board_id, "title": self.title, "author": self.author_dict(),
            "pinned": self.pinned, "closed": self.closed, "slow_mode_seconds": self.slow_mode_seconds,
            "post_count": self.post_count, "last_number": self.last_number,
            "last_post_at": iso(self.last_post_at) if self.last_post_at else None,
            "created_at": iso(self.created_at), "deleted": self.deleted_at is not None,
            "merged_into": self.merged_into_id,
        }


def author_dict(user, citizen) -> dict:
    if user is not None:
        return {"kind": "user", "id": user.pk, "name": user.get_full_name() or user.get_username()}
    if citizen is not None:
        return {"kind": "citizen", "id": citizen.pk, "name": citizen.display_name or str(_("citizen"))}
    return {"kind": "system", "id": None, "name": ""}


class Post(models.Model):
    """帖子 / 回复. `source` is the author's Markdown; `html` is rendered and sanitised."""

    class Status(models.TextChoices):
        VISIBLE = "visible", _("visible")
        PENDING = "pending", _("awaiting review")
        HIDDEN = "hidden", _("hidden")
        REJECTED = "rejected", _("rejected")
        DELETED = "deleted", _("deleted")

    class Kind(models.TextChoices):
        REGULAR = "regular", _("post")
        SMALL_ACTION = "small_action", _("moderator action")

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts", verbose_name=_("topic"))
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REGULAR)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    author_citizen = models.ForeignKey("accounts.Citizen", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.TextField(max_length=20_000)
    html = models.TextField()
    # With censored watched words: what everyone but moderators sees.
    censored_html = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VISIBLE, db_index=True)
    status_reason = models.CharField(max_length=300, blank=True)
    # For small actions: what happened, as data the client renders in its language.
    action = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["topic_id", "number"]
        constraints = [models.UniqueConstraint(fields=["topic", "number"], name="post_topic_number_unique")]

    def __str__(self) -> str:
        return f"{self.topic_id}#{self.number}"

    def to_dict(self, *, moderator: bool = False) -> dict:
        censored = bool(self.censored_html)
        data = {
            "id": self.pk, "topic": self.topic_id, "number": self.number, "kind": self.kind,
            "author": author_dict(self.author, self.author_citizen),
            "reply_to": self.reply_to_id, "status": self.status,
            "html": self.censored_html if censored and not moderator else self.html,
            "censored": censored, "action": self.action,
            "created_at": iso(self.created_at), "edited_at": iso(self.edited_at) if self.edited_at else None,
            "revision": self.revision,
        }
        if moderator:
            data["source"] = self.source
            data["status_reason"] = self.status_reason
        return data


class PostRevision(models.Model):
    """An earlier text of an edited post (moderators see the history)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    source = models.TextField()
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["post_id", "revision"]
        constraints = [models.UniqueConstraint(fields=["post", "revision"], name="postrevision_unique")]


class Reaction(models.Model):
    EMOJI = ("👍", "❤️", "🎉", "😄", "🤔", "👏")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user", "emoji"], name="reaction_unique")]


class TopicReadState(models.Model):
    """How far a member has read a topic (unread counts on the board list)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="read_states")
    last_read_number = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="topicreadstate_unique")]


class Discussion(models.Model):
    """话题讨论: a moderator-opened, time-boxed discussion on a prompt (one topic)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="discussion")
    prompt = models.TextField(_("prompt"), max_length=5000)
    opens_at = models.DateTimeField(_("opens at"), db_index=True)
    closes_at = models.DateTimeField(_("closes at"), db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    summary = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")),
                                              name="discussion_closes_after_opening")]

    def to_dict(self) -> dict:
        return {"topic": self.topic_id, "prompt": self.prompt, "opens_at": iso(self.opens_at),
                "closes_at": iso(self.closes_at), "status": self.status, "summary": self.summary}
