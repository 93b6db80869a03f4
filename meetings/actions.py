"""Every write to meetings goes through here (WebSocket ops, HTTP API, presence, demo data).

Each action checks permission, validates, writes rows and appends events to the
meeting's stream (`meeting:<id>`, the transcript) and, for notices, to members'
`inbox:<user>` streams, in one transaction; the events go out on commit.

Secret ballots: `cast_vote` and `enter_written_opinion` write the participation and
the sealed tally (sealing.py) in the same transaction but never anything that links
them: no actor on the event, no choice in the reply or the audit log, no log line, and
no stored version of the counts readable without the server's key.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import notifications
from accounts.identity import Identity
from accounts.models import Branch, Membership
from accounts.selectors import ancestor_ids, can_manage_branch, can_read_branch
from moderation.actions import audit, enqueue_for_review, is_silenced, scan_text
from realtime.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from realtime.events import append_event
from realtime.frames import iso
from realtime.scheduler import register_periodic

from . import quorum as rules
from . import room, sealing, selectors
from .attendance import RECONNECT_GRACE
from .models import (
    AgendaItem,
    AttendanceInterval,
    ChatMessage,
    Exclusion,
    LeaveRequest,
    Meeting,
    MinutesSignature,
    OpenBallot,
    PaperCount,
    Participant,
    Remark,
    Reminder,
    RollEntry,
    SealedTally,
    Vote,
    VoteOption,
    VoteParticipation,
    person,
)

log = logging.getLogger(__name__)

TITLE_MAX = 200
CHAT_MAX = 2000
REMARK_MAX = 10_000
REASON_MAX = 500
AGENDA_MAX = 50
CANDIDATES_MAX = 50
REACTIONS = ("👍", "👏", "❤️", "😄", "🤔", "🙋")
MOTION_OPTIONS = (("yes", "赞成"), ("no", "反对"), ("abstain", "弃权"))
# What members are told about in their inbox when it changes.
NOTIFY_FIELDS = ("title", "starts_at", "ends_at", "place", "online", "chair")


def meeting_stream(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


# -- small helpers -----------------------------------------------------------------------------


def _require_user(identity: Identity) -> None:
    if not identity.is_user:
        raise Unauthenticated(_("Please log in first."))


def _user(user_id: int):
    return get_user_model().objects.get(pk=user_id)


def _me(identity: Identity) -> dict:
    return {"id": identity.user_id, "name": identity.name}


def _publish(meeting: Meeting, type_: str, data: dict, *, actor: Identity | None = None) -> None:
    append_event(meeting_stream(meeting.pk), type_, data, actor=actor)


def _notify(user_ids, type_: str, data: dict) -> None:
    notifications.send(user_ids, type_, data)


def _meeting(identity: Identity, meeting_id: int) -> Meeting:
    """The meeting, row-locked for the rest of the action (serialises controls on one meeting)."""
    _require_user(identity)
    return selectors.meeting_for(identity, meeting_id, for_update=True)


def _require_host(identity: Identity, meeting: Meeting) -> None:
    if not selectors.is_host(identity, meeting):
        raise Forbidden(_("Only the chair and the branch secretary may do this."))


def _require_manager(identity: Identity, meeting: Meeting) -> None:
    if not selectors.can_manage(identity, meeting):
        raise Forbidden(_("Only the branch secretary may do this."))


def _require_not_over(meeting: Meeting) -> None:
    if meeting.status in (Meeting.Status.ENDED, Meeting.Status.CANCELLED):
        raise Conflict(_("This meeting is over."))


def _require_live(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.LIVE:
        raise Conflict(_("This can only be done while the meeting is in session."))


def _require_participant(identity: Identity, meeting: Meeting) -> Participant:
    if not meeting.is_running:
        raise Conflict(_("This meeting is not in session."))
    p = selectors.participant(meeting, identity.user_id)
    if p is None or p.state != Participant.State.ADMITTED:
        raise Forbidden(_("Join the meeting first."))
    return p


def _text(field: str, value: str, *, maximum: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(field, _("This field is required."))
    if len(value) > maximum:
        raise Invalid(field, _("At most %(max)d characters.") % {"max": maximum})
    return value


def parse_time(field: str, value: str | datetime, zone) -> datetime:
    """ISO 8601; a time without an offset is read in the branch's time zone."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise Invalid(field, _("Give a date and time like 2026-11-28T09:00."))
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid("ends_at", _("The meeting must end after it starts."))
    if ends_at - starts_at > timedelta(hours=24):
        raise Invalid("ends_at", _("A meeting lasts at most 24 hours."))


def _check_person(field: str, branch: Branch, user_id: int | None) -> int | None:
    """A chair or minute-taker must be a party member of the branch or a secretary above it."""
    if user_id is None:
        return None
    ok = Membership.objects.filter(user_id=user_id, branch=branch, role__in=selectors.PARTY_ROLES).exists()
    if not ok:
        parents = ancestor_ids(branch.pk)
        ok = bool(parents) and Membership.objects.filter(
            user_id=user_id, branch_id__in=parents, role=Membership.Role.SECRETARY
        ).exists()
    if not ok:
        raise Invalid(field, _("Choose a member of this branch."))
    return user_id


def _expected_ids(meeting: Meeting) -> list[int]:
    return list(selectors.roll_for(meeting).expected)


def _audit(identity: Identity, meeting: Meeting, action: str, **after) -> None:
    audit(actor=identity, action=f"meeting.{action}", target_type="meetings.meeting", target_id=meeting.pk,
          branch_id=meeting.branch_id, after=after or None)


# -- scheduling --------------------------------------------------------------------------------


@transaction.atomic
def schedule_meeting(
    *,
    identity: Identity,
    branch_id: int,
    kind: str,
    title: str,
    starts_at: str | datetime,
    ends_at: str | datetime,
    chair_id: int,
    minute_taker_id: int | None = None,
    description: str = "",
    place: str = "",
    online: bool = True,
    agenda: list[str] | tuple[str, ...] = (),
    lobby_policy: str = Meeting.LobbyPolicy.INVITED,
    late_grace_minutes: int = 5,
) -> Meeting:
    _require_user(identity)
    branch = Branch.objects.filter(pk=branch_id).first()
    if branch is None or not can_read_branch(identity, branch_id):
        raise NotFound(_("There is no branch %(id)s.") % {"id": branch_id})
    if not can_manage_branch(identity, branch_id):
        raise Forbidden(_("Only the branch secretary may schedule meetings."))
    if kind not in Meeting.Kind.values:
        raise Invalid("kind", _("Choose a kind of meeting."))
    if kind == Meeting.Kind.GROUP and branch.kind != Branch.Kind.GROUP:
        raise Invalid("kind", _("A group meeting is held by a party group."))
    if lobby_policy not in Meeting.LobbyPolicy.values:
        raise Invalid("lobby_policy", _("Choose a lobby policy."))
    if not 0 <= late_grace_minutes <= 60:
        raise Invalid("late_grace_minutes", _("Between 0 and 60 minutes."))
    title = _text("title", title, maximum=TITLE_MAX)
    description = _text("description", description, maximum=5000, required=False)
    place = _text("place", place, maximum=200, required=False)
    start = parse_time("starts_at", starts_at, branch.zone)
    end = parse_time("ends_at", ends_at, branch.zone)
    _check_times(start, end)
    _check_person("chair", branch, chair_id)
    _check_person("minute_taker", branch, minute_taker_id)
    items = [_text("agenda", item, maximum=TITLE_MAX) for item in agenda]
    if len(items) > AGENDA_MAX:
        raise Invalid("agenda", _("At most %(max)d agenda items.") % {"max": AGENDA_MAX})
    meeting = Meeting.objects.create(
        branch=branch, kind=kind, title=title, description=description, place=place, online=online,
        starts_at=start, ends_at=end, chair_id=chair_id, minute_taker_id=minute_taker_id,
        lobby_policy=lobby_policy, late_grace_minutes=late_grace_minutes, created_by_id=identity.user_id,
    )
    AgendaItem.objects.bulk_create(
        [AgendaItem(meeting=meeting, position=i + 1, title=item) for i, item in enumerate(items)]
    )
    meeting = Meeting.objects.select_related("branch", "chair", "minute_taker").get(pk=meeting.pk)
    data = {"meeting": meeting.to_dict()}
    _publish(meeting, "meeting.scheduled", data, actor=identity)
    _notify(_expected_ids(meeting), "meeting.scheduled", data)
    return meeting


UPDATABLE = ("title", "description", "place", "online", "starts_at", "ends_at", "chair", "minute_taker",
             "lobby_policy", "late_grace_minutes")


@transaction.atomic
def update_meeting(*, identity: Identity, meeting_id: int, **changes) -> Meeting:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    _require_not_over(meeting)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise Invalid(sorted(unknown)[0], _("This cannot be changed."))
    zone = meeting.branch.zone
    changed: list[str] = []

    def put(field: str, value) -> None:
        attr = field + "_id" if field in ("chair", "minute_taker") else field
        if getattr(meeting, attr) != value:
            setattr(meeting, attr, value)
            changed.append(field)

    for field, value in changes.items():
        if field == "title":
            put(field, _text(field, value, maximum=TITLE_MAX))
        elif field in ("description", "place"):
            put(field, _text(field, value, maximum=5000 if field == "description" else 200, required=False))
        elif field == "online":
            put(field, bool(value))
        elif field in ("starts_at", "ends_at"):
            put(field, parse_time(field, value, zone))
        elif field == "chair":
            put(field, _check_person(field, meeting.branch, value))
        elif field == "minute_taker":
            put(field, _check_person(field, meeting.branch, value))
        elif field == "lobby_policy":
            if value not in Meeting.LobbyPolicy.values:
                raise Invalid(field, _("Choose a lobby policy."))
            put(field, value)
        elif field == "late_grace_minutes":
            if not isinstance(value, int) or not 0 <= value <= 60:
                raise Invalid(field, _("Between 0 and 60 minutes."))
            put(field, value)
    if meeting.chair_id is None:
        raise Invalid("chair", _("A meeting needs a chair."))
    _check_times(meeting.starts_at, meeting.ends_at)
    if not changed:
        return meeting
    meeting.save()
    meeting = Meeting.objects.select_related("branch", "chair", "minute_taker").get(pk=meeting.pk)
    data = {"meeting": meeting.to_dict(), "changes": changed}
    _publish(meeting, "meeting.updated", data, actor=identity)
    if set(changed) & set(NOTIFY_FIELDS):
        _notify(_expected_ids(meeting), "meeting.changed", data)
    return meeting


@transaction.atomic
def cancel_meeting(*, identity: Identity, meeting_id: int, reason: str = "") -> Meeting:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    if meeting.status not in (Meeting.Status.SCHEDULED, Meeting.Status.OPEN):
        raise Conflict(_("Only a meeting that has not started can be cancelled."))
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancel_reason = _text("reason", reason, maximum=REASON_MAX, required=False)
    meeting.save(update_fields=["status", "cancel_reason", "updated_at"])
    _close_intervals(meeting, timezone.now(), AttendanceInterval.EndReason.ENDED, publish=False)
    data = {"meeting": meeting.to_dict()}
    _publish(meeting, "meeting.cancelled", data, actor=identity)
    _notify(_expected_ids(meeting), "meeting.cancelled", data)
    _audit(identity, meeting, "cancel", reason=meeting.cancel_reason)
    return meeting


@transaction.atomic
def set_agenda(*, identity: Identity, meeting_id: int, items: list[dict]) -> list[AgendaItem]:
    meeting = _meeting(identity, meeting_id)
    if not (selectors.is_host(identity, meeting) or selectors.is_minute_taker(identity, meeting)):
        raise Forbidden(_("Only the chair, the minute-taker and the branch secretary may edit the agenda."))
    _require_not_over(meeting)
    if not 1 <= len(items) <= AGENDA_MAX:
        raise Invalid("items", _("Between 1 and %(max)d agenda items.") % {"max": AGENDA_MAX})
    existing = {item.pk: item for item in meeting.agenda.all()}
    seen: set[int] = set()
    cleaned = []
    for entry in items:
        item_id = entry.get("id")
        if item_id is not None and (item_id not in existing or item_id in seen):
            raise Invalid("items", _("Unknown agenda item %(id)s.") % {"id": item_id})
        if item_id is not None:
            seen.add(item_id)
        cleaned.append((item_id, _text("title", entry.get("title", ""), maximum=TITLE_MAX),
                        _text("notes", entry.get("notes", ""), maximum=5000, required=False)))
    removed = [pk for pk in existing if pk not in seen]
    if meeting.current_item_id in removed:
        meeting.current_item = None
        meeting.save(update_fields=["current_item", "updated_at"])
    AgendaItem.objects.filter(pk__in=removed).delete()
    # Positions are unique per meeting: move the kept ones out of the way first.
    AgendaItem.objects.filter(meeting=meeting).update(position=F("position") + 1000)
    for position, (item_id, title, notes) in enumerate(cleaned, start=1):
        if item_id is None:
            AgendaItem.objects.create(meeting=meeting, position=position, title=title, notes=notes)
        else:
            AgendaItem.objects.filter(pk=item_id).update(position=position, title=title, notes=notes)
    agenda = list(meeting.agenda.order_by("position"))
    _publish(meeting, "agenda.updated", {"agenda": [i.to_dict() for i in agenda], "current": meeting.current_item_id},
             actor=identity)
    if meeting.status in (Meeting.Status.SCHEDULED, Meeting.Status.OPEN):
        # Before the meeting starts most members cannot follow its stream yet (it opens
        # to them once admitted): their open pages learn of the new agenda from the inbox.
        _notify(_expected_ids(meeting), "meeting.changed", {"meeting": meeting.to_dict(), "changes": ["agenda"]})
    return agenda


FULL_MEMBERSHIP_ITEM = gettext_lazy("Whether %(name)s, whose probationary year is over, becomes a full member")


def full_membership_item(name: str) -> str:
    """The agenda item on which a general meeting discusses 转正 (the constitution, art. 7)."""
    return str(FULL_MEMBERSHIP_ITEM) % {"name": name}


def full_membership_items(name: str) -> set[str]:
    """That item in every language of the site: put there from a page in any of them."""
    found = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(full_membership_item(name))
    return found


@transaction.atomic
def add_agenda_item(*, identity: Identity, meeting_id: int, title: str, notes: str = "",
                    same_as: set[str] = frozenset()) -> list[AgendaItem]:
    """One more item at the end of the agenda, through set_agenda (its checks, events and
    notices); an item of the same title (or of one of `same_as`: the title in the site's
    other languages) already there is refused, not doubled. The meeting's row is locked
    first, so that two added at once both stay."""
    meeting = _meeting(identity, meeting_id)
    title = title.strip()
    items = [{"id": item.pk, "title": item.title, "notes": item.notes} for item in meeting.agenda.order_by("position")]
    if any(item["title"] in {title, *same_as} for item in items):
        raise Conflict(_("“%(item)s” is on the agenda of %(title)s already.") % {"item": title, "title": meeting.title})
    return set_agenda(identity=identity, meeting_id=meeting_id, items=[*items, {"title": title, "notes": notes}])


# -- the meeting's lifecycle -------------------------------------------------------------------


@transaction.atomic
def open_meeting(*, identity: Identity, meeting_id: int) -> Meeting:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise Conflict(_("Only a scheduled meeting can be opened."))
    meeting.status = Meeting.Status.OPEN
    meeting.opened_at = timezone.now()
    meeting.save(update_fields=["status", "opened_at", "updated_at"])
    data = {"meeting": meeting.to_dict()}
    _publish(meeting, "meeting.opened", data, actor=identity)
    _notify(_expected_ids(meeting), "meeting.opened", data)
    _sync_presence(meeting)
    return meeting


@transaction.atomic
def start_meeting(*, identity: Identity, meeting_id: int) -> Meeting:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    if meeting.status not in (Meeting.Status.SCHEDULED, Meeting.Status.OPEN):
        raise Conflict(_("Only a scheduled or open meeting can be started."))
    now = timezone.now()
    was_scheduled = meeting.status == Meeting.Status.SCHEDULED
    # The roll is frozen now: later membership changes do not rewrite this meeting's record.
    derived = selectors.derived_expected(meeting)
    names = selectors._names(derived)
    RollEntry.objects.bulk_create(
        [RollEntry(meeting=meeting, user_id=uid, name=names.get(uid, ""), voting=voting)
         for uid, voting in derived.items()],
        ignore_conflicts=True,
    )
    meeting.status = Meeting.Status.LIVE
    meeting.opened_at = meeting.opened_at or now
    meeting.started_at = now
    first = meeting.agenda.order_by("position").first()
    if first is not None:
        meeting.current_item = first
        first.started_at = now
        first.save(update_fields=["started_at"])
    meeting.save(update_fields=["status", "opened_at", "started_at", "current_item", "updated_at"])
    _publish(meeting, "meeting.started", {"meeting": meeting.to_dict(), "attendance": selectors.summary(meeting)},
             actor=identity)
    if was_scheduled:
        _notify(_expected_ids(meeting), "meeting.opened", {"meeting": meeting.to_dict()})
        _sync_presence(meeting)
    _audit(identity, meeting, "start")
    return meeting


@transaction.atomic
def end_meeting(*, identity: Identity, meeting_id: int) -> Meeting:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    _require_live(meeting)
    if meeting.votes.filter(status=Vote.Status.OPEN).exists():
        raise Conflict(_("Close the open vote before ending the meeting."))
    now = timezone.now()
    meeting.status = Meeting.Status.ENDED
    meeting.ended_at = now
    meeting.save(update_fields=["status", "ended_at", "updated_at"])
    AgendaItem.objects.filter(meeting=meeting, started_at__isnull=False, ended_at__isnull=True).update(ended_at=now)
    Participant.objects.filter(meeting=meeting).update(hand_raised_at=None, has_floor=False)
    _close_intervals(meeting, now, AttendanceInterval.EndReason.ENDED, publish=True)
    _publish(meeting, "meeting.ended",
             {"meeting": meeting.to_dict(), "attendance": selectors.summary(meeting, now=now)}, actor=identity)
    _audit(identity, meeting, "end")
    # 记录签字: those who sign the minutes are asked to check them and sign.
    _notify({meeting.chair_id, meeting.minute_taker_id} - {None}, "meeting.minutes_to_sign",
            {"meeting": meeting.to_dict()})
    return meeting


def _sync_presence(meeting: Meeting, *, user_id: int | None = None) -> None:
    """Open intervals for admitted people already on the stream (subscribed before it opened).

    With `user_id`, only that person (a join): looking at everyone on the stream there
    would cost two queries per person present on every join, under the meeting's lock.
    """
    from realtime.presence import present_on

    now = timezone.now()
    for entry in present_on(meeting_stream(meeting.pk), {}):
        kind, _sep, raw = entry["id"].partition(":")
        if kind == "u" and raw.isdigit() and (user_id is None or int(raw) == user_id):
            _record_join(meeting, int(raw), now)


def _close_intervals(meeting: Meeting, at: datetime, reason: str, *, publish: bool, user_id: int | None = None) -> None:
    qs = AttendanceInterval.objects.filter(meeting=meeting, left_at__isnull=True)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    closing = list(qs.select_related("user"))
    qs.update(left_at=at, end_reason=reason)
    if publish and closing:
        state = selectors.summary(meeting, now=at)
        for interval in closing:
            _publish(meeting, "attendance.left", {"user": person(interval.user), "at": iso(at), "reason": reason,
                                                  **state})


# -- joining and the lobby ---------------------------------------------------------------------


@transaction.atomic
def join_meeting(*, identity: Identity, meeting_id: int) -> Participant:
    """Ask to enter: admitted at once or waiting in the lobby, per the meeting's policy."""
    meeting = _meeting(identity, meeting_id)
    if not meeting.is_running:
        if meeting.status == Meeting.Status.SCHEDULED:
            raise Conflict(_("This meeting has not opened yet."))
        raise Conflict(_("This meeting is over."))
    existing = selectors.participant(meeting, identity.user_id)
    if existing is not None:
        if existing.state in (Participant.State.DENIED, Participant.State.REMOVED):
            raise Forbidden(_("A host has not let you into this meeting."))
        return existing
    host = selectors.is_host(identity, meeting)
    if host or selectors.is_minute_taker(identity, meeting):
        direct = True
    elif meeting.locked:
        direct = False
    elif meeting.lobby_policy == Meeting.LobbyPolicy.OPEN:
        direct = True
    elif meeting.lobby_policy == Meeting.LobbyPolicy.INVITED:
        direct = selectors.is_expected(meeting, identity.user_id)
    else:
        direct = False
    state = Participant.State.ADMITTED if direct else Participant.State.WAITING
    p = Participant.objects.create(meeting=meeting, user_id=identity.user_id, state=state,
                                   requested_at=timezone.now(), muted=meeting.all_muted and not host)
    if state == Participant.State.WAITING:
        _publish(meeting, "lobby.waiting", {"user": _me(identity)}, actor=identity)
    else:
        _sync_presence(meeting, user_id=identity.user_id)  # a host who subscribed before joining
    return p


@transaction.atomic
def decide_lobby(*, identity: Identity, meeting_id: int, user_id: int, admit: bool) -> Participant:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    _require_not_over(meeting)
    p = Participant.objects.select_for_update().filter(meeting=meeting, user_id=user_id).first()
    if p is None:
        raise NotFound(_("This person has not asked to join."))
    p.state = Participant.State.ADMITTED if admit else Participant.State.DENIED
    p.decided_by_id = identity.user_id
    p.save(update_fields=["state", "decided_by"])
    who = person(p.user)
    _publish(meeting, "lobby.admitted" if admit else "lobby.denied", {"user": who, "by": _me(identity)},
             actor=identity)
    _notify([user_id], "meeting.admitted" if admit else "meeting.denied", {"meeting": meeting.to_dict()})
    _audit(identity, meeting, "admit" if admit else "deny", user=user_id)
    return p


@transaction.atomic
def lock_meeting(*, identity: Identity, meeting_id: int, locked: bool) -> Meeting:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    _require_not_over(meeting)
    if meeting.locked != locked:
        meeting.locked = locked
        meeting.save(update_fields=["locked", "updated_at"])
        _publish(meeting, "meeting.locked", {"locked": locked, "by": _me(identity)}, actor=identity)
        _audit(identity, meeting, "lock" if locked else "unlock")
    return meeting


@transaction.atomic
def remove_participant(*, identity: Identity, meeting_id: int, user_id: int) -> Participant:
    """Out of the meeting: their sockets leave the stream, and they may not come back unless admitted."""
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    _require_not_over(meeting)
    p = Participant.objects.select_for_update().filter(meeting=meeting, user_id=user_id).first()
    if p is None or p.state != Participant.State.ADMITTED:
        raise NotFound(_("This person is not in the meeting."))
    target = Identity(kind="user", user_id=user_id)
    if selectors.is_host(target, meeting):
        raise Forbidden(_("A host cannot be removed."))
    p.state = Participant.State.REMOVED
    p.decided_by_id = identity.user_id
    p.hand_raised_at = None
    p.has_floor = False
    p.save(update_fields=["state", "decided_by", "hand_raised_at", "has_floor"])
    _close_intervals(meeting, timezone.now(), AttendanceInterval.EndReason.REMOVED, publish=True, user_id=user_id)
    _publish(meeting, "participant.removed", {"user": person(p.user), "by": _me(identity)}, actor=identity)
    _notify([user_id], "meeting.removed", {"meeting": meeting.to_dict()})
    _audit(identity, meeting, "remove", user=user_id)
    stream = meeting_stream(meeting.pk)
    transaction.on_commit(lambda: _evict(stream, f"u:{user_id}"))
    return p


# -- 现场签到: who is in the room --------------------------------------------------------------


def _room_person(meeting: Meeting, user_id: int):
    """Someone who may be in the meeting: a person who may see it (a member of its branch,
    a secretary above), with an active account. Else NotFound."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active or not selectors.may_see(Identity(kind="user", user_id=user_id), meeting):
        raise NotFound(_("There is no such member of this branch."))
    return user


CORRECTION_DAYS = 7  # after the end, those who keep the roll may still mend it (补登) this long


def _room_keeper(identity: Identity, meeting: Meeting) -> None:
    """The chair, a secretary or the minute-taker; while the meeting runs, or for
    CORRECTION_DAYS after it ended (补登)."""
    if not (selectors.is_host(identity, meeting) or selectors.is_minute_taker(identity, meeting)):
        raise Forbidden(_("Only the chair, the branch secretary and the minute-taker check people in."))
    if meeting.is_running:
        return
    if meeting.status == Meeting.Status.ENDED and timezone.now() - meeting.ended_at <= timedelta(days=CORRECTION_DAYS):
        _require_record_open(meeting)
        return
    raise Conflict(_("People are checked in while the meeting is open or under way, and the record mended "
                     "within %(days)d days after it ended.") % {"days": CORRECTION_DAYS})


def _room_time(field: str, value: str, meeting: Meeting, *, earliest: datetime, latest: datetime) -> datetime:
    """A time from the paper list: ISO 8601, or a time of day ("09:05") in the branch's
    zone, the last such moment not after `latest`. Refused outside [earliest, latest]."""
    zone = meeting.branch.zone
    clock = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
    if clock:
        local = timezone.localtime(latest, zone)
        at = local.replace(hour=int(clock[1]), minute=int(clock[2]), second=0, microsecond=0)
        if at > latest:
            at -= timedelta(days=1)
    else:
        at = parse_time(field, value, zone)
    if not earliest <= at <= latest:
        def shown(moment: datetime) -> str:
            return timezone.localtime(moment, zone).strftime("%H:%M")
        raise Invalid(field, _("Give a time between %(earliest)s and %(latest)s.")
                      % {"earliest": shown(earliest), "latest": shown(latest)})
    return at.astimezone(dt_timezone.utc)


@transaction.atomic
def check_in(*, identity: Identity, meeting_id: int, user_id: int, since: str | None = None,
             until: str | None = None) -> dict:
    """现场签到: the chair, a secretary or the minute-taker records that someone is in the
    meeting's room, from now (or `since`, when they came in earlier, read off the paper
    list: not before the meeting opened) until they are checked out or the meeting ends.
    It counts as being present, for attendance and quorum, beside (not instead of) being
    online; a vote is still cast on the meeting's page. Refused before the meeting opens.

    补登: within CORRECTION_DAYS after the end, someone who was in the room but not checked
    in is recorded as having been there from the start (or `since`) to the end (or
    `until`), in the audit log and on the meeting's stream as a correction."""
    meeting = _meeting(identity, meeting_id)
    _room_keeper(identity, meeting)
    user = _room_person(meeting, user_id)
    now = timezone.now()
    if meeting.status == Meeting.Status.ENDED:
        start, end = meeting.started_at, meeting.ended_at
        start = _room_time("since", since, meeting, earliest=start, latest=end) if since else start
        end = _room_time("until", until, meeting, earliest=start, latest=end) if until else end
        if end <= start:
            raise Invalid("until", _("The stay in the room ends after it begins."))
    else:
        if until:
            raise Invalid("until", _("While the meeting runs, the end of a stay is recorded when they leave the room."))
        opened = meeting.opened_at or meeting.started_at or now
        start = _room_time("since", since, meeting, earliest=min(opened, now), latest=now) if since else now
        end = None
    return _check_in(identity, meeting, user, start, end, at_times=bool(since or until))


def _check_in(identity: Identity, meeting: Meeting, user, start: datetime | None = None,
              end: datetime | None = None, *, at_times: bool = False) -> dict:
    after = meeting.status == Meeting.Status.ENDED
    now = timezone.now()
    start = start or now
    stays = AttendanceInterval.objects.filter(meeting=meeting, user_id=user.pk, in_room=True)
    # A stay still open, or one recorded that the new one would overlap.
    overlapping = stays.filter(left_at__isnull=True) | stays.filter(left_at__gt=start, joined_at__lt=end or now)
    if overlapping.exists():
        raise Conflict(_("%(name)s is checked in already.") % {"name": selectors.display_name(user)})
    if after:  # the record mended
        AttendanceInterval.objects.create(meeting=meeting, user_id=user.pk, joined_at=start, left_at=end,
                                          end_reason=AttendanceInterval.EndReason.ENDED if end == meeting.ended_at
                                          else AttendanceInterval.EndReason.LEFT, in_room=True)
    else:
        AttendanceInterval.objects.create(meeting=meeting, user_id=user.pk, joined_at=start, in_room=True)
    roll = selectors.roll_for(meeting)
    state = selectors.summary(meeting, now=now, roll=roll)
    _publish(meeting, "attendance.joined", {
        "user": person(user), "at": iso(start), "guest": user.pk not in roll.everyone, "resumed": False,
        "in_room": True, "by": _me(identity), **({"after_end": True, "until": iso(end)} if after else {}), **state,
    }, actor=identity)
    times = {"since": iso(start), **({"until": iso(end)} if after else {})} if at_times else {}
    _audit(identity, meeting, "check_in_after" if after else "check_in", user=user.pk, **times)
    if after and user.pk != identity.user_id:  # their record changed after the fact: they hear of it
        _notify([user.pk], "meeting.attendance_mended", {"meeting": meeting.to_dict(), "in_room": True,
                                                          "by": _me(identity)})
    return {"user": person(user), "in_room": not after, **state}


@transaction.atomic
def self_check_in(*, identity: Identity, meeting_id: int, code: str) -> dict:
    """扫码签到 (room.py): a member checks themselves in with the code the chair shows in
    the room. Refused (`conflict`) with a code no longer current, before the meeting opens
    and after it ends; checked in already is a conflict that says so."""
    meeting = _meeting(identity, meeting_id)
    if not meeting.is_running:
        raise Conflict(_("People are checked in while the meeting is open or under way."))
    if not room.is_current(meeting, code, timezone.now()):
        raise Conflict(_("This check-in code is no longer valid: scan the one shown in the room now."))
    return _check_in(identity, meeting, _room_person(meeting, identity.user_id))


@transaction.atomic
def check_out(*, identity: Identity, meeting_id: int, user_id: int, mistake: bool = False,
              at: str | None = None) -> dict:
    """Someone checked in has left the room (their stay ends now, or `at`, when they left
    earlier: leaving before the end counts as leaving early), or, with `mistake`, was
    checked in by mistake (that stay is taken back, as if never recorded; after the end,
    within CORRECTION_DAYS, the last stay in the room). Their online stays are untouched."""
    meeting = _meeting(identity, meeting_id)
    _room_keeper(identity, meeting)
    user = _room_person(meeting, user_id)
    after = meeting.status == Meeting.Status.ENDED
    if after and not mistake:
        raise Conflict(_("The meeting has ended: a check-in can only be taken back as a mistake."))
    if at and mistake:
        raise Invalid("at", _("A check-in taken back as a mistake has no time of leaving."))
    stays = AttendanceInterval.objects.filter(meeting=meeting, user_id=user_id, in_room=True)
    stay = (stays if after else stays.filter(left_at__isnull=True)).order_by("-joined_at").first()
    if stay is None:
        raise NotFound(_("%(name)s is not checked in.") % {"name": selectors.display_name(user)})
    now = timezone.now()
    left = _room_time("at", at, meeting, earliest=stay.joined_at, latest=now) if at else now
    if mistake:
        stay.delete()
    else:
        stay.left_at, stay.end_reason = left, AttendanceInterval.EndReason.LEFT
        stay.save(update_fields=["left_at", "end_reason"])
    reason = "undone" if mistake else AttendanceInterval.EndReason.LEFT
    state = selectors.summary(meeting, now=now)
    _publish(meeting, "attendance.left", {"user": person(user), "at": iso(left), "reason": reason, "in_room": True,
                                          "by": _me(identity), **state}, actor=identity)
    _audit(identity, meeting, "check_in_undone" if mistake else "check_out", user=user_id,
           **({"at": iso(left)} if at else {}))
    if after and user_id != identity.user_id:
        _notify([user_id], "meeting.attendance_mended", {"meeting": meeting.to_dict(), "in_room": False,
                                                          "by": _me(identity)})
    return {"user": person(user), "in_room": False, **state}


def _evict(stream: str, identity_key: str) -> None:
    from realtime.ephemeral import evict

    evict(stream, identity_key, reason="removed")


# -- the room: agenda, mute, hands, floor, reactions --------------------------------------------


@transaction.atomic
def advance_agenda(*, identity: Identity, meeting_id: int, item_id: int | None = None) -> AgendaItem:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    _require_live(meeting)
    items = list(meeting.agenda.order_by("position"))
    previous = next((i for i in items if i.pk == meeting.current_item_id), None)
    if item_id is not None:
        target = next((i for i in items if i.pk == item_id), None)
        if target is None:
            raise Invalid("item", _("Unknown agenda item %(id)s.") % {"id": item_id})
    else:
        later = [i for i in items if previous is None or i.position > previous.position]
        if not later:
            raise Conflict(_("This is the last agenda item."))
        target = later[0]
    now = timezone.now()
    if previous is not None and previous.pk != target.pk:
        previous.ended_at = now
        previous.save(update_fields=["ended_at"])
    target.started_at = target.started_at or now
    target.ended_at = None
    target.save(update_fields=["started_at", "ended_at"])
    meeting.current_item = target
    meeting.save(update_fields=["current_item", "updated_at"])
    _publish(meeting, "agenda.advanced", {"current": target.to_dict(),
                                          "previous": previous.to_dict() if previous else None,
                                          "by": _me(identity)}, actor=identity)
    return target


@transaction.atomic
def mute(*, identity: Identity, meeting_id: int, user_id: int | None, muted: bool) -> dict:
    """A request the media plane enforces when present; recorded here either way."""
    meeting = _meeting(identity, meeting_id)
    if not (selectors.is_host(identity, meeting) or selectors.is_moderator(identity, meeting)):
        raise Forbidden(_("Only the hosts and moderators may mute."))
    if not meeting.is_running:
        raise Conflict(_("This meeting is not in session."))
    if user_id is None:
        meeting.all_muted = muted
        meeting.save(update_fields=["all_muted", "updated_at"])
        hosts = [p.pk for p in meeting.participants.all() if selectors.is_host(Identity(kind="user", user_id=p.user_id),
                                                                                 meeting)]
        Participant.objects.filter(meeting=meeting).exclude(pk__in=hosts).update(muted=muted)
        who = None
    else:
        p = Participant.objects.filter(meeting=meeting, user_id=user_id, state=Participant.State.ADMITTED).first()
        if p is None:
            raise NotFound(_("This person is not in the meeting."))
        p.muted = muted
        p.save(update_fields=["muted"])
        who = person(p.user)
    _publish(meeting, "mute.requested", {"user": who, "muted": muted, "by": _me(identity)}, actor=identity)
    _audit(identity, meeting, "mute" if muted else "unmute", user=user_id)
    return {"user": who, "muted": muted}


@transaction.atomic
def raise_hand(*, identity: Identity, meeting_id: int) -> list[dict]:
    meeting = _meeting(identity, meeting_id)
    p = _require_participant(identity, meeting)
    if p.hand_raised_at is None:
        p.hand_raised_at = timezone.now()
        p.save(update_fields=["hand_raised_at"])
        queue = selectors.hand_queue(meeting)
        _publish(meeting, "hand.raised", {"user": _me(identity), "queue": queue}, actor=identity)
        return queue
    return selectors.hand_queue(meeting)


@transaction.atomic
def lower_hand(*, identity: Identity, meeting_id: int, user_id: int | None = None) -> list[dict]:
    meeting = _meeting(identity, meeting_id)
    if user_id is None or user_id == identity.user_id:
        p = _require_participant(identity, meeting)
    else:
        _require_host(identity, meeting)
        p = Participant.objects.filter(meeting=meeting, user_id=user_id).first()
        if p is None:
            raise NotFound(_("This person is not in the meeting."))
    if p.hand_raised_at is not None:
        p.hand_raised_at = None
        p.save(update_fields=["hand_raised_at"])
        queue = selectors.hand_queue(meeting)
        _publish(meeting, "hand.lowered", {"user": person(p.user), "by": _me(identity), "queue": queue},
                 actor=identity)
        return queue
    return selectors.hand_queue(meeting)


@transaction.atomic
def give_floor(*, identity: Identity, meeting_id: int, user_id: int) -> dict:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    if not meeting.is_running:
        raise Conflict(_("This meeting is not in session."))
    p = Participant.objects.filter(meeting=meeting, user_id=user_id, state=Participant.State.ADMITTED).first()
    if p is None:
        raise NotFound(_("This person is not in the meeting."))
    Participant.objects.filter(meeting=meeting, has_floor=True).exclude(pk=p.pk).update(has_floor=False)
    p.has_floor = True
    p.hand_raised_at = None
    p.save(update_fields=["has_floor", "hand_raised_at"])
    queue = selectors.hand_queue(meeting)
    speaker = person(p.user)
    _publish(meeting, "floor.given", {"user": speaker, "by": _me(identity), "queue": queue}, actor=identity)
    return {"speaker": speaker, "queue": queue}


def send_reaction(*, identity: Identity, meeting_id: int, emoji: str) -> None:
    """Ephemeral: goes to the stream's subscribers now; not logged, not replayed."""
    from realtime.ephemeral import broadcast

    _require_user(identity)
    meeting = selectors.meeting_for(identity, meeting_id)
    _require_participant(identity, meeting)
    if emoji not in REACTIONS:
        raise Invalid("emoji", _("Choose one of %(choices)s.") % {"choices": " ".join(REACTIONS)})
    broadcast(meeting_stream(meeting.pk), {"op": "reaction", "who": _me(identity), "emoji": emoji})


# -- chat and remarks --------------------------------------------------------------------------


@transaction.atomic
def send_chat(*, identity: Identity, meeting_id: int, body: str) -> ChatMessage:
    meeting = _meeting(identity, meeting_id)
    _require_participant(identity, meeting)
    if is_silenced(identity.user_id, meeting.branch_id):
        raise Forbidden(_("A moderator has silenced you in this branch for now."))
    body = _text("body", body, maximum=CHAT_MAX)
    scan = scan_text(meeting.branch_id, body)
    if scan.blocked:
        raise Invalid("body", _("Your text contains words that are not allowed: %(words)s")
                      % {"words": "、".join(scan.blocked)})
    status = ChatMessage.Status.PENDING if scan.needs_approval else ChatMessage.Status.VISIBLE
    message = ChatMessage.objects.create(meeting=meeting, author_id=identity.user_id, body=body,
                                         shown=scan.censored_text if scan.censored else body, status=status,
                                         created_at=timezone.now())
    if scan.needs_approval:
        enqueue_for_review(branch_id=meeting.branch_id, target_type="meetings.chat", target_id=message.pk,
                           reasons=[{"reason": "watched_word", "words": scan.needs_approval}])
    if scan.flagged:
        enqueue_for_review(branch_id=meeting.branch_id, target_type="meetings.chat", target_id=message.pk,
                           reasons=[{"reason": "watched_word_flag", "words": scan.flagged}])
    if status == ChatMessage.Status.VISIBLE:
        _publish(meeting, "chat.message", message.to_dict(), actor=identity)
    return message


@transaction.atomic
def hide_chat(*, identity: Identity, meeting_id: int, message_id: int) -> ChatMessage:
    meeting = _meeting(identity, meeting_id)
    if not (selectors.is_host(identity, meeting) or selectors.is_moderator(identity, meeting)):
        raise Forbidden(_("Only the hosts and moderators may hide messages."))
    message = ChatMessage.objects.filter(meeting=meeting, pk=message_id).select_related("author").first()
    if message is None:
        raise NotFound(_("There is no such message."))
    set_chat_status(identity, message, ChatMessage.Status.HIDDEN)
    _audit(identity, meeting, "chat.hide", message=message.pk)
    return message


def set_chat_status(identity: Identity, message: ChatMessage, status: str) -> None:
    """Used by hide_chat and the review queue (meetings/review.py), inside their transaction."""
    before = message.status
    if before == status:
        return
    message.status = status
    message.save(update_fields=["status"])
    meeting = message.meeting
    if status == ChatMessage.Status.VISIBLE:
        _publish(meeting, "chat.message", message.to_dict(), actor=identity)
    elif before == ChatMessage.Status.VISIBLE:
        _publish(meeting, "chat.hidden", {"id": message.pk, "by": _me(identity)}, actor=identity)


@transaction.atomic
def add_remark(*, identity: Identity, meeting_id: int, text: str, agenda_item_id: int | None = None) -> Remark:
    meeting = _meeting(identity, meeting_id)
    if not (selectors.is_minute_taker(identity, meeting) or selectors.is_host(identity, meeting)):
        raise Forbidden(_("Only the minute-taker and the hosts may add remarks."))
    if meeting.status == Meeting.Status.CANCELLED:
        raise Conflict(_("This meeting was cancelled."))
    _require_record_open(meeting)
    text = _text("text", text, maximum=REMARK_MAX)
    item = None
    if agenda_item_id is not None:
        item = meeting.agenda.filter(pk=agenda_item_id).first()
        if item is None:
            raise Invalid("agenda_item", _("Unknown agenda item %(id)s.") % {"id": agenda_item_id})
    remark = Remark.objects.create(meeting=meeting, agenda_item=item, author_id=identity.user_id, text=text,
                                   created_at=timezone.now())
    _publish(meeting, "remark.added", remark.to_dict(), actor=identity)
    return remark


# -- 记录签字: the chair and the minute-taker confirm the minutes ------------------------------


def _require_record_open(meeting: Meeting) -> None:
    """After the end, the record may be added to or mended until the minutes are signed."""
    if meeting.status == Meeting.Status.ENDED and selectors.signatures(meeting)["final"]:
        raise Conflict(_("The minutes have been signed, so the record is final. The chair or the branch secretary "
                         "may reopen it."))


@transaction.atomic
def sign_minutes(*, identity: Identity, meeting_id: int) -> dict:
    """The meeting's chair or its minute-taker (or one person who is both) confirms the
    minutes, once the meeting has ended. When everyone required has, the record is final:
    no more remarks, no more mending of who was in the room."""
    meeting = _meeting(identity, meeting_id)
    if meeting.status != Meeting.Status.ENDED:
        raise Conflict(_("The minutes are signed once the meeting has ended."))
    mine = [role for role, user_id in ((MinutesSignature.Role.CHAIR, meeting.chair_id),
                                       (MinutesSignature.Role.MINUTE_TAKER, meeting.minute_taker_id))
            if user_id is not None and user_id == identity.user_id]
    if not mine:
        raise Forbidden(_("The minutes are signed by the meeting's chair and its minute-taker."))
    done = set(MinutesSignature.objects.filter(meeting=meeting).values_list("role", flat=True))
    new = [role for role in mine if role not in done]
    if not new:
        raise Conflict(_("You have signed these minutes already."))
    now = timezone.now()
    MinutesSignature.objects.bulk_create([MinutesSignature(meeting=meeting, role=role, user_id=identity.user_id,
                                                           at=now) for role in new])
    state = selectors.signatures(meeting)
    _publish(meeting, "minutes.signed", {**state, "by": _me(identity)}, actor=identity)
    _audit(identity, meeting, "minutes.sign", roles=[str(role) for role in new])
    return state


@transaction.atomic
def reopen_minutes(*, identity: Identity, meeting_id: int, reason: str) -> dict:
    """A mistake found in signed minutes: the chair or the branch secretary takes the
    signatures back, saying why (in the audit log and on the meeting's stream); the
    record can then be mended and signed again."""
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    reason = _text("reason", reason, maximum=REASON_MAX)
    deleted, _rows = MinutesSignature.objects.filter(meeting=meeting).delete()
    if not deleted:
        raise Conflict(_("Nobody has signed these minutes yet."))
    state = selectors.signatures(meeting)
    _publish(meeting, "minutes.reopened", {**state, "by": _me(identity), "reason": reason}, actor=identity)
    _audit(identity, meeting, "minutes.reopen", reason=reason)
    return state


# -- leave and exclusions ----------------------------------------------------------------------


def _secretaries(meeting: Meeting) -> list[int]:
    ids = list(Membership.objects.filter(branch_id=meeting.branch_id, role=Membership.Role.SECRETARY)
               .values_list("user_id", flat=True))
    if not ids:
        ids = list(Membership.objects.filter(branch_id__in=ancestor_ids(meeting.branch_id),
                                             role=Membership.Role.SECRETARY).values_list("user_id", flat=True))
    return ids


@transaction.atomic
def request_leave(*, identity: Identity, meeting_id: int, reason: str) -> LeaveRequest:
    meeting = _meeting(identity, meeting_id)
    if meeting.started_at is not None or meeting.status not in (Meeting.Status.SCHEDULED, Meeting.Status.OPEN):
        raise Conflict(_("Leave must be requested before the meeting starts."))
    if not selectors.is_expected(meeting, identity.user_id):
        raise Forbidden(_("You are not expected at this meeting."))
    reason = _text("reason", reason, maximum=REASON_MAX)
    leave = LeaveRequest.objects.select_for_update().filter(meeting=meeting, user_id=identity.user_id).first()
    now = timezone.now()
    if leave is None:
        leave = LeaveRequest.objects.create(meeting=meeting, user_id=identity.user_id, reason=reason,
                                            submitted_at=now)
    else:
        if leave.status == LeaveRequest.Status.APPROVED:
            raise Conflict(_("Your leave has already been approved."))
        leave.reason, leave.status, leave.submitted_at = reason, LeaveRequest.Status.PENDING, now
        leave.decided_by, leave.decided_at, leave.decision_note = None, None, ""
        leave.save()
    leave = LeaveRequest.objects.select_related("user", "decided_by").get(pk=leave.pk)
    data = leave.to_dict()
    _publish(meeting, "leave.requested", data, actor=identity)
    _notify(_secretaries(meeting), "leave.requested", data)
    return leave


@transaction.atomic
def withdraw_leave(*, identity: Identity, meeting_id: int) -> LeaveRequest:
    meeting = _meeting(identity, meeting_id)
    if meeting.started_at is not None or meeting.status not in (Meeting.Status.SCHEDULED, Meeting.Status.OPEN):
        raise Conflict(_("The meeting has started."))
    leave = LeaveRequest.objects.select_for_update().filter(meeting=meeting, user_id=identity.user_id).first()
    if leave is None or leave.status == LeaveRequest.Status.WITHDRAWN:
        raise NotFound(_("You have not requested leave."))
    leave.status = LeaveRequest.Status.WITHDRAWN
    leave.save(update_fields=["status"])
    leave = LeaveRequest.objects.select_related("user", "decided_by").get(pk=leave.pk)
    _publish(meeting, "leave.withdrawn", leave.to_dict(), actor=identity)
    return leave


@transaction.atomic
def decide_leave(*, identity: Identity, leave_id: int, approve: bool, note: str = "") -> LeaveRequest:
    _require_user(identity)
    meeting_id = LeaveRequest.objects.filter(pk=leave_id).values_list("meeting_id", flat=True).first()
    if meeting_id is None:
        raise NotFound(_("There is no such leave request."))
    meeting = _meeting(identity, meeting_id)  # the meeting first, as every other action locks it
    leave = LeaveRequest.objects.select_for_update().get(pk=leave_id)
    _require_manager(identity, meeting)
    if meeting.status in (Meeting.Status.ENDED, Meeting.Status.CANCELLED):
        raise Conflict(_("This meeting is over."))
    if leave.status != LeaveRequest.Status.PENDING:
        raise Conflict(_("This leave request has already been decided or withdrawn."))
    leave.status = LeaveRequest.Status.APPROVED if approve else LeaveRequest.Status.DECLINED
    leave.decided_by_id = identity.user_id
    leave.decided_at = timezone.now()
    leave.decision_note = _text("note", note, maximum=REASON_MAX, required=False)
    leave.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    leave = LeaveRequest.objects.select_related("user", "decided_by").get(pk=leave.pk)
    data = leave.to_dict()
    _publish(meeting, "leave.decided", data, actor=identity)
    _notify([leave.user_id], "leave.decided", data)
    return leave


@transaction.atomic
def add_exclusion(*, identity: Identity, meeting_id: int, user_id: int, reason: str, note: str = "") -> Exclusion:
    meeting = _meeting(identity, meeting_id)
    _require_manager(identity, meeting)
    _require_not_over(meeting)
    if reason not in Exclusion.Reason.values:
        raise Invalid("reason", _("Only the recognised reasons allow an exclusion."))
    if user_id not in selectors.expected_before_exclusions(meeting):
        raise Invalid("user", _("This person is not expected at this meeting."))
    if Exclusion.objects.filter(meeting=meeting, user_id=user_id).exists():
        raise Conflict(_("This person is already excluded."))
    exclusion = Exclusion.objects.create(meeting=meeting, user_id=user_id, reason=reason,
                                         note=_text("note", note, maximum=REASON_MAX, required=False),
                                         approved_by_id=identity.user_id, approved_at=timezone.now())
    exclusion = Exclusion.objects.select_related("user", "approved_by").get(pk=exclusion.pk)
    _publish(meeting, "exclusion.added", {**exclusion.to_dict(), **selectors.summary(meeting)}, actor=identity)
    _audit(identity, meeting, "exclude", user=user_id, reason=reason)
    return exclusion


@transaction.atomic
def remove_exclusion(*, identity: Identity, meeting_id: int, user_id: int) -> None:
    meeting = _meeting(identity, meeting_id)
    _require_manager(identity, meeting)
    _require_not_over(meeting)
    exclusion = Exclusion.objects.filter(meeting=meeting, user_id=user_id).select_related("user").first()
    if exclusion is None:
        raise NotFound(_("This person is not excluded."))
    who = person(exclusion.user)
    exclusion.delete()
    _publish(meeting, "exclusion.removed", {"user": who, **selectors.summary(meeting)}, actor=identity)
    _audit(identity, meeting, "unexclude", user=user_id)


# -- votes -------------------------------------------------------------------------------------


@transaction.atomic
def create_vote(*, identity: Identity, meeting_id: int, kind: str, title: str, secret: bool,
                candidates: list[int] | None = None, seats: int = 1, agenda_item_id: int | None = None) -> Vote:
    meeting = _meeting(identity, meeting_id)
    _require_host(identity, meeting)
    _require_not_over(meeting)
    if kind not in Vote.Kind.values:
        raise Invalid("kind", _("A vote is a motion or an election."))
    if kind == Vote.Kind.ELECTION and not secret:  # 基层组织选举工作条例
        raise Invalid("secret", _("An election is always held by secret ballot."))
    title = _text("title", title, maximum=300)
    item = None
    if agenda_item_id is not None:
        item = meeting.agenda.filter(pk=agenda_item_id).first()
        if item is None:
            raise Invalid("agenda_item", _("Unknown agenda item %(id)s.") % {"id": agenda_item_id})
    options: list[tuple[str, str, int | None]] = []
    if kind == Vote.Kind.MOTION:
        if candidates:
            raise Invalid("candidates", _("A motion has no candidates."))
        seats = 1
        options = [(key, label, None) for key, label in MOTION_OPTIONS]
    else:
        candidates = list(dict.fromkeys(candidates or []))
        if not 1 <= len(candidates) <= CANDIDATES_MAX:
            raise Invalid("candidates", _("Name between 1 and %(max)d candidates.") % {"max": CANDIDATES_MAX})
        members = selectors.party_members(meeting.branch_id)
        if any(c not in members for c in candidates):
            raise Invalid("candidates", _("Candidates must be party members of this branch."))
        if not all(members[c] for c in candidates):  # 党章: a probationary member cannot be elected
            raise Invalid("candidates", _("Candidates must be full members who may be elected: a probationary "
                                          "member has no right to be elected, nor one whose rights are suspended."))
        electable = selectors.electable(meeting, members)
        if any(c not in electable for c in candidates):
            raise Invalid("candidates", _("A committee meeting elects from among its own members: the candidates "
                                          "must be on the committee."))
        if not 1 <= seats <= len(candidates):
            raise Invalid("seats", _("Between 1 and the number of candidates."))
        # 另选他人: a ballot may name instead any full member of the branch who is not a
        # candidate (the election rules let whoever votes against a candidate choose another).
        others = set(get_user_model().objects.filter(
            pk__in=[uid for uid in electable if uid not in candidates], is_active=True).values_list("pk", flat=True))
        names = selectors._names([*candidates, *others])
        others = sorted(others, key=lambda uid: (names[uid], uid))
        options = [(f"c{i}", names.get(uid, ""), uid) for i, uid in enumerate(candidates, start=1)]
        options += [(f"w{i}", names[uid], uid) for i, uid in enumerate(others, start=1)]
        options.append(("abstain", "弃权", None))
    vote = Vote.objects.create(meeting=meeting, agenda_item=item, kind=kind, title=title, secret=secret,
                               seats=seats, created_by_id=identity.user_id)
    VoteOption.objects.bulk_create([VoteOption(vote=vote, key=key, label=label, candidate_id=uid, position=i,
                                               write_in=key.startswith("w"))
                                    for i, (key, label, uid) in enumerate(options)])
    if secret:
        keys = [key for key, _label, _uid in options]
        SealedTally.objects.create(vote=vote, sealed=sealing.seal_counts(vote.pk, keys, {}))
    _publish(meeting, "vote.created", selectors.vote_dict(vote), actor=identity)
    _audit(identity, meeting, "vote.create", vote=vote.pk, kind=kind, secret=secret)
    return vote


def _choices(vote: Vote, keys: list[str], choice: str | None, candidates: list[str] | None) -> list[str]:
    """The option keys a ballot raises; `keys` are the vote's options (`_option_keys`)."""
    if vote.kind == Vote.Kind.MOTION:
        if candidates is not None or choice not in ("yes", "no", "abstain"):
            raise Invalid("choice", _("Choose for, against or abstain."))
        return [choice]
    if choice is not None and choice != "abstain":
        raise Invalid("choice", _("In an election, choose candidates."))
    picked = list(dict.fromkeys(candidates or []))
    if choice == "abstain" or not picked:
        return ["abstain"]
    if any(key not in keys or key == "abstain" for key in picked):
        raise Invalid("candidates", _("Choose among the candidates."))
    if len(picked) > vote.seats:
        raise Invalid("candidates", _("Choose at most %(n)d candidates.") % {"n": vote.seats})
    return picked


def _option_keys(vote: Vote) -> list[str]:
    return list(vote.options.order_by("position").values_list("key", flat=True))


def _open_tally(vote: Vote, keys: list[str]) -> tuple[SealedTally, dict[str, int]]:
    """The vote's sealed tally row and its counts; refused (nothing written) when no configured key opens it."""
    tally = SealedTally.objects.get(vote=vote)
    return tally, _opened(vote, keys, tally.sealed)


def _opened(vote: Vote, keys: list[str], sealed, *, part: str = "") -> dict[str, int]:
    try:
        return sealing.open_counts(vote.pk, keys, sealed, part=part)
    except sealing.TallyUnreadable:
        # Not the voter's nor the secretary's doing: the server's SECRET_KEY changed after the
        # tally was last sealed and the old key is not kept as a fallback (or the row was
        # altered). Putting the key back makes the same operation succeed, so say so rather
        # than fail as an internal error; raised before any write of the action.
        raise Conflict(_("This secret vote's tally cannot be read: the server's secret key has changed since the "
                         "vote was prepared. Ask the server's administrator to add the previous key to "
                         "SECRET_KEY_FALLBACKS, then try again.")) from None


def _record_choice(vote: Vote, keys: list[str], user_id: int, choices: list[str], via: str) -> None:
    """Count one ballot; the caller holds the vote row's lock, which serialises ballots on the tally."""
    if not vote.secret:
        VoteParticipation.objects.create(vote=vote, user_id=user_id, via=via)
        OpenBallot.objects.create(vote=vote, user_id=user_id, choices=choices, via=via)
        return
    tally, counts = _open_tally(vote, keys)
    for key in choices:
        counts[key] += 1
    VoteParticipation.objects.create(vote=vote, user_id=user_id, via=via)
    # A fresh nonce each time: the new version shares nothing visible with the old one.
    tally.sealed = sealing.seal_counts(vote.pk, keys, counts)
    tally.save(update_fields=["sealed"])


def _locked_vote(identity: Identity, vote_id: int) -> tuple[Meeting, Vote]:
    """The vote's meeting, then the vote, each row-locked (the order every vote action takes)."""
    _require_user(identity)
    meeting = _meeting(identity, selectors.vote_for(identity, vote_id).meeting_id)
    return meeting, selectors.vote_for(identity, vote_id, for_update=True)


def _enter_for(vote: Vote, meeting: Meeting, user_id: int, choice: str | None, candidates: list[str] | None,
               via: str, *, present_refusal) -> None:
    """Count the vote of a voting member who does not cast it themselves (书面意见, 举手表决);
    `present_refusal(user_id)` says why this member may not have it entered, or None."""
    if not selectors.roll_for(meeting).expected.get(user_id):
        raise Invalid("user", _("Only voting members expected at the meeting have a vote."))
    refusal = present_refusal(user_id)
    if refusal:
        raise Invalid("user", refusal)
    if VoteParticipation.objects.filter(vote=vote, user_id=user_id).exists():
        raise Conflict(_("This member's vote is already counted."))
    keys = _option_keys(vote)  # read once: checks the choice, orders the sealed counts
    _record_choice(vote, keys, user_id, _choices(vote, keys, choice, candidates), via)


@transaction.atomic
def enter_written_opinion(*, identity: Identity, vote_id: int, user_id: int, choice: str | None = None,
                          candidates: list[str] | None = None) -> Vote:
    """书面意见: an absent voting member's vote, entered by the secretary before the vote opens."""
    meeting, vote = _locked_vote(identity, vote_id)
    _require_manager(identity, meeting)
    if vote.status != Vote.Status.DRAFT:
        raise Conflict(_("Written opinions are entered before the vote opens."))
    if vote.kind == Vote.Kind.ELECTION:
        raise Conflict(_("An election is voted at the meeting: a member who is not there cannot vote by written "
                         "opinion, nor through anyone else."))
    present = selectors.connected_user_ids(meeting)
    _enter_for(vote, meeting, user_id, choice, candidates, VoteParticipation.Via.WRITTEN,
               present_refusal=lambda uid: _("This member is present and votes in person.") if uid in present else None)
    _publish(meeting, "vote.updated", selectors.vote_dict(vote), actor=identity)
    _audit(identity, meeting, "vote.written_opinion", vote=vote.pk, user=user_id)
    return vote


@transaction.atomic
def enter_show_of_hands(*, identity: Identity, vote_id: int, user_id: int, choice: str | None = None,
                        candidates: list[str] | None = None) -> dict:
    """举手表决: at an open (named) ballot under way, the chair enters the vote of a voting
    member checked in in the room who raised their hand there rather than voting on the
    page (no phone, say). Never for a secret ballot, which each member casts themselves;
    not for someone who has voted. Counted like a ballot, with its way kept (`hands`)."""
    meeting, vote = _locked_vote(identity, vote_id)
    _require_host(identity, meeting)
    if vote.status != Vote.Status.OPEN:
        raise Conflict(_("Hands are counted while the vote is open."))
    if vote.secret:
        raise Conflict(_("A secret ballot is never counted by a show of hands: those in the room vote on the page "
                         "or on paper ballots."))
    room = selectors.present_by_way(meeting)[1]
    _enter_for(vote, meeting, user_id, choice, candidates, VoteParticipation.Via.HANDS,
               present_refusal=lambda uid: None if uid in room else _(
                   "Only members checked in in the room are counted by a show of hands."))
    cast = VoteParticipation.objects.filter(vote=vote).count()
    hands = VoteParticipation.objects.filter(vote=vote, via=VoteParticipation.Via.HANDS).count()
    _publish(meeting, "vote.progress", {"vote": vote.pk, "cast": cast, "of": vote.voting_expected, "hands": hands})
    _audit(identity, meeting, "vote.hands", vote=vote.pk, user=user_id)
    return {"vote": vote.pk, "user": user_id, "counted": True, "cast": cast}


# -- 纸质选票: a secret ballot on paper in the room, beside the one on the page ---------------


def _paper_vote(identity: Identity, vote_id: int) -> tuple[Meeting, Vote]:
    meeting, vote = _locked_vote(identity, vote_id)
    _require_host(identity, meeting)
    if not vote.secret:
        raise Conflict(_("Paper ballots are for secret ballots; at an open vote the chair counts hands."))
    if vote.status != Vote.Status.OPEN:
        raise Conflict(_("Paper ballots are handed out and counted while the vote is open."))
    return meeting, vote


def _paper_changed(identity: Identity, meeting: Meeting, vote: Vote, action: str, **after) -> dict:
    data = selectors.vote_dict(vote)
    _publish(meeting, "vote.updated", data, actor=identity)
    _audit(identity, meeting, action, vote=vote.pk, **after)
    return {"vote": data}


@transaction.atomic
def issue_paper_ballots(*, identity: Identity, vote_id: int, user_ids: list[int]) -> dict:
    """The chair hands paper ballots to voting members checked in in the room (no phone,
    or a vote held on paper in the room while those away vote on the page). Holding one
    counts as having voted: the page refuses them a second ballot. Named, as a ballot
    handed out in the room is; what is written on it never is."""
    meeting, vote = _paper_vote(identity, vote_id)
    if PaperCount.objects.filter(vote=vote).exists():
        raise Conflict(_("The ballot box has been counted: no more paper ballots can be handed out."))
    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        raise Invalid("users", _("Choose whom to hand paper ballots to."))
    expected = selectors.roll_for(meeting).expected
    room = selectors.present_by_way(meeting)[1]
    names = selectors._names(user_ids)

    def listed(ids) -> str:
        return "、".join(names.get(uid, f"#{uid}") for uid in ids)

    no_vote = [uid for uid in user_ids if not expected.get(uid)]
    if no_vote:
        raise Invalid("users", _("Only voting members expected at the meeting have a vote: %(names)s.")
                      % {"names": listed(no_vote)})
    away = [uid for uid in user_ids if uid not in room]
    if away:
        raise Invalid("users", _("Paper ballots are handed to members checked in in the room: %(names)s is not.")
                      % {"names": listed(away)})
    # Those who voted on the page meanwhile, or hold one already, are passed over (and
    # named in the reply): ticking the whole room is the common case.
    voted = set(VoteParticipation.objects.filter(vote=vote, user_id__in=user_ids).values_list("user_id", flat=True))
    handed = [uid for uid in user_ids if uid not in voted]
    if not handed:
        raise Conflict(_("Already voted or holding a paper ballot: %(names)s.") % {"names": listed(user_ids)})
    VoteParticipation.objects.bulk_create([VoteParticipation(vote=vote, user_id=uid, via=VoteParticipation.Via.PAPER)
                                           for uid in handed])
    reply = _paper_changed(identity, meeting, vote, "vote.paper_issue", users=handed)
    return {**reply, "skipped": [{"id": uid, "name": names.get(uid, "")} for uid in user_ids if uid in voted]}


@transaction.atomic
def take_back_paper_ballot(*, identity: Identity, vote_id: int, user_id: int) -> dict:
    """A paper ballot handed out by mistake, or to a member who votes on the page after
    all, taken back unused; only before the box is counted."""
    meeting, vote = _paper_vote(identity, vote_id)
    if PaperCount.objects.filter(vote=vote).exists():
        raise Conflict(_("The ballot box has been counted: the ballots handed out can no longer be taken back."))
    deleted, _rows = VoteParticipation.objects.filter(vote=vote, user_id=user_id,
                                                      via=VoteParticipation.Via.PAPER).delete()
    if not deleted:
        raise Invalid("user", _("This member holds no paper ballot of this vote."))
    return _paper_changed(identity, meeting, vote, "vote.paper_take_back", user=user_id)


def _paper_choices(vote: Vote, keys: list[str], valid: int, counts: dict[str, int]) -> dict[str, int]:
    """The box's valid ballots' choices, checked against how many there are."""
    if set(counts) - set(keys):
        raise Invalid("counts", _("Count only this vote's options."))
    if any(not isinstance(n, int) or n < 0 for n in counts.values()):
        raise Invalid("counts", _("Counts are whole numbers, none below zero."))
    counts = {key: counts.get(key, 0) for key in keys}
    if vote.kind == Vote.Kind.MOTION:
        if sum(counts.values()) != valid:
            raise Invalid("counts", _("For, against and abstain add up to %(sum)d, but %(valid)d valid ballots came "
                                      "back.") % {"sum": sum(counts.values()), "valid": valid})
        return counts
    if counts["abstain"] > valid:
        raise Invalid("counts", _("More abstentions than valid ballots (%(valid)d).") % {"valid": valid})
    marked = valid - counts["abstain"]  # the valid ballots that name someone
    named = sum(n for key, n in counts.items() if key != "abstain")
    if any(n > marked for key, n in counts.items() if key != "abstain"):
        raise Invalid("counts", _("A candidate cannot have more votes than the %(marked)d valid ballots that name "
                                  "someone.") % {"marked": marked})
    if not marked <= named <= marked * vote.seats:
        raise Invalid("counts", _("%(marked)d valid ballots name someone, each at least one and at most %(seats)d "
                                  "candidates, so the candidates' votes add up to between %(low)d and %(high)d, "
                                  "not %(named)d.") % {"marked": marked, "seats": vote.seats, "low": marked,
                                                      "high": marked * vote.seats, "named": named})
    return counts


SCRUTINEERS_MAX = 5


def _scrutineers(meeting: Meeting, vote: Vote, user_ids: list[int]) -> list[int]:
    """监票人: voting members expected at the meeting who are not candidates in this vote."""
    user_ids = list(dict.fromkeys(user_ids))
    if len(user_ids) > SCRUTINEERS_MAX:
        raise Invalid("scrutineers", _("Name at most %(n)d scrutineers.") % {"n": SCRUTINEERS_MAX})
    expected = selectors.roll_for(meeting).expected
    candidates = set(vote.options.exclude(candidate=None).filter(write_in=False)
                     .values_list("candidate_id", flat=True))
    names = selectors._names(user_ids)
    wrong = [uid for uid in user_ids if not expected.get(uid) or uid in candidates]
    if wrong:
        raise Invalid("scrutineers", _("Scrutineers are voting members at the meeting who are not candidates: "
                                       "%(names)s cannot be one.")
                      % {"names": "、".join(names.get(uid, f"#{uid}") for uid in wrong)})
    return user_ids


@transaction.atomic
def count_paper_ballots(*, identity: Identity, vote_id: int, returned: int, invalid: int,
                        counts: dict[str, int], scrutineers: list[int] | None = None) -> dict:
    """The count of the ballot box, entered by the chair while the vote is open: how many
    ballots came back, how many of those are spoilt, and the choices on the valid ones,
    which join the sealed tally. Entered again before the close, it replaces the first
    (a recount). More ballots back than were handed out voids the vote (it is to be
    held again), and then the choices are not counted."""
    meeting, vote = _paper_vote(identity, vote_id)
    issued = VoteParticipation.objects.filter(vote=vote, via=VoteParticipation.Via.PAPER).count()
    if not issued:
        raise Conflict(_("No paper ballots have been handed out for this vote."))
    if not isinstance(returned, int) or not isinstance(invalid, int) or returned < 0 or invalid < 0:
        raise Invalid("returned", _("Counts are whole numbers, none below zero."))
    if invalid > returned:
        raise Invalid("invalid", _("More spoilt ballots (%(invalid)d) than ballots that came back (%(returned)d).")
                      % {"invalid": invalid, "returned": returned})
    keys = _option_keys(vote)
    watched = _scrutineers(meeting, vote, scrutineers or [])
    void = returned > issued
    paper = {} if void else _paper_choices(vote, keys, returned - invalid, counts)
    tally, totals = _open_tally(vote, keys)  # before any write: a refusal changes nothing
    before = PaperCount.objects.filter(vote=vote).first()
    if before is not None and before.sealed:
        for key, n in _opened(vote, keys, before.sealed, part="paper").items():
            totals[key] -= n
    for key, n in paper.items():
        totals[key] += n
    tally.sealed = sealing.seal_counts(vote.pk, keys, totals)
    tally.save(update_fields=["sealed"])
    sealed = b"" if void else sealing.seal_counts(vote.pk, keys, paper, part="paper")
    PaperCount.objects.update_or_create(vote=vote, defaults={"returned": returned, "invalid": invalid,
                                                             "sealed": sealed, "scrutineers": watched})
    return _paper_changed(identity, meeting, vote, "vote.paper_count", returned=returned, invalid=invalid,
                          recount=before is not None)


@transaction.atomic
def open_vote(*, identity: Identity, vote_id: int) -> Vote:
    _require_user(identity)
    meeting = _meeting(identity, selectors.vote_for(identity, vote_id).meeting_id)  # meeting, then vote
    vote = selectors.vote_for(identity, vote_id, for_update=True)
    _require_host(identity, meeting)
    _require_live(meeting)
    if vote.status != Vote.Status.DRAFT:
        raise Conflict(_("This vote has already been opened."))
    if meeting.votes.filter(status=Vote.Status.OPEN).exists():
        raise Conflict(_("Another vote is open; close it first."))
    roll, connected = selectors.roll_for(meeting), selectors.connected_user_ids(meeting)
    state = selectors.quorum_state(roll, connected)
    expected, present = state["voting_expected"], state["voting_present"]
    check = rules.check_quorum(vote.kind, present=present, expected=expected)
    if not check.met:
        details = {"present": present, "expected": expected, "required": check.required}
        if vote.kind == Vote.Kind.ELECTION:
            message = _("%(present)d voting members are present of %(expected)d expected; an election needs at "
                        "least %(required)d (four fifths).") % details
        else:
            message = _("%(present)d voting members are present of %(expected)d expected; a vote needs at least "
                        "%(required)d (more than half).") % details
        raise Conflict(message, details=details)
    vote.status = Vote.Status.OPEN
    vote.voting_expected, vote.present_at_open, vote.required_present = expected, present, check.required
    vote.present_voters = sorted(uid for uid, voting in roll.expected.items() if voting and uid in connected)
    vote.opened_at = timezone.now()
    vote.save(update_fields=["status", "voting_expected", "present_at_open", "present_voters", "required_present",
                             "opened_at"])
    _publish(meeting, "vote.opened", selectors.vote_dict(vote), actor=identity)
    _audit(identity, meeting, "vote.open", vote=vote.pk, present=present, expected=expected)
    return vote


@transaction.atomic
def cast_vote(*, identity: Identity, vote_id: int, choice: str | None = None,
              candidates: list[str] | None = None) -> dict:
    """One ballot. For a secret vote nothing written here ties the voter to the choice."""
    _require_user(identity)
    # The vote row lock serialises ballots (and the unique participation row makes a
    # second ballot by the same member impossible even without it).
    vote = selectors.vote_for(identity, vote_id, for_update=True)
    meeting = vote.meeting
    if vote.status != Vote.Status.OPEN:
        raise Conflict(_("This vote is not open."))
    roll = selectors.roll_for(meeting)
    if not roll.expected.get(identity.user_id):
        raise Forbidden(_("Only full members expected at this meeting vote."))
    if identity.user_id not in selectors.connected_user_ids(meeting) or not selectors.is_admitted(identity, meeting):
        raise Forbidden(_("Only members present in the meeting vote."))
    mine = VoteParticipation.objects.filter(vote=vote, user_id=identity.user_id)
    already = mine.values_list("via", flat=True).first()
    if already == VoteParticipation.Via.PAPER:
        raise Conflict(_("You were handed a paper ballot for this vote: fill it in and put it in the ballot box."))
    if already:
        raise Conflict(_("You have already voted (or your written opinion was counted)."))
    keys = _option_keys(vote)  # read once: checks the choice, orders the sealed counts
    choices = _choices(vote, keys, choice, candidates)
    _record_choice(vote, keys, identity.user_id, choices, VoteParticipation.Via.BALLOT)
    cast = VoteParticipation.objects.filter(vote=vote).count()
    # No actor, no voter, no choice: only how many have voted.
    _publish(meeting, "vote.progress", {"vote": vote.pk, "cast": cast, "of": vote.voting_expected})
    return {"vote": vote.pk, "voted": True}


def _elected(counts: dict[str, int], keys: list[str], seats: int, present: int) -> tuple[list[str], list[str]]:
    """More than half of the voting members at the meeting (`present`, 实到会有选举权的
    人数), the top `seats`; a tie at the cut elects none of those tied, who are returned
    second (to vote again between them)."""
    eligible = sorted((k for k in keys if rules.elected(votes=counts.get(k, 0), present=present)),
                      key=lambda k: -counts.get(k, 0))
    if len(eligible) <= seats:
        return eligible, []
    cut = counts.get(eligible[seats - 1], 0)
    if counts.get(eligible[seats], 0) == cut:
        return [k for k in eligible if counts.get(k, 0) > cut], [k for k in eligible if counts.get(k, 0) == cut]
    return eligible[:seats], []


@transaction.atomic
def close_vote(*, identity: Identity, vote_id: int) -> Vote:
    _require_user(identity)
    meeting = _meeting(identity, selectors.vote_for(identity, vote_id).meeting_id)  # meeting, then vote
    vote = selectors.vote_for(identity, vote_id, for_update=True)
    _require_host(identity, meeting)
    if vote.status != Vote.Status.OPEN:
        raise Conflict(_("This vote is not open."))
    participations = VoteParticipation.objects.filter(vote=vote)
    issued = participations.filter(via=VoteParticipation.Via.PAPER).count()
    paper = PaperCount.objects.filter(vote=vote).first()
    if issued and paper is None:
        raise Conflict(_("%(n)d paper ballots were handed out and the ballot box is not counted yet: enter its count "
                         "before closing the vote.") % {"n": issued})
    keys = _option_keys(vote)
    counts = {key: 0 for key in keys}
    if vote.secret:
        tally, sealed_counts = _open_tally(vote, keys)  # before any write: a refusal leaves the vote open
        counts.update(sealed_counts)
        tally.delete()  # the counts now go into `result`, in clear by design
    else:
        for choices in OpenBallot.objects.filter(vote=vote).values_list("choices", flat=True):
            for key in choices:
                counts[key] = counts.get(key, 0) + 1
    # 另选他人: those written in appear in the result only when a ballot named them.
    written_in = set(vote.options.filter(write_in=True).values_list("key", flat=True))
    counts = {key: n for key, n in counts.items() if n or key not in written_in}
    expected = vote.voting_expected or 0
    present_now = selectors.quorum_state(selectors.roll_for(meeting), selectors.connected_user_ids(meeting))
    result = {
        "counts": counts,
        # Paper ballots count as they came back out of the box, not as they were handed out.
        "ballots": participations.count() - issued + (paper.returned if paper else 0),
        "written": participations.filter(via=VoteParticipation.Via.WRITTEN).count(),
        "quorum_met": (vote.present_at_open or 0) >= (vote.required_present or 1) and expected > 0,
        "present_at_close": present_now["voting_present"],
    }
    # More ballots came back than were handed out: the vote is void and is held again
    # (as the rules on elections have it; for a motion too, since the count is unsound).
    void = paper is not None and paper.returned > issued
    if paper is not None:
        result["paper"] = {"issued": issued, "returned": paper.returned, "invalid": paper.invalid,
                           "scrutineers": [person(u) for u in get_user_model().objects.filter(
                               pk__in=paper.scrutineers).order_by("pk")]}
        paper.delete()
    if void:
        result["void"] = True
    if vote.kind == Vote.Kind.MOTION:
        vote.passed = not void and rules.motion_passes(yes=counts.get("yes", 0), expected=expected)
    else:
        # 实到会有选举权的人数: those present when it opened, and any who came later and voted.
        voters = set(participations.exclude(via=VoteParticipation.Via.WRITTEN).values_list("user_id", flat=True))
        result["voters_present"] = len(set(vote.present_voters) | voters) if vote.present_voters else max(
            vote.present_at_open or 0, len(voters))  # opened before the ids were kept
        elected, tied = _elected(counts, [k for k in keys if k != "abstain"], vote.seats, result["voters_present"])
        if void:
            elected, tied = [], []
        result["elected"] = elected
        result["tie"] = bool(tied)
        result["tied"] = tied
        vote.passed = bool(elected)
    vote.result = result
    vote.status = Vote.Status.CLOSED
    vote.closed_at = timezone.now()
    vote.save(update_fields=["result", "passed", "status", "closed_at"])
    _publish(meeting, "vote.closed", selectors.vote_dict(vote), actor=identity)
    _audit(identity, meeting, "vote.close", vote=vote.pk, passed=vote.passed)
    return vote


# -- attendance, from the stream's presence ----------------------------------------------------


@transaction.atomic
def record_join(*, meeting_id: int, user_id: int, at: datetime) -> AttendanceInterval | None:
    """A participant's first socket joined `meeting:<id>` (seen by the hub's presence).

    Only admitted participants of a running meeting get an interval; a reconnect within
    60 s of the last leave continues that interval.
    """
    meeting = Meeting.objects.select_for_update(of=("self",)).select_related("branch").filter(pk=meeting_id).first()
    if meeting is None or not meeting.is_running:
        return None
    return _record_join(meeting, user_id, at)


def _record_join(meeting: Meeting, user_id: int, at: datetime) -> AttendanceInterval | None:
    p = Participant.objects.filter(meeting=meeting, user_id=user_id).first()
    if p is None:
        # Hosts and the minute-taker may subscribe without asking to join first.
        member = Identity(kind="user", user_id=user_id)
        if not (selectors.is_host(member, meeting) or selectors.is_minute_taker(member, meeting)):
            return None
        p = Participant.objects.create(meeting=meeting, user_id=user_id, state=Participant.State.ADMITTED,
                                       requested_at=at)
    if p.state != Participant.State.ADMITTED:
        return None
    online = AttendanceInterval.objects.filter(meeting=meeting, user_id=user_id, in_room=False)
    if online.filter(left_at__isnull=True).exists():
        return None  # already here (another tab, another process)
    last = online.order_by("-joined_at").first()
    resumed = (last is not None and last.left_at is not None and at - last.left_at <= RECONNECT_GRACE
               and last.end_reason in (AttendanceInterval.EndReason.LEFT, AttendanceInterval.EndReason.HEARTBEAT))
    if resumed:
        last.left_at, last.end_reason = None, ""
        last.save(update_fields=["left_at", "end_reason"])
        interval = last
    else:
        interval = AttendanceInterval.objects.create(meeting=meeting, user_id=user_id, joined_at=at)
    roll = selectors.roll_for(meeting)
    _publish(meeting, "attendance.joined", {
        "user": person(_user(user_id)), "at": iso(at), "guest": user_id not in roll.everyone, "resumed": resumed,
        **selectors.summary(meeting, now=at, roll=roll),
    })
    return interval


@transaction.atomic
def record_leave(*, meeting_id: int, user_id: int, at: datetime, lost: bool = False) -> AttendanceInterval | None:
    """A participant's last socket left; `at` is their last sign of life when the connection was lost."""
    meeting = Meeting.objects.select_for_update(of=("self",)).select_related("branch").filter(pk=meeting_id).first()
    if meeting is None:
        return None
    interval = AttendanceInterval.objects.filter(meeting=meeting, user_id=user_id, left_at__isnull=True,
                                                 in_room=False).first()
    if interval is None:
        return None
    at = max(at, interval.joined_at)
    reason = AttendanceInterval.EndReason.HEARTBEAT if lost else AttendanceInterval.EndReason.LEFT
    interval.left_at, interval.end_reason = at, reason
    interval.save(update_fields=["left_at", "end_reason"])
    if meeting.is_running:
        _publish(meeting, "attendance.left", {
            "user": person(_user(user_id)), "at": iso(at), "reason": reason, **selectors.summary(meeting, now=at),
        })
    return interval


# -- reminders ---------------------------------------------------------------------------------


@register_periodic("meetings.reminders", every_seconds=60)
def send_due_reminders(now: datetime | None = None) -> int:
    """会议提醒: MEETING_REMINDER_MINUTES before a scheduled meeting starts, a notification
    to each person expected there who is not on approved leave (their inbox, the bell,
    the desktop, and mail if still unread; accounts/notifications.py). Returns how many
    meetings were reminded of.

    A lead is skipped for a meeting scheduled inside it (its scheduling notice just
    went out). After a server was down through several leads only the nearest is sent,
    not a "tomorrow" ten minutes before. A Reminder row, written in the notification's
    transaction, makes each go out once across processes; a meeting moved to another
    time is reminded of again."""
    leads = settings.MEETING_REMINDER_MINUTES
    if not leads:
        return 0
    now = now or timezone.now()
    reminded = 0
    meetings = (Meeting.objects.filter(status=Meeting.Status.SCHEDULED, starts_at__gt=now,
                                       starts_at__lte=now + timedelta(minutes=max(leads)))
                .select_related("branch", "chair", "minute_taker").order_by("starts_at", "id"))
    for meeting in meetings:
        due = [lead for lead in leads if meeting.starts_at - timedelta(minutes=lead) <= now
               and meeting.created_at <= meeting.starts_at - timedelta(minutes=lead)]
        sent = set(Reminder.objects.filter(meeting=meeting, starts_at=meeting.starts_at, lead_minutes__in=due)
                   .values_list("lead_minutes", flat=True))
        todo = [lead for lead in due if lead not in sent]
        if not todo:
            continue
        on_leave = selectors.approved_leave(meeting)
        expected = [uid for uid in _expected_ids(meeting) if uid not in on_leave]
        recipients = list(get_user_model().objects.filter(pk__in=expected, is_active=True).values_list("pk", flat=True))
        try:
            with transaction.atomic():
                Reminder.objects.bulk_create([
                    Reminder(meeting=meeting, lead_minutes=lead, starts_at=meeting.starts_at, sent_at=now,
                             recipients=len(recipients)) for lead in todo])
                _notify(recipients, "meeting.reminder", {"meeting": meeting.to_dict(), "minutes": min(todo)})
        except IntegrityError:
            continue  # another process sent it first
        reminded += 1
    return reminded
