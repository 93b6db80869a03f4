"""Writes for moderation: scanning text, queueing for review, the audit log."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import Identity
from accounts.selectors import can_moderate_branch, can_read_branch
from realtime.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from realtime.events import append_event
from realtime.frames import iso

from .models import AuditEntry, Flag, ReviewItem, Silence, WatchedWord
from .targets import review_target
from .watched_words import InvalidPattern, ScanResult, WatchedWordRule, WatchedWordSet, compile_pattern


def queue_stream(branch_id: int) -> str:
    return f"modqueue:{branch_id}"


def watched_words(branch_id: int) -> WatchedWordSet:
    """The branch's watched words and the global ones (one query): scan several texts
    of one write (a topic's title and its first post) with one read."""
    rules = [
        WatchedWordRule(pattern, action, case_sensitive)
        for pattern, action, case_sensitive in WatchedWord.objects.filter(
            Q(branch_id=branch_id) | Q(branch__isnull=True)
        ).values_list("pattern", "action", "case_sensitive")
    ]
    return WatchedWordSet(rules)


def scan_text(branch_id: int, text: str) -> ScanResult:
    """Check text against the branch's watched words and the global ones."""
    return watched_words(branch_id).scan(text)


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


# -- flags -----------------------------------------------------------------------------

# Distinct flaggers that hide a post until a moderator looks (a moderator's flag hides at once).
FLAG_HIDE_THRESHOLD = 3


@transaction.atomic
def flag_target(*, identity: Identity, target_type: str, target_id: int, reason: str, note: str = "") -> ReviewItem:
    if not identity.is_user:
        raise Unauthenticated(_("Please log in first."))
    target = _target(target_type)
    info = target.describe(identity, target_id)  # NotFound when the flagger cannot see it
    if reason not in Flag.Reason.values:
        raise Invalid("reason", _("Choose a reason: spam, offensive, off topic or other."))
    note = note.strip()[:500]
    if reason == Flag.Reason.OTHER and not note:
        raise Invalid("note", _("Please say what is wrong."))
    if info.get("author") == identity.key:
        raise Invalid("target", _("You cannot flag your own post."))
    if Flag.objects.filter(target_type=target_type, target_id=target_id, user_id=identity.user_id).exists():
        raise Conflict(_("You have already flagged this."))
    branch_id = info["branch"]
    # Flags hide posts (three of them, or one moderator's): they are for the branch's
    # members, not for every reader of a public board.
    member = info.get("member")  # the target's read check may have answered it already
    if not (can_read_branch(identity, branch_id) if member is None else member):
        raise Forbidden(_("Only members of the branch may flag posts."))
    Flag.objects.create(branch_id=branch_id, target_type=target_type, target_id=target_id,
                        user_id=identity.user_id, reason=reason, note=note)
    moderator = can_moderate_branch(identity, branch_id)
    item = enqueue_for_review(
        branch_id=branch_id, target_type=target_type, target_id=target_id,
        reasons=[{"reason": "flag", "flag": reason, "note": note, "by": identity.name}],
        score=5.0 if moderator else 1.0,
    )
    flaggers = Flag.objects.filter(target_type=target_type, target_id=target_id).count()
    if moderator or flaggers >= FLAG_HIDE_THRESHOLD:
        target.hide(identity, target_id, reason)
    return item


# -- the review queue ----------------------------------------------------------------

DECISIONS = ("approve", "reject", "edit_approve", "hide", "restore", "delete", "ignore", "silence")
STATUS_AFTER = {
    "approve": ReviewItem.Status.APPROVED,
    "edit_approve": ReviewItem.Status.APPROVED,
    "restore": ReviewItem.Status.APPROVED,
    "reject": ReviewItem.Status.REJECTED,
    "hide": ReviewItem.Status.REJECTED,
    "delete": ReviewItem.Status.REJECTED,
    "silence": ReviewItem.Status.REJECTED,
    "ignore": ReviewItem.Status.IGNORED,
}


@transaction.atomic
def review_item(*, identity: Identity, item_id: int, version: int, decision: str, reason: str = "",
                body: str | None = None, silence_days: int = 0) -> ReviewItem:
    """A moderator's decision on one queue item, made on the version they saw.

    The row lock serialises two moderators; the version check turns the second into
    a `conflict` that carries the item as it now is.
    """
    item = ReviewItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None or not can_moderate_branch(identity, item.branch_id):
        raise NotFound(_("There is no such item in your review queue."))
    if item.version != version:
        raise Conflict(_("Another moderator has already acted on this item."), details={"item": item.to_dict()})
    if decision not in DECISIONS:
        raise Invalid("decision", _("Unknown decision."))
    reason = reason.strip()[:300]
    if decision in ("reject", "silence") and not reason:
        raise Invalid("reason", _("Please give the author a reason."))
    target = _target(item.target_type)
    before = item.to_dict()
    if decision == "approve":
        target.approve(identity, item.target_id)
    elif decision == "edit_approve":
        if not body or not body.strip():
            raise Invalid("body", _("The text is required."))
        target.edit(identity, item.target_id, body)
        target.approve(identity, item.target_id)
    elif decision in ("reject", "hide", "silence"):
        target.reject(identity, item.target_id, reason)
    elif decision == "restore":
        target.restore(identity, item.target_id)
    elif decision == "delete":
        target.delete(identity, item.target_id, reason)
    if decision == "silence":
        author = target.describe(identity, item.target_id).get("author_user_id")
        if author is None:
            raise Invalid("decision", _("Only members can be silenced."))
        days = max(1, min(int(silence_days or 1), 365))
        Silence.objects.create(branch_id=item.branch_id, user_id=author, reason=reason, created_by_id=identity.user_id,
                               until=timezone.now() + timedelta(days=days))
    item.status = STATUS_AFTER[decision]
    item.version += 1
    item.history = [*item.history, {"at": iso(timezone.now()), "by": identity.key, "name": identity.name,
                                    "decision": decision, "reason": reason}]
    item.save(update_fields=["status", "version", "history", "updated_at"])
    audit(actor=identity, action=f"review.{decision}", target_type=item.target_type, target_id=item.target_id,
          branch_id=item.branch_id, before={"status": before["status"]}, after={"status": item.status, "reason": reason})
    append_event(queue_stream(item.branch_id), "review.updated", item.to_dict(), actor=identity)
    return item


def is_silenced(user_id: int, branch_id: int) -> bool:
    return Silence.objects.filter(user_id=user_id, branch_id=branch_id, until__gt=timezone.now()).exists()


def _target(name: str):
    try:
        return review_target(name)
    except KeyError:
        raise NotFound(_("Unknown kind of content.")) from None


# -- watched words (managed by the branch's moderators) ------------------------------


@transaction.atomic
def add_watched_word(*, identity: Identity, branch_id: int, pattern: str, action: str,
                     case_sensitive: bool = False) -> WatchedWord:
    if not can_moderate_branch(identity, branch_id):
        raise Forbidden(_("Only moderators may manage watched words."))
    if action not in WatchedWord.Action.values:
        raise Invalid("action", _("Choose block, require approval, flag or censor."))
    pattern = pattern.strip()
    try:
        compile_pattern(pattern, case_sensitive=case_sensitive)
    except InvalidPattern as exc:
        raise Invalid("pattern", str(exc)) from None
    if WatchedWord.objects.filter(branch_id=branch_id, pattern=pattern, action=action).exists():
        raise Conflict(_("This word is already on the list with that action."))
    word = WatchedWord.objects.create(branch_id=branch_id, pattern=pattern, action=action,
                                      case_sensitive=case_sensitive, created_by_id=identity.user_id)
    audit(actor=identity, action="watched_word.add", target_type="moderation.watched_word", target_id=word.pk,
          branch_id=branch_id, after=word.to_dict())
    return word


@transaction.atomic
def remove_watched_word(*, identity: Identity, word_id: int) -> None:
    word = WatchedWord.objects.filter(pk=word_id, branch__isnull=False).first()
    if word is None or not can_moderate_branch(identity, word.branch_id):
        raise NotFound(_("There is no such watched word."))
    audit(actor=identity, action="watched_word.remove", target_type="moderation.watched_word", target_id=word.pk,
          branch_id=word.branch_id, before=word.to_dict())
    word.delete()
