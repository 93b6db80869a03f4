"""Every write to announcements goes through here (WebSocket op, HTTP API, demo data)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, Q, When
from django.db.models.functions import Coalesce
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import notifications
from accounts.clock import moment_ahead
from accounts.identity import Identity
from accounts.members import branch_members_changed
from accounts.models import Branch, Membership
from accounts.selectors import branch_chain, branches_below, can_read_branch, role_on_chain
from accounts.streams import inbox_stream
from forum.rendering import render_markdown
from realtime.ephemeral import broadcast
from realtime.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from realtime.events import append_event, take_reserved_pk
from realtime.frames import iso
from realtime.models import ReadMarker
from realtime.scheduler import register_periodic
from realtime.sql import insert_row

from . import attachments as attachments_module
from . import mailing
from .models import Announcement, Attachment, Reading
from .selectors import managed_announcement, not_yet_read, read_counts, read_marker, unread_count

TITLE_MAX = 200
BODY_MAX = 20_000


def stream_for(branch_id: int) -> str:
    return f"announcements:{branch_id}"


def check_post_announcement(identity: Identity, branch_id: int, title: str, body: str) -> tuple[str, str]:
    check_may_post(identity, branch_id)
    return _clean(title, body)


def check_may_post(identity: Identity, branch_id: int) -> None:
    """Secretaries of the branch (or of one above it) post its announcements."""
    if identity.is_user:
        allowed = role_on_chain(identity.user_id, branch_id, [Membership.Role.SECRETARY])
    else:
        allowed = None if branch_chain(branch_id) is None else False
    if allowed is None:
        raise NotFound(_("There is no branch %(id)s.") % {"id": branch_id})
    if not allowed:
        raise Forbidden(_("Only the branch secretary may post announcements."))


def _clean(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title:
        raise Invalid("title", _("A title is required."))
    if len(title) > TITLE_MAX:
        raise Invalid("title", _("The title is at most %(max)d characters.") % {"max": TITLE_MAX})
    if not body:
        raise Invalid("body", _("The text is required."))
    if len(body) > BODY_MAX:
        raise Invalid("body", _("The text is at most %(max)d characters.") % {"max": BODY_MAX})
    return title, body


ALSO_MAX = 100  # branches below one post may go to as well (a committee's branches and groups)


def check_also(branch_id: int, also: list[int]) -> list[Branch]:
    """下发: the branches below `branch_id` that a post there goes to as well, in tree
    order. Whoever may post in a branch may post in every branch below it (its
    secretaries and those above are theirs too), so being below is the whole check."""
    if not also:
        return []
    if len(also) > ALSO_MAX:
        raise Invalid("also", _("An announcement goes to at most %(max)d branches below at once.") % {"max": ALSO_MAX})
    wanted = set(also)
    if len(wanted) != len(also):
        raise Invalid("also", _("The same branch is named twice."))
    below = [branch for branch, _depth in branches_below(branch_id)]
    if wanted - {branch.pk for branch in below}:
        raise Invalid("also", _("An announcement can be sent only to branches below this one."))
    return [branch for branch in below if branch.pk in wanted]


def post_announcement(
    *, identity: Identity, branch_id: int, title: str, body: str, attachments: list[int] = (), also: list[int] = ()
) -> Announcement:
    """`attachments`: ids of files the poster uploaded for it (announcements/attachments.py).
    `also`: branches below this one that get it too (下发), each a copy of its own."""
    # Checked before the write transaction: a refusal leaves any enclosing transaction
    # usable, and the write lock (SQLite) is held only for the writes.
    title, body = check_post_announcement(identity, branch_id, title, body)
    targets = check_also(branch_id, list(also))
    files = attachments_module.waiting_for(identity, branch_id, list(attachments))
    body_html = render_markdown(body)  # before the transaction: no lock is held for it
    # savepoint=False: inside run_once's transaction a failure rolls back everything
    # anyway, so a SAVEPOINT/RELEASE pair would be two statements for nothing.
    with transaction.atomic(savepoint=False):
        return publish(identity, branch_id, title, body, body_html, files, also=targets)


def publish(identity: Identity, branch_id: int, title: str, body: str, body_html: str, files: list[Attachment],
            *, scheduled_id: int | None = None, also: list[Branch] = ()) -> Announcement:
    """Inside a transaction, checked: write the announcement and its event, attach its
    files (held until now by `scheduled_id`, announcements/scheduling.py) and mail it;
    then the same for a copy in each branch of `also`."""
    sent_to = [{"id": branch.pk, "name": branch.name} for branch in also] or None
    announcement = _write_announcement(identity, branch_id, title, body, body_html, files, sent_to=sent_to)
    attachments_module.attach(files, announcement.pk, scheduled_id=scheduled_id)
    mailing.after_post(announcement.pk)  # once committed, to members who want it by e-mail
    if also:
        source = Branch.objects.get(pk=branch_id)
        mailed = [branch_id]
        for branch in also:
            # The files are shared, not copied: new rows naming the same stored files.
            shared = attachments_module.share(files, branch.pk)
            copy = _write_announcement(identity, branch.pk, title, body, body_html, shared, copy_of=announcement,
                                       sent_from=source)
            attachments_module.attach(shared, copy.pk)
            # A member of several of these branches (a branch and its group) gets one mail.
            mailing.after_post(copy.pk, not_in=list(mailed))
            mailed.append(branch.pk)
    return announcement


def _write_announcement(
    identity: Identity, branch_id: int, title: str, body: str, body_html: str, files: list[Attachment], *,
    sent_to: list[dict] | None = None, copy_of: Announcement | None = None, sent_from: Branch | None = None,
) -> Announcement:
    created: list[Announcement] = []

    stream = stream_for(branch_id)

    def payload(seq: int) -> dict:
        # Created once its seq is known, so the row is written once (no UPDATE after).
        fields = dict(branch_id=branch_id, author_id=identity.user_id, title=title, body=body,
                      body_html=body_html, seq=seq)
        fields["created_at"] = timezone.now()
        # Only when set: the common post's statement keeps its columns (and its plan).
        if sent_to:
            fields["sent_to"] = sent_to
        if copy_of is not None:
            fields.update(copy_of_id=copy_of.pk, sent_from_id=sent_from.pk)
        announcement = Announcement(**fields)
        if sent_from is not None:
            announcement.sent_from = sent_from
        if sent_to:
            announcement._sent_to_names = {branch["id"]: branch["name"] for branch in sent_to}  # named this moment
        columns = {name.removesuffix("_id"): value for name, value in fields.items()}
        # In a batch on PostgreSQL its id was drawn with the stream's head, and the row
        # waits for the batch's one flush; otherwise the INSERT returns the id.
        announcement.pk = take_reserved_pk(stream, Announcement)
        if announcement.pk is None:
            announcement.pk = insert_row(Announcement, returning_pk=True, **columns)
        else:
            insert_row(Announcement, hold=True, id=announcement.pk, **columns)
        announcement._state.adding, announcement._state.db = False, "default"
        created.append(announcement)
        announcement.written_attachments = [f.to_dict() for f in files]
        return announcement.to_dict(author_name=identity.name)

    append_event(stream, "announcement.posted", payload, actor=identity, reserve=Announcement)
    return created[0]


@transaction.atomic
def mark_read(*, identity: Identity, branch_id: int, seq: int) -> int:
    """Move the reader's marker forward (never back); returns the marker."""
    if not can_read_branch(identity, branch_id):
        raise Forbidden(_("You are not a member of this branch."))
    if seq < 0:
        raise Invalid("seq", _("seq must not be negative."))
    marker, _created = ReadMarker.objects.select_for_update().get_or_create(
        user_id=identity.user_id, stream=stream_for(branch_id)
    )
    if seq > marker.seq:
        _tell_secretaries(branch_id, seq_after=marker.seq, seq_upto=seq)
        marker.seq = seq
        marker.save(update_fields=["seq", "updated_at"])
        _tell_other_tabs(identity, branch_id, marker.seq)
    return marker.seq


READ_AT_ONCE = 100  # announcements one mark_read may name


@transaction.atomic
def read_announcements(*, identity: Identity, branch_id: int, announcement_ids: list[int]) -> list[int]:
    """已读 one by one: the announcements the reader has seen (on the list page, or opened
    on their own page), without moving the marker past older ones not yet seen.
    Returns the ids read now that were not read before; withdrawn ones are passed over
    (one may be withdrawn while a page still shows it)."""
    if not can_read_branch(identity, branch_id):
        raise Forbidden(_("You are not a member of this branch."))
    ids = list(dict.fromkeys(announcement_ids))
    if not ids:
        raise Invalid("announcements", _("Name at least one announcement."))
    if len(ids) > READ_AT_ONCE:
        raise Invalid("announcements", _("At most %(max)d announcements at once.") % {"max": READ_AT_ONCE})
    rows = {pk: (seq, author_id, withdrawn, family) for pk, seq, author_id, withdrawn, family in
            Announcement.objects.filter(pk__in=ids, branch_id=branch_id).annotate(
                family=Coalesce("copy_of_id", Case(When(sent_to__isnull=False, then="pk")))).values_list(
                "pk", "seq", "author_id", "withdrawn_at", "family")}
    for pk in ids:
        if pk not in rows:
            raise NotFound(_("There is no announcement %(id)s in this branch.") % {"id": pk})
    waiting = _record_reading(identity, branch_id, [pk for pk in ids if rows[pk][1] != identity.user_id
                                                    and rows[pk][2] is None], seqs={pk: rows[pk][0] for pk in ids})
    # 下发: read in one branch is read in the others the reader belongs to (a branch and
    # its group each got a copy of the same notice).
    families = {rows[pk][3] for pk in waiting if rows[pk][3] is not None}
    if families:
        _read_elsewhere(identity, branch_id, families)
    return waiting


def _record_reading(identity: Identity, branch_id: int, ids: list[int], *, seqs: dict[int, int]) -> list[int]:
    """Readings of these announcements of the branch not yet read (by marker or one by
    one), and the reader's other tabs and the secretaries told; the ids read now."""
    read_seq = read_marker(identity, branch_id)
    waiting = [pk for pk in ids if seqs[pk] > read_seq]
    if waiting:
        waiting = sorted(set(waiting) - set(Reading.objects.filter(
            user_id=identity.user_id, announcement_id__in=waiting).values_list("announcement_id", flat=True)))
    if not waiting:
        return []
    Reading.objects.bulk_create([Reading(user_id=identity.user_id, announcement_id=pk) for pk in waiting],
                                ignore_conflicts=True)  # another tab may have read it this moment
    _tell_other_tabs(identity, branch_id, read_seq, announcements=waiting)
    _tell_secretaries(branch_id, announcement_ids=waiting)
    return waiting


def _read_elsewhere(identity: Identity, branch_id: int, families: set[int]) -> None:
    """The same notices (an original and its copies) in the reader's other branches."""
    others = (Announcement.objects.filter(Q(pk__in=families) | Q(copy_of_id__in=families), withdrawn_at__isnull=True)
              .exclude(branch_id=branch_id).exclude(author_id=identity.user_id).values_list("branch_id", "pk", "seq"))
    by_branch: dict[int, dict[int, int]] = {}
    for other_branch, pk, seq in others:
        by_branch.setdefault(other_branch, {})[pk] = seq
    member_of = set(Membership.objects.filter(user_id=identity.user_id, branch_id__in=list(by_branch))
                    .values_list("branch_id", flat=True))  # its readers: not the secretaries above
    for other_branch, seqs in sorted(by_branch.items()):
        if other_branch in member_of:
            _record_reading(identity, other_branch, list(seqs), seqs=seqs)


def _tell_other_tabs(identity: Identity, branch_id: int, read_seq: int, *, announcements: list[int] = ()) -> None:
    """Other tabs and devices of the same reader update their unread counts."""
    data = {"branch": branch_id, "read_seq": read_seq,
            "unread": unread_count(identity, branch_id, read_seq=read_seq)}
    if announcements:
        data["announcements"] = list(announcements)
    append_event(inbox_stream(identity.user_id), "announcements.read", data, actor=identity)


def receipts_stream(branch_id: int) -> str:
    return f"receipts:{branch_id}"


RECEIPTS_AT_ONCE = 100


def _tell_secretaries(branch_id: int, *, announcement_ids: list[int] = (), seq_after: int = 0,
                      seq_upto: int = 0) -> None:
    """Once committed, the branch's secretaries with the list open see the read counts of
    these announcements (or of those with seq in (seq_after, seq_upto]) move: an
    ephemeral `receipts` frame on `receipts:<branch>`, which only they may follow."""

    def send() -> None:
        items = Announcement.objects.filter(branch_id=branch_id, withdrawn_at__isnull=True)
        if announcement_ids:
            items = items.filter(pk__in=list(announcement_ids))
        else:
            items = items.filter(seq__gt=seq_after, seq__lte=seq_upto).order_by("-seq")[:RECEIPTS_AT_ONCE]
        items = list(items.only("pk", "seq", "author_id", "sent_to", "copy_of_id"))
        if items:
            counts = read_counts(items)
            broadcast(receipts_stream(branch_id), {"op": "receipts", "counts": {str(pk): c for pk, c in counts.items()}})
        # 下发: an original's count adds up its copies', on its own branch's list.
        copied = {a.copy_of_id for a in items if a.copy_of_id}
        originals = list(Announcement.objects.filter(pk__in=copied, withdrawn_at__isnull=True).only(
            "pk", "seq", "author_id", "sent_to", "branch_id")) if copied else []
        counts = read_counts(originals)
        for original in originals:
            broadcast(receipts_stream(original.branch_id), {"op": "receipts", "counts": {
                str(original.pk): counts[original.pk]}})

    # robust: the reading is committed; should the counts fail, that is logged, and the
    # reader still gets their answer (the secretary's list catches up when refreshed).
    transaction.on_commit(send, robust=True)


@receiver(branch_members_changed)
def _members_changed(sender, branch_id: int, **kwargs) -> None:
    """Someone joined or left the branch: the number who should read each announcement
    (`of`) changed, so the secretaries with the list open get the newest ones' counts."""
    _tell_secretaries(branch_id, seq_after=0, seq_upto=2**62)


REMIND_EVERY = timedelta(minutes=30)


@transaction.atomic
def remind_unread(*, identity: Identity, announcement_id: int) -> dict:
    """提醒未读: the secretary reminds those who have not read the announcement yet. Each
    gets a notification (the bell, the desktop) and, if they take announcements by
    e-mail, a mail. At most once every REMIND_EVERY per announcement."""
    a = managed_announcement(identity, announcement_id, for_update=True,
                             refusal=_("Only the branch secretary may remind members to read an announcement."))
    now = timezone.now()
    if a.reminded_at is not None and now < a.reminded_at + REMIND_EVERY:
        zone = Branch.objects.get(pk=a.branch_id).zone
        again = a.reminded_at + REMIND_EVERY
        wait = int((again - now).total_seconds()) + 1
        raise RateLimited(
            _("Those who had not read it were reminded at %(time)s. You can remind them again from %(next)s.") % {
                "time": a.reminded_at.astimezone(zone).strftime("%H:%M"),
                "next": again.astimezone(zone).strftime("%H:%M")},
            details={"retry_after": wait},
        )
    waiting = not_yet_read(a)
    if not waiting:
        raise Conflict(_("Everyone has read it: there is nobody to remind."))
    # 下发: for an original, those who have not read it in the branches below too, each
    # sent to the copy in their own branch.
    to_mail: dict[int, list[int]] = {}
    by = {"id": identity.user_id, "name": identity.name}
    for person in waiting:
        pk, branch_id = person.get("announcement", a.pk), person.get("branch", a.branch_id)
        notifications.send([person["id"]], "announcement.reminder",
                           {"announcement": pk, "branch": branch_id, "title": a.title, "by": by}, actor=identity)
        to_mail.setdefault(pk, []).append(person["id"])
    a.reminded_at = now
    a.save(update_fields=["reminded_at"])
    for pk, user_ids in to_mail.items():
        mailing.after_reminder(pk, user_ids)
    _audit(identity, a, "remind", before=None, after={"title": a.title, "reminded": len(waiting)})
    return {"announcement": a.pk, "reminded": len(waiting), "reminded_at": iso(now)}


# -- corrections: edit and withdraw (撤回) -------------------------------------------------


def check_may_change(identity: Identity, announcement: Announcement) -> None:
    """A copy sent from a branch above (下发) says what that branch wrote: only the
    secretaries of that branch (or above it) correct or withdraw it. The branch's own
    secretaries still pin it and remind its readers."""
    if announcement.sent_from_id is not None and not role_on_chain(
            identity.user_id, announcement.sent_from_id, [Membership.Role.SECRETARY]):
        raise Forbidden(_("This announcement was sent from %(name)s: only its secretaries may correct or withdraw "
                          "it.") % {"name": announcement.sent_from.name})


@transaction.atomic
def edit_announcement(
    *, identity: Identity, announcement_id: int, title: str, body: str, attachments: list[int] | None = None
) -> Announcement:
    """Correct an announcement's title and text, and with `attachments` its files: the
    ids it keeps plus new uploads of the editor's (None keeps them as they are). Readers'
    pages update in place; the unread counts do not change (an edit is not a new
    announcement). A file taken off is deleted. The copies it was sent below with (下发)
    are corrected the same way, each on its own branch's stream."""
    announcement = managed_announcement(identity, announcement_id, for_update=True)
    check_may_change(identity, announcement)
    title, body = _clean(title, body)
    current = list(announcement.attachments.all())
    wanted = [f.pk for f in current] if attachments is None else list(attachments)
    removed = [f for f in current if f.pk not in wanted]
    added = attachments_module.waiting_for(
        identity, announcement.branch_id, [pk for pk in wanted if pk not in {f.pk for f in current}],
        already=len(current) - len(removed))
    if (title, body) == (announcement.title, announcement.body) and not removed and not added:
        return announcement  # nothing to correct: no event, no audit entry
    body_html = render_markdown(body)
    _correct(identity, announcement, title, body, body_html, current, removed, added)
    gone = {f.file.name for f in removed}
    for copy in _live_copies(announcement):
        copy_files = list(copy.attachments.all())
        shared = attachments_module.share(added, copy.branch_id)
        _correct(identity, copy, title, body, body_html, copy_files, [f for f in copy_files if f.file.name in gone],
                 shared)
    return announcement


def _live_copies(original: Announcement) -> list[Announcement]:
    """下发: the copies of `original` still up in the branches below, locked."""
    if not original.sent_to:
        return []
    return list(Announcement.objects.select_for_update(of=("self",)).select_related("author", "sent_from")
                .filter(copy_of=original, withdrawn_at__isnull=True).order_by("id"))


def _correct(identity: Identity, announcement: Announcement, title: str, body: str, body_html: str,
             current: list[Attachment], removed: list[Attachment], added: list[Attachment]) -> None:
    before = {"title": announcement.title, "body": announcement.body}
    announcement.title, announcement.body, announcement.edited_at = title, body, timezone.now()
    announcement.body_html = body_html
    announcement.save(update_fields=["title", "body", "body_html", "edited_at"])
    attachments_module.detach(removed)
    attachments_module.attach(added, announcement.pk)
    files = sorted([f for f in current if f not in removed] + added, key=lambda f: f.pk)
    announcement.written_attachments = [f.to_dict() for f in files]
    append_event(stream_for(announcement.branch_id), "announcement.edited", announcement.to_dict(), actor=identity)
    after = {"title": title, "body": body}
    if removed or added:  # the files' names, before and after
        before["attachments"], after["attachments"] = [f.name for f in current], [f.name for f in files]
    _audit(identity, announcement, "edit", before=before, after=after)


@transaction.atomic
def withdraw_announcement(*, identity: Identity, announcement_id: int) -> Announcement:
    """Withdraw (撤回) an announcement: gone from every page and unread count; kept,
    with who withdrew it, in the audit log. Its copies in the branches below (下发) go
    with it."""
    announcement = managed_announcement(identity, announcement_id, for_update=True)
    check_may_change(identity, announcement)
    for withdrawn in [announcement, *_live_copies(announcement)]:
        withdrawn.withdrawn_at = timezone.now()
        withdrawn.save(update_fields=["withdrawn_at"])
        append_event(
            stream_for(withdrawn.branch_id),
            "announcement.withdrawn",
            # seq and author: enough for every reader to correct their own unread count.
            {"id": withdrawn.pk, "seq": withdrawn.seq, "author": {"id": withdrawn.author_id},
             "by": {"id": identity.user_id, "name": identity.name}},
            actor=identity,
        )
        _audit(identity, withdrawn, "withdraw", before={"title": withdrawn.title}, after=None)
    return announcement


PIN_MAX = 3  # pinned at once in a branch: more would push the news off the screen


@transaction.atomic
def pin_announcement(*, identity: Identity, announcement_id: int, pinned: bool, until: str | None = None) -> Announcement:
    """置顶 (or not): a pinned announcement is listed above the others, latest pinned first.
    Readers' pages reorder in place; unread counts do not change. `until` (置顶至): a
    time, on the branch's clock without an offset, when it is unpinned by itself; an
    announcement already pinned gets the new time (or none)."""
    announcement = managed_announcement(identity, announcement_id, for_update=True)
    ends = _pin_until(announcement.branch_id, until) if pinned and until else None
    if pinned and announcement.pinned_at is not None and ends != announcement.pinned_until:
        announcement.pinned_until = ends  # pinned already: only how long changes
        announcement.save(update_fields=["pinned_until"])
        append_event(stream_for(announcement.branch_id), "announcement.pinned", announcement.to_dict(), actor=identity)
        _audit(identity, announcement, "pin", before=None, after={"title": announcement.title, "until": until})
        return announcement
    if pinned == (announcement.pinned_at is not None):
        return announcement  # already so: no event, no audit entry
    if pinned:
        # The branch's row is the lock that makes "at most PIN_MAX" hold under concurrent pins.
        Branch.objects.select_for_update().filter(pk=announcement.branch_id).first()
        count = Announcement.objects.filter(branch_id=announcement.branch_id, pinned_at__isnull=False,
                                            withdrawn_at__isnull=True).count()
        if count >= PIN_MAX:
            raise Conflict(_("At most %(max)d announcements can be pinned. Unpin one first.") % {"max": PIN_MAX})
    announcement.pinned_at = timezone.now() if pinned else None
    announcement.pinned_until = ends
    announcement.save(update_fields=["pinned_at", "pinned_until"])
    append_event(stream_for(announcement.branch_id), "announcement.pinned", announcement.to_dict(), actor=identity)
    after = {"title": announcement.title, **({"until": until} if ends else {})}
    _audit(identity, announcement, "pin" if pinned else "unpin", before=None, after=after)
    return announcement


PIN_AHEAD_MAX = timedelta(days=366)


def _pin_until(branch_id: int, value: str) -> datetime:
    """置顶至: ISO 8601; without an offset, on the branch's clock; later than now, and
    within a year."""
    return moment_ahead(
        branch_id, value, field="until", latest=PIN_AHEAD_MAX,
        unreadable=_("Give the time to unpin it as a date and time, e.g. 2026-12-31T18:00."),
        passed=_("That time has passed. Choose a later one, or pin it without an end."),
        too_far=_("At most a year ahead."))


@register_periodic("announcements.unpin_due", every_seconds=30)
def unpin_due(now: datetime | None = None) -> int:
    """置顶至: unpin what was pinned until a time now past, live on every open page. As
    publish_due: what is due is found first (no transaction, no write lock, on the
    partial index), then each in its own transaction under its row's lock, checked again,
    so a process that got there first leaves nothing to do."""
    now = now or timezone.now()
    due = list(Announcement.objects.filter(pinned_until__lte=now, pinned_at__isnull=False)
               .values_list("pk", flat=True)[:100])
    done = 0
    for pk in due:
        with transaction.atomic():
            announcement = (Announcement.objects.select_for_update(of=("self",)).select_related("author", "sent_from")
                            .filter(pk=pk, pinned_until__lte=now, pinned_at__isnull=False).first())
            if announcement is None:
                continue
            announcement.pinned_at = announcement.pinned_until = None
            announcement.save(update_fields=["pinned_at", "pinned_until"])
            append_event(stream_for(announcement.branch_id), "announcement.pinned", announcement.to_dict())
            done += 1
    return done


def _audit(identity: Identity, announcement: Announcement, action: str, *, before: dict | None,
           after: dict | None) -> None:
    from moderation.actions import audit

    audit(actor=identity, action=f"announcement.{action}", target_type="announcements.announcement",
          target_id=announcement.pk, branch_id=announcement.branch_id, before=before, after=after)
