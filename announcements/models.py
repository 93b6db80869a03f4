from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from realtime.frames import iso


class Announcement(models.Model):
    """信息发布: a notice a secretary posts to their branch."""

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="announcements",
                               verbose_name=_("branch"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("author"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), max_length=20_000)  # as the secretary wrote it (Markdown)
    # Rendered and sanitised once, when written (forum.rendering): what pages show.
    body_html = models.TextField(blank=True, default="")
    # The seq of the event that published it on the branch's stream (unread counts).
    seq = models.BigIntegerField(default=0, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # A secretary may correct it (the last edit's time is shown) or withdraw it (撤回):
    # a withdrawn announcement is kept for the audit log but shown to nobody.
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # 置顶: shown above the others until unpinned (the latest pinned first).
    pinned_at = models.DateTimeField(_("pinned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def to_dict(self, *, author_name: str | None = None) -> dict:
        if author_name is None:
            author_name = self.author.get_full_name() or self.author.get_username()
        return {
            "id": self.pk,
            "branch": self.branch_id,
            "title": self.title,
            "body": self.body,
            "body_html": self.body_html,
            "author": {"id": self.author_id, "name": author_name},
            "created_at": iso(self.created_at),
            "edited_at": iso(self.edited_at) if self.edited_at else None,
            "pinned_at": iso(self.pinned_at) if self.pinned_at else None,
            "seq": self.seq,
        }
