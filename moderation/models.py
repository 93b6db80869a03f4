"""Watched words, the review queue and the audit log, shared by every app that takes text."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from realtime.frames import iso

from .watched_words import InvalidPattern, compile_pattern


class WatchedWord(models.Model):
    """敏感词. Branch-specific, or for every branch when `branch` is empty (admins)."""

    class Action(models.TextChoices):
        BLOCK = "block", _("block")
        REQUIRE_APPROVAL = "require_approval", _("require approval")
        FLAG = "flag", _("flag")
        CENSOR = "censor", _("censor")

    branch = models.ForeignKey("accounts.Branch", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="watched_words", verbose_name=_("branch"))
    pattern = models.CharField(_("word or phrase"), max_length=100)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    case_sensitive = models.BooleanField(_("case sensitive"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("watched word")
        verbose_name_plural = _("watched words")
        constraints = [
            models.UniqueConstraint(fields=["branch", "pattern", "action"], name="watchedword_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.pattern} ({self.get_action_display()})"

    def clean(self) -> None:
        try:
            compile_pattern(self.pattern, case_sensitive=self.case_sensitive)
        except InvalidPattern as exc:
            raise ValidationError({"pattern": str(exc)}) from exc

    def to_dict(self) -> dict:
        return {"id": self.pk, "branch": self.branch_id, "pattern": self.pattern, "action": self.action,
                "case_sensitive": self.case_sensitive}


class ReviewItem(models.Model):
    """One item per target in the review queue (审核队列), however many reasons it has."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        IGNORED = "ignored", _("ignored")

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="review_items")
    target_type = models.CharField(max_length=32)  # e.g. "forum.post"
    target_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    # [{"reason": "watched_word"|"new_member"|"citizen"|"flag", "detail": ..., "by": ...}, ...]
    reasons = models.JSONField(default=list)
    score = models.FloatField(default=0)
    # Optimistic locking: a moderator acts on the version they saw; a stale one is a conflict.
    version = models.PositiveIntegerField(default=1)
    # [{"at", "by", "name", "decision", "reason"}, ...]: every moderator action on the item.
    history = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target_type", "target_id"], name="reviewitem_one_per_target"),
        ]
        indexes = [models.Index(fields=["branch", "status", "created_at"])]

    def to_dict(self) -> dict:
        return {"id": self.pk, "branch": self.branch_id, "target_type": self.target_type,
                "target_id": self.target_id, "status": self.status, "reasons": self.reasons,
                "score": self.score, "version": self.version, "history": self.history,
                "created_at": iso(self.created_at)}


class AuditEntry(models.Model):
    """操作日志: append-only record of who did what to what, with before and after."""

    branch = models.ForeignKey("accounts.Branch", null=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=32)  # identity key, e.g. "u:12"
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32)
    target_id = models.BigIntegerField(null=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["branch", "created_at"])]

    def to_dict(self) -> dict:
        return {"id": self.pk, "branch": self.branch_id, "actor": self.actor, "actor_name": self.actor_name,
                "action": self.action, "target_type": self.target_type, "target_id": self.target_id,
                "before": self.before, "after": self.after, "created_at": iso(self.created_at)}


class Flag(models.Model):
    """举报: one per person per target, with a reason."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("spam")
        OFFENSIVE = "offensive", _("offensive")
        OFF_TOPIC = "off_topic", _("off topic")
        OTHER = "other", _("other")

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    target_type = models.CharField(max_length=32)
    target_id = models.BigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target_type", "target_id", "user"], name="flag_once_per_user"),
        ]


class Silence(models.Model):
    """A member silenced in a branch until a time: they read, but may not write."""

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["branch", "user", "until"])]
