"""The durable per-stream event log, idempotency records and presence rows."""

from __future__ import annotations

from django.db import models


class Stream(models.Model):
    """Head of one stream: the last seq handed out, and what retention removed.

    Appending bumps `last_seq` with an UPDATE, which row-locks the head until the
    transaction commits; that makes seqs gapless and makes commit order equal seq order.
    """

    key = models.CharField(max_length=120, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    # Every event with seq <= trimmed_through has been deleted by retention.
    trimmed_through = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.key}@{self.last_seq}"


class Event(models.Model):
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="events", db_column="stream_key")
    seq = models.BigIntegerField()
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    actor = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="event_stream_seq_unique")]
        ordering = ["stream", "seq"]

    def __str__(self) -> str:
        return f"{self.stream_id}#{self.seq} {self.type}"


class ClientWrite(models.Model):
    """The first result of a client-tagged write; a retry with the same id gets it back."""

    identity = models.CharField(max_length=32)
    client_id = models.CharField(max_length=64)
    op = models.CharField(max_length=64)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identity", "client_id"], name="clientwrite_unique"),
        ]


class PresenceEntry(models.Model):
    """Who is on a stream, per process; a process refreshes `seen_at` while it lives."""

    stream = models.CharField(max_length=120)
    identity = models.CharField(max_length=32)
    name = models.CharField(max_length=150, blank=True)
    process = models.CharField(max_length=40)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "identity", "process"], name="presence_unique"),
        ]
        indexes = [models.Index(fields=["stream", "seen_at"]), models.Index(fields=["process"])]


class ReadMarker(models.Model):
    """The last seq a user has read on a stream (unread counts are computed from it)."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="read_markers")
    stream = models.CharField(max_length=120)
    seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "stream"], name="readmarker_unique")]


class ServerProcess(models.Model):
    """A running server process, as its hub last said (realtime/processes.py): refreshed
    every 30 s, removed when the process stops cleanly, stale after 90 s otherwise.
    `manage.py restore` refuses while one is fresh."""

    name = models.CharField(max_length=40, unique=True)  # the hub's process id (host:pid:random)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
