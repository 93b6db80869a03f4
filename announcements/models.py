from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.urls import reverse
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
    # 置顶至: unpinned by itself then (announcements/actions.py, unpin_due); None: until unpinned.
    pinned_until = models.DateTimeField(_("pinned until"), null=True, blank=True)
    # 提醒未读: when a secretary last reminded those who had not read it yet.
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # 下发: a secretary of a branch above may send an announcement to branches below it
    # at the same time; each gets a copy of its own (its own readers, unread counts and
    # mail). A copy names the branch it came from; the original, where it went.
    copy_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies",
                                verbose_name=_("copy of"))
    sent_from = models.ForeignKey("accounts.Branch", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("sent from"))
    sent_to = models.JSONField(_("also sent to"), null=True, blank=True)  # [{"id", "name"}] of those branches

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-created_at", "-id"]
        # unpin_due's look every 30 s: only the few pinned until a time are in it.
        indexes = [models.Index(fields=["pinned_until"], condition=models.Q(pinned_until__isnull=False),
                                name="announcement_pinned_until")]

    def __str__(self) -> str:
        return self.title

    # Set by the action that writes it: the attachments' dicts, so its frame and reply
    # cost no query. Otherwise read (prefetched where a page lists many: selectors).
    written_attachments: list[dict] | None = None

    def attachment_dicts(self) -> list[dict]:
        if self.written_attachments is not None:
            return self.written_attachments
        return [f.to_dict() for f in self.attachments.all()]

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
            "attachments": self.attachment_dicts(),
            "seq": self.seq,
            **({"pinned_until": iso(self.pinned_until)} if self.pinned_until else {}),
            **self.routing(),
        }

    @property
    def sent_to_names(self) -> list[str]:
        return [branch["name"] for branch in self.branches_sent_to()]

    def branches_sent_to(self) -> list[dict]:
        """下发: the branches the original also went to, by their names now (a branch
        renamed since shows its new name; one deleted, the name it had when it was sent). One query,
        unless `name_branches_sent_to` named them for a whole list at once."""
        if not self.sent_to:
            return []
        names = getattr(self, "_sent_to_names", None)
        if names is None:
            name_branches_sent_to([self])
            names = self._sent_to_names
        return [{"id": branch["id"], "name": names.get(branch["id"], branch["name"])} for branch in self.sent_to]

    def routing(self) -> dict:
        """下发: where a copy came from, or where the original also went (absent for the
        plain announcement of one branch)."""
        if self.sent_from_id is not None:
            return {"sent_from": {"id": self.sent_from_id, "name": self.sent_from.name}}
        if self.sent_to:
            return {"sent_to": self.branches_sent_to()}
        return {}


def name_branches_sent_to(items) -> None:
    """The current names of the branches these originals also went to, in one query."""
    from accounts.models import Branch

    originals = [a for a in items if a.sent_to]
    if not originals:
        return
    ids = {branch["id"] for a in originals for branch in a.sent_to}
    names = dict(Branch.objects.filter(pk__in=ids).values_list("pk", "name"))
    for a in originals:
        a._sent_to_names = names


class Reading(models.Model):
    """已读: a member has read this announcement, seen on the list page or opened on its
    own. A read marker at or past its seq ("mark all read") counts as read too; rows are
    written only for announcements after the reader's marker (selectors)."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="readings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="reading_unique")]
        indexes = [models.Index(fields=["user", "announcement"], name="reading_by_user")]


class ScheduledAnnouncement(models.Model):
    """定时发布: an announcement a secretary wrote to go out later (a notice for the
    morning, written the night before). Nobody but the branch's secretaries sees it until
    it is published (announcements/scheduling.py); it then becomes an Announcement like
    any other, posted by its author at that moment."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        PUBLISHED = "published", _("published")
        CANCELLED = "cancelled", _("cancelled")
        FAILED = "failed", _("could not be published")

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("branch"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("author"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), max_length=20_000)
    publish_at = models.DateTimeField(_("to be published at"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    # Once published: what it became. Once failed: why (in the site's language).
    announcement = models.OneToOneField(Announcement, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", verbose_name=_("announcement"))
    problem = models.CharField(_("problem"), max_length=300, blank=True, default="")
    # 下发: ids of the branches below that get it too once it is published.
    also = models.JSONField(_("also sent to"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("scheduled announcement")
        verbose_name_plural = _("scheduled announcements")
        ordering = ["publish_at", "id"]

    def __str__(self) -> str:
        return self.title

    def also_branches(self) -> list[dict]:
        """The branches below it goes to as well, {"id", "name"}, in the tree's order (as kept)."""
        from accounts.models import Branch

        if not self.also:
            return []
        names = dict(Branch.objects.filter(pk__in=self.also).values_list("pk", "name"))
        return [{"id": pk, "name": names[pk]} for pk in self.also if pk in names]

    @property
    def also_names(self) -> list[str]:
        return [branch["name"] for branch in self.also_branches()]


def _stored_name(instance: Attachment, filename: str) -> str:
    # A random name on disk: the member's file name is kept in `name`, shown and sent
    # back on download, and never becomes a path.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"attachments/{instance.branch_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    """A file a secretary attached to an announcement (学习材料, a form to fill in).

    Uploaded first, on its own (a WebSocket frame is no place for megabytes), then
    attached when the announcement is posted (or held by one scheduled for later); an
    upload never attached is removed a day later (announcements/attachments.py)."""

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("branch"))
    announcement = models.ForeignKey(Announcement, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="attachments", verbose_name=_("announcement"))
    # Held for an announcement to be published later (定时发布) until it is.
    scheduled = models.ForeignKey(ScheduledAnnouncement, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="attachments", verbose_name=_("scheduled announcement"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("uploaded by"))
    file = models.FileField(upload_to=_stored_name, max_length=200)
    # A picture's smaller copy (JPEG, at most PREVIEW_PIXELS a side, no EXIF), which
    # pages show; the original is what a click opens. Empty for other files.
    preview = models.FileField(upload_to=_stored_name, max_length=200, blank=True, default="")
    name = models.CharField(_("file name"), max_length=200)
    size = models.BigIntegerField(_("size in bytes"))
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def to_dict(self) -> dict:
        return {
            "id": self.pk,
            "name": self.name,
            "size": self.size,
            "content_type": self.content_type,
            "url": reverse("attachment", args=[self.pk, self.name]),
            "preview_url": reverse("attachment", args=[self.pk, self.name]) + "?preview=1" if self.preview else None,
        }


class DigestSent(models.Model):
    """每日摘要: a member's digest for one day (on their clock) has been made, by one
    process (the unique key is the claim), whether or not it had anything to say."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    at = models.DateTimeField(auto_now_add=True)
    mailed = models.BooleanField(default=False)  # False: nothing unread, no mail

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_a_day")]
