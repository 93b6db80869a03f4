"""Permission-aware reads for moderators: the queue, watched words, the audit log."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.selectors import can_moderate_branch
from realtime.errors import Forbidden

from .models import AuditEntry, ReviewItem, WatchedWord
from .targets import review_target


def check_moderator(identity: Identity, branch_id: int) -> None:
    if not can_moderate_branch(identity, branch_id):
        raise Forbidden(_("Only moderators may see this."))


QUEUE_PAGE = 100


def queue(identity: Identity, branch_id: int, *, status: str | None = "pending", limit: int = QUEUE_PAGE) -> list[dict]:
    """The first page of the queue (see queue_page)."""
    return queue_page(identity, branch_id, status=status, limit=limit)[0]


def _queue_cursor(item: ReviewItem) -> str:
    return f"{item.created_at.isoformat()}|{item.pk}"


def queue_page(identity: Identity, branch_id: int, *, status: str | None = "pending", after: str | None = None,
               limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """Queue items with a preview of their target, oldest first, after the cursor
    `after`; and the cursor of the next page (None: the end)."""
    from datetime import datetime

    from realtime.errors import Invalid

    check_moderator(identity, branch_id)
    limit = max(1, min(limit, QUEUE_PAGE))
    items = ReviewItem.objects.filter(branch_id=branch_id)
    if status:
        items = items.filter(status=status)
    if after:
        try:
            at, pk = after.split("|")
            at_time, pk_number = datetime.fromisoformat(at), int(pk)
            if at_time.tzinfo is None:
                raise ValueError(after)
        except ValueError:
            raise Invalid("after", _("This page marker is not valid; reload the page.")) from None
        items = items.filter(Q(created_at__gt=at_time) | Q(created_at=at_time, pk__gt=pk_number))
    rows = list(items.order_by("created_at", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    # Previews in a few queries per kind of target, not several per item.
    previews: dict[tuple[str, int], dict] = {}
    for target_type in {item.target_type for item in rows}:
        try:
            target = review_target(target_type)
        except KeyError:
            continue
        ids = [item.target_id for item in rows if item.target_type == target_type]
        if target.preview_many is not None:
            found = target.preview_many(identity, ids)
        else:
            found = {}
            for target_id in ids:
                try:
                    found[target_id] = target.preview(identity, target_id)
                except Exception:  # a target deleted outright still shows its queue entry
                    continue
        previews.update({(target_type, target_id): data for target_id, data in found.items()})
    result = [{**item.to_dict(), "target": previews.get((item.target_type, item.target_id))} for item in rows]
    return result, _queue_cursor(rows[-1]) if more and rows else None


def watched_words(identity: Identity, branch_id: int) -> list[dict]:
    check_moderator(identity, branch_id)
    words = WatchedWord.objects.filter(Q(branch_id=branch_id) | Q(branch__isnull=True)).order_by("action", "pattern")
    return [{**w.to_dict(), "global": w.branch_id is None} for w in words]


def audit_log(identity: Identity, branch_id: int, *, action: str | None = None, actor: str | None = None,
              before: int | None = None, limit: int = 50) -> list[dict]:
    check_moderator(identity, branch_id)
    entries = AuditEntry.objects.filter(branch_id=branch_id)
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor=actor)
    if before:
        entries = entries.filter(pk__lt=before)
    return [e.to_dict() for e in entries.order_by("-id")[: max(1, min(limit, 200))]]
