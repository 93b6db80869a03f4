"""Writes for moderation: scanning text, queueing for review, the audit log."""

from __future__ import annotations

from django.db.models import Q

from accounts.identity import Identity
from realtime.events import append_event

from .models import AuditEntry, ReviewItem, WatchedWord
from .watched_words import ScanResult, WatchedWordRule, WatchedWordSet


def queue_stream(branch_id: int) -> str:
    return f"modqueue:{branch_id}"


def scan_text(branch_id: int, text: str) -> ScanResult:
    """Check text against the branch's watched words and the global ones."""
    rules = [
        WatchedWordRule(pattern, action, case_sensitive)
        for pattern, action, case_sensitive in WatchedWord.objects.filter(
            Q(branch_id=branch_id) | Q(branch__isnull=True)
        ).values_list("pattern", "action", "case_sensitive")
    ]
    return WatchedWordSet(rules).scan(text)


def enqueue_for_review(*, branch_id: int, target_type: str, target_id: int, reasons: list[dict],
                       score: float = 1.0) -> ReviewItem:
    """Add reasons to the target's one queue item (reopening it if it was handled)."""
    item = ReviewItem.objects.select_for_update().filter(target_type=target_type, target_id=target_id).first()
    if item is None:
        item = ReviewItem.objects.create(branch_id=branch_id, target_type=target_type, target_id=target_id,
                                         reasons=reasons, score=score)
    else:
        item.reasons = [*item.reasons, *reasons]
        item.score += score
        item.status = ReviewItem.Status.PENDING
        item.version += 1
        item.save(update_fields=["reasons", "score", "status", "version", "updated_at"])
    append_event(queue_stream(branch_id), "review.updated", item.to_dict())
    return item


def audit(*, actor: Identity, action: str, target_type: str, target_id: int | None,
          branch_id: int | None, before: dict | None = None, after: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        branch_id=branch_id, actor=actor.key, actor_name=actor.name, action=action,
        target_type=target_type, target_id=target_id, before=before, after=after,
    )
