"""定时发布: an announcement written now and published later, at a time the secretary
chose in the branch's time zone (the notice for Monday morning, written on Friday).

Until it is published only the branch's secretaries (and those above) see it: on the
announcements page, live (`scheduled:<branch>`, ephemeral frames holding the whole
list), and through `announcements.scheduled`. They may change it, publish it at once
or cancel it. When its time comes, the periodic job below publishes it as its author
would have posted it then: the same write, event, mail and unread count as any post.

If the author may no longer post to the branch by then (no longer its secretary, the
account closed), it is not published: it is marked failed with the reason, the author
gets a notification, and the secretaries see it in their list, where they may publish
it themselves or cancel it. Files uploaded for it are held by it (not removed as
unattached uploads), and deleted with it when it is cancelled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import notifications
from accounts.clock import moment_ahead
from accounts.identity import Identity, identity_for_user
from accounts.models import Branch
from accounts.selectors import can_manage_branch, can_read_branch
from forum.rendering import render_markdown
from realtime.ephemeral import broadcast
from realtime.errors import Conflict, Forbidden, NotFound, OpError
from realtime.frames import iso
from realtime.scheduler import register_periodic

from . import actions
from . import attachments as attachments_module
from .models import Announcement, ScheduledAnnouncement

Status = ScheduledAnnouncement.Status
OPEN = (Status.SCHEDULED, Status.FAILED)  # listed, and may still be changed or published
AHEAD_MAX = timedelta(days=90)
WAITING_MAX = 20  # open at once in a branch
DUE_EVERY_SECONDS = 10  # how often each server process looks for what is due


def stream_for(branch_id: int) -> str:
    return f"scheduled:{branch_id}"


def to_dict(s: ScheduledAnnouncement, *, files: list | None = None) -> dict:
    author = s.author
    return {
        "id": s.pk,
        "branch": s.branch_id,
        "title": s.title,
        "body": s.body,
        "author": {"id": s.author_id, "name": author.get_full_name() or author.get_username()},
        "publish_at": iso(s.publish_at),
        "status": s.status,
        "problem": s.problem,
        "announcement": s.announcement_id,
        "attachments": [f.to_dict() for f in (s.attachments.all() if files is None else files)],
        "also": s.also_branches(),
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }


# -- reading ------------------------------------------------------------------------------


def _check_manages(identity: Identity, branch_id: int) -> None:
    if not can_read_branch(identity, branch_id):
        raise NotFound(_("There is no branch %(id)s.") % {"id": branch_id})
    if not can_manage_branch(identity, branch_id):
        raise Forbidden(_("Only the branch secretary may see announcements scheduled for later."))


def open_ones(branch_id: int) -> list[ScheduledAnnouncement]:
    return list(ScheduledAnnouncement.objects.filter(branch_id=branch_id, status__in=OPEN)
                .select_related("author").prefetch_related("attachments").order_by("publish_at", "id"))


def scheduled_for(identity: Identity, branch_id: int) -> list[dict]:
    """The branch's announcements waiting to be published (and those that failed), the
    soonest first: for its secretaries."""
    _check_manages(identity, branch_id)
    return [to_dict(s) for s in open_ones(branch_id)]


def _managed(identity: Identity, scheduled_id: int) -> ScheduledAnnouncement:
    """Locked, for a secretary of its branch; others are told it does not exist."""
    s = (ScheduledAnnouncement.objects.select_for_update(of=("self",)).select_related("author")
         .filter(pk=scheduled_id).first())
    if s is None or not can_manage_branch(identity, s.branch_id):
        raise NotFound(_("There is no scheduled announcement %(id)s.") % {"id": scheduled_id})
    if s.status == Status.PUBLISHED:
        raise Conflict(_("It has already been published."))
    if s.status == Status.CANCELLED:
        raise Conflict(_("It has been cancelled."))
    return s


# -- when -----------------------------------------------------------------------------------


def when(branch_id: int, value: str) -> datetime:
    """`value`: ISO 8601; without an offset it is a time on the branch's clock. It must
    be later than now and at most AHEAD_MAX ahead."""
    return moment_ahead(
        branch_id, value, field="publish_at", latest=AHEAD_MAX,
        unreadable=_("Give the time to publish as a date and time, e.g. 2026-12-07T08:00."),
        passed=_("That time has passed. Choose a later one, or publish now."),
        too_far=_("At most %(days)d days ahead.") % {"days": AHEAD_MAX.days})


# -- writing --------------------------------------------------------------------------------


def schedule_announcement(*, identity: Identity, branch_id: int, title: str, body: str, publish_at: str,
                          attachments: list[int] = (), also: list[int] = ()) -> ScheduledAnnouncement:
    """Keep an announcement to be published at `publish_at` (secretaries); `also`: the
    branches below that get it too (下发), checked again when it is published."""
    title, body = actions.check_post_announcement(identity, branch_id, title, body)
    targets = actions.check_also(branch_id, list(also))
    moment = when(branch_id, publish_at)
    files = attachments_module.waiting_for(identity, branch_id, list(attachments))
    with transaction.atomic():
        # The branch's row is the lock that makes "at most WAITING_MAX" hold.
        Branch.objects.select_for_update().filter(pk=branch_id).first()
        if ScheduledAnnouncement.objects.filter(branch_id=branch_id, status__in=OPEN).count() >= WAITING_MAX:
            raise Conflict(_("At most %(max)d announcements can wait to be published. Publish or cancel one "
                             "first.") % {"max": WAITING_MAX})
        s = ScheduledAnnouncement.objects.create(branch_id=branch_id, author_id=identity.user_id, title=title,
                                                 body=body, publish_at=moment, also=[b.pk for b in targets])
        attachments_module.hold(files, s.pk)
        _audit(identity, s, "schedule", before=None, after={"title": title, "publish_at": iso(moment)})
        _tell_secretaries(branch_id)
    return s


@transaction.atomic
def change_scheduled(*, identity: Identity, scheduled_id: int, title: str, body: str, publish_at: str,
                     attachments: list[int] | None = None, also: list[int] | None = None) -> ScheduledAnnouncement:
    """Change what will be published and when; `attachments`, as for a correction: the
    ids it keeps plus new uploads (None keeps them); `also`: the branches below it goes
    to as well, all of them (None keeps them, [] sends it to none). One that failed is
    scheduled again."""
    s = _managed(identity, scheduled_id)
    title, body = actions.check_post_announcement(identity, s.branch_id, title, body)
    targets = s.also if also is None else [b.pk for b in actions.check_also(s.branch_id, list(also))]
    moment = when(s.branch_id, publish_at)
    current = list(s.attachments.all())
    wanted = [f.pk for f in current] if attachments is None else list(attachments)
    kept = [f for f in current if f.pk in wanted]
    removed = [f for f in current if f.pk not in wanted]
    added = attachments_module.waiting_for(
        identity, s.branch_id, [pk for pk in wanted if pk not in {f.pk for f in current}], already=len(kept))
    before = {"title": s.title, "body": s.body, "publish_at": iso(s.publish_at)}
    after = {"title": title, "body": body, "publish_at": iso(moment)}
    if targets != s.also:
        before["also"], after["also"] = s.also, targets
    s.title, s.body, s.publish_at, s.also, s.status, s.problem = title, body, moment, targets, Status.SCHEDULED, ""
    s.save(update_fields=["title", "body", "publish_at", "also", "status", "problem", "updated_at"])
    attachments_module.detach(removed)
    attachments_module.hold(added, s.pk)
    _audit(identity, s, "reschedule", before=before, after=after)
    _tell_secretaries(s.branch_id)
    return s


@transaction.atomic
def cancel_scheduled(*, identity: Identity, scheduled_id: int) -> ScheduledAnnouncement:
    """It will not be published; its files are deleted."""
    s = _managed(identity, scheduled_id)
    s.status = Status.CANCELLED
    s.save(update_fields=["status", "updated_at"])
    attachments_module.detach(list(s.attachments.all()))
    _audit(identity, s, "unschedule", before={"title": s.title, "publish_at": iso(s.publish_at)}, after=None)
    _tell_secretaries(s.branch_id)
    return s


@transaction.atomic
def publish_now(*, identity: Identity, scheduled_id: int) -> Announcement:
    """Publish it at once, posted by the secretary who asked (who may not be its author:
    the author may since have left the post)."""
    s = _managed(identity, scheduled_id)
    return _publish(s, identity)


def _publish(s: ScheduledAnnouncement, identity: Identity) -> Announcement:
    actions.check_may_post(identity, s.branch_id)
    targets = actions.check_also(s.branch_id, s.also)  # a branch moved meanwhile fails it, with why
    files = list(s.attachments.all())
    announcement = actions.publish(identity, s.branch_id, s.title, s.body, render_markdown(s.body), files,
                                   scheduled_id=s.pk, also=targets)
    s.status, s.announcement, s.problem = Status.PUBLISHED, announcement, ""
    s.save(update_fields=["status", "announcement", "problem", "updated_at"])
    _tell_secretaries(s.branch_id)
    return announcement


@register_periodic("announcements.scheduled", every_seconds=DUE_EVERY_SECONDS)
def publish_due(now: datetime | None = None) -> int:
    """Publish what is due, each as its author; returns how many were published. Each in
    its own transaction, under its row's lock: another process that got there first
    leaves nothing to do (the status is no longer `scheduled`)."""
    now = now or timezone.now()
    due = list(ScheduledAnnouncement.objects.filter(status=Status.SCHEDULED, publish_at__lte=now)
               .order_by("publish_at", "id").values_list("pk", flat=True)[:50])
    published = 0
    users = get_user_model().objects
    for pk in due:
        with transaction.atomic():
            s = (ScheduledAnnouncement.objects.select_for_update(of=("self",)).select_related("author")
                 .filter(pk=pk, status=Status.SCHEDULED).first())
            if s is None:
                continue
            author = identity_for_user(users.filter(pk=s.author_id).first())
            try:
                with transaction.atomic():
                    _publish(s, author)
                published += 1
            except OpError as exc:  # refused: the author may no longer post here
                _fail(s, exc.message)
    return published


def _fail(s: ScheduledAnnouncement, problem: str) -> None:
    s.status, s.problem = Status.FAILED, problem[:300]
    s.save(update_fields=["status", "problem", "updated_at"])
    notifications.send([s.author_id], "announcement.schedule_failed",
                       {"scheduled": s.pk, "branch": s.branch_id, "title": s.title, "problem": s.problem})
    _tell_secretaries(s.branch_id)


def _tell_secretaries(branch_id: int) -> None:
    """Once committed, the branch's secretaries with the page open get the whole list."""

    def send() -> None:
        items = [to_dict(s) for s in open_ones(branch_id)]
        broadcast(stream_for(branch_id), {"op": "scheduled", "branch": branch_id, "scheduled": items})

    transaction.on_commit(send, robust=True)


def _audit(identity: Identity, s: ScheduledAnnouncement, action: str, *, before: dict | None,
           after: dict | None) -> None:
    from moderation.actions import audit

    audit(actor=identity, action=f"announcement.{action}", target_type="announcements.scheduled",
          target_id=s.pk, branch_id=s.branch_id, before=before, after=after)
