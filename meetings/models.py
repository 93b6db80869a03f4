"""Branch meetings (三会一课): schedule, roll, lobby, attendance, agenda, chat, votes.

Rules that matter for trust live here as data and constraints; the arithmetic is in
attendance.py and quorum.py, and every write goes through actions.py.

Secret ballots: `VoteParticipation` records that a member voted; `SealedTally` holds
the vote's running counts sealed with the server's key (sealing.py: no user, no time,
opaque bytes of one length), so no stored version of it, old row versions and
backups included, says what a ballot added. The counts are in clear only in
`Vote.result`, once the vote is closed. See docs/protocol.md, "Meetings".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from realtime.frames import iso


def _iso(dt) -> str | None:
    return iso(dt) if dt is not None else None


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


class CommitteeMember(models.Model):
    """支部委员: a seat on the branch committee (the secretary is always on it too).

    Committee meetings (支委会) expect the branch's secretaries plus these rows.
    """

    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.CASCADE, related_name="committee_seats", verbose_name=_("branch")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    title = models.CharField(_("title"), max_length=60, blank=True)  # 组织委员, 宣传委员, 纪检委员 ...

    class Meta:
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        constraints = [models.UniqueConstraint(fields=["branch", "user"], name="committeemember_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.branch} ({self.title})"


class Meeting(models.Model):
    class Kind(models.TextChoices):
        GENERAL = "general", _("general meeting")
        COMMITTEE = "committee", _("committee meeting")
        GROUP = "group", _("group meeting")
        LECTURE = "lecture", _("party lecture")
        OTHER = "other", _("other meeting")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        OPEN = "open", _("open (lobby)")
        LIVE = "live", _("live")
        ENDED = "ended", _("ended")
        CANCELLED = "cancelled", _("cancelled")

    class LobbyPolicy(models.TextChoices):
        INVITED = "invited", _("expected attendees enter, others wait")
        EVERYONE = "everyone", _("everyone but the hosts waits")
        OPEN = "open", _("everyone who may see the meeting enters")

    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.CASCADE, related_name="meetings", verbose_name=_("branch")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    online = models.BooleanField(_("online"), default=True)
    # Stored in UTC; entered and shown in the branch's time zone.
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("chair")
    )
    minute_taker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("minute-taker"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED, db_index=True
    )
    locked = models.BooleanField(_("locked"), default=False)
    lobby_policy = models.CharField(
        _("lobby policy"), max_length=16, choices=LobbyPolicy.choices, default=LobbyPolicy.INVITED
    )
    late_grace_minutes = models.PositiveSmallIntegerField(_("late after (minutes)"), default=5)
    all_muted = models.BooleanField(default=False)
    current_item = models.ForeignKey("AgendaItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["branch", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def stream(self) -> str:
        return f"meeting:{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.LIVE)

    def to_dict(self) -> dict:
        zone = self.branch.zone
        return {
            "id": self.pk,
            "branch": {"id": self.branch_id, "name": self.branch.name, "time_zone": self.branch.time_zone},
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "place": self.place,
            "online": self.online,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "starts_local": self.starts_at.astimezone(zone).isoformat(),
            "ends_local": self.ends_at.astimezone(zone).isoformat(),
            "chair": person(self.chair),
            "minute_taker": person(self.minute_taker),
            "status": self.status,
            "locked": self.locked,
            "lobby_policy": self.lobby_policy,
            "late_grace_minutes": self.late_grace_minutes,
            "all_muted": self.all_muted,
            "current_item": self.current_item_id,
            "opened_at": _iso(self.opened_at),
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "cancel_reason": self.cancel_reason,
            "stream": self.stream,
        }


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position"]
        constraints = [models.UniqueConstraint(fields=["meeting", "position"], name="agendaitem_position")]

    def __str__(self) -> str:
        return self.title

    def to_dict(self) -> dict:
        return {
            "id": self.pk,
            "position": self.position,
            "title": self.title,
            "notes": self.notes,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
        }


class RollEntry(models.Model):
    """应到: who was expected, frozen when the meeting goes live (memberships may change later)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="roll")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=150)
    voting = models.BooleanField()  # a full member (正式党员); probationary members never vote

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="rollentry_unique")]


class Exclusion(models.Model):
    """不计入应到会人数: only for the recognised reasons, approved by a secretary."""

    class Reason(models.TextChoices):
        LONG_ILLNESS = "long_illness", _("long-term serious illness")
        ABROAD = "abroad", _("abroad for more than six months")
        SENTENCE = "sentence", _("serving a sentence")
        BEDRIDDEN = "bedridden", _("elderly, infirm or bedridden")
        AWAY_UNTRANSFERRED = "away_untransferred", _("away for more than six months without transferring")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="exclusions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField()

    class Meta:
        verbose_name = _("exclusion from the expected count")
        verbose_name_plural = _("exclusions from the expected count")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="exclusion_unique")]

    def to_dict(self) -> dict:
        return {
            "id": self.pk,
            "meeting": self.meeting_id,
            "user": person(self.user),
            "reason": self.reason,
            "note": self.note,
            "approved_by": person(self.approved_by),
            "approved_at": iso(self.approved_at),
        }


class LeaveRequest(models.Model):
    """请假: approved leave marks the member excused; it does NOT reduce 应到."""

    class Status(models.TextChoices):
        # In their own context: "pending" and "approved" are also a post's review states
        # (待审核, 已通过), where a leave request is 待审批, 已批准.
        PENDING = "pending", pgettext_lazy("leave request", "pending")
        APPROVED = "approved", pgettext_lazy("leave request", "approved")
        DECLINED = "declined", pgettext_lazy("leave request", "declined")
        WITHDRAWN = "withdrawn", pgettext_lazy("leave request", "withdrawn")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="leave_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="leaverequest_unique")]

    def to_dict(self) -> dict:
        return {
            "id": self.pk,
            "meeting": self.meeting_id,
            "user": person(self.user),
            "reason": self.reason,
            "status": self.status,
            "submitted_at": iso(self.submitted_at),
            "decided_by": person(self.decided_by),
            "decided_at": _iso(self.decided_at),
            "decision_note": self.decision_note,
        }


class Reminder(models.Model):
    """会议提醒 sent: one row per meeting, lead and start time, so each goes out once
    across processes and restarts, and again if the meeting is moved to another time."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    lead_minutes = models.PositiveIntegerField()
    starts_at = models.DateTimeField()  # the start it reminded of
    sent_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "lead_minutes", "starts_at"],
                                               name="reminder_once_per_start")]


class CalendarFeed(models.Model):
    """日历订阅: a member's private address for their meetings as an iCalendar feed
    (calendar_feed.py). The address's token is looked up by its SHA-256 and kept
    otherwise only sealed under the server's key, bound to its member, so that the page
    can show it again while a dump of the database alone does not give it away."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sealed_token = models.BinaryField(editable=False)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)  # a calendar's last fetch (to the minute or so)
    # A secretary's choice: also every meeting of the branches below those they are the
    # secretary of (to plan attending them, 列席指导), shown as free time.
    below = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("calendar link")
        verbose_name_plural = _("calendar links")

    def __str__(self) -> str:
        return str(self.user)


class Participant(models.Model):
    """Someone who asked to join (or was let in): lobby state, hand, mute, floor."""

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting in the lobby")
        ADMITTED = "admitted", _("admitted")
        DENIED = "denied", _("denied")
        REMOVED = "removed", _("removed")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    hand_raised_at = models.DateTimeField(null=True, blank=True)
    muted = models.BooleanField(default=False)
    has_floor = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="participant_unique")]
        indexes = [models.Index(fields=["meeting", "hand_raised_at"])]

    def to_dict(self) -> dict:
        return {
            "user": person(self.user),
            "state": self.state,
            "hand_raised_at": _iso(self.hand_raised_at),
            "muted": self.muted,
            "has_floor": self.has_floor,
        }


class AttendanceInterval(models.Model):
    """One stay on the meeting stream, opened and closed by the server's clock.

    A reconnect within 60 s reopens the last interval instead of starting a new one.
    `in_room`: a stay in the meeting's room, recorded by the chair, a host or the
    minute-taker (现场签到, actions.check_in) rather than by a socket; it runs beside
    the person's online stays, and the calculus merges the two.
    """

    class EndReason(models.TextChoices):
        LEFT = "left", _("left")
        HEARTBEAT = "heartbeat", _("connection lost")
        REMOVED = "removed", _("removed")
        ENDED = "ended", _("meeting ended")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="intervals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    in_room = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["meeting", "user", "joined_at"])]


class ChatMessage(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", _("visible")
        PENDING = "pending", _("pending review")
        HIDDEN = "hidden", _("hidden")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="chat")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=2000)  # as written (moderators see it)
    shown = models.TextField(max_length=2000)  # censored words masked
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VISIBLE)
    created_at = models.DateTimeField()

    def to_dict(self, *, moderator: bool = False) -> dict:
        data = {
            "id": self.pk,
            "meeting": self.meeting_id,
            "author": person(self.author),
            "body": self.shown,
            "status": self.status,
            "created_at": iso(self.created_at),
        }
        if moderator:
            data["source"] = self.body
        return data


class Remark(models.Model):
    """What the minute-taker notes (发言要点, decisions in words) for the minutes."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="remarks")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=10_000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def to_dict(self) -> dict:
        return {
            "id": self.pk,
            "agenda_item": self.agenda_item_id,
            "author": person(self.author),
            "text": self.text,
            "created_at": iso(self.created_at),
        }


class MinutesSignature(models.Model):
    """记录签字: after the meeting, the chair and the minute-taker each confirm the minutes
    (as they sign the paper record, 台账). Once everyone required has signed, the record
    is final: nothing more is added to it (actions.sign_minutes, reopen_minutes)."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("chair")
        MINUTE_TAKER = "minute_taker", _("minute-taker")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="signatures")
    role = models.CharField(max_length=16, choices=Role.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "role"], name="minutes_signed_once_per_role")]

    def to_dict(self) -> dict:
        return {"role": self.role, "user": person(self.user), "at": iso(self.at)}


class Vote(models.Model):
    """A motion (for/against/abstain) or an election (candidates), open or secret."""

    class Kind(models.TextChoices):
        MOTION = "motion", _("motion")
        ELECTION = "election", _("election")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="votes")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=300)
    secret = models.BooleanField(default=False)
    seats = models.PositiveSmallIntegerField(default=1)  # elections: how many to elect
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Recorded when it opens (the numbers the quorum rule used) and closes (the result).
    voting_expected = models.PositiveIntegerField(null=True, blank=True)
    present_at_open = models.PositiveIntegerField(null=True, blank=True)
    # Who they were (user ids): an election's majority is of the voting members at the
    # meeting (实到会有选举权的人数), those who came after it opened and voted added.
    present_voters = models.JSONField(default=list, blank=True)
    required_present = models.PositiveIntegerField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)  # {"counts": {key: n}, "ballots": n, ...}
    passed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class VoteOption(models.Model):
    """yes / no / abstain for a motion; one row per candidate (and abstain) for an election,
    and one per full member of the branch who is not a candidate, whom a ballot may name
    instead (另选他人, `write_in`)."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="options")
    key = models.CharField(max_length=16)  # "yes", "no", "abstain", "c1", "c2", ..., "w1", "w2", ...
    label = models.CharField(max_length=150)
    candidate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField()
    write_in = models.BooleanField(default=False)

    class Meta:
        ordering = ["vote", "position"]
        constraints = [models.UniqueConstraint(fields=["vote", "key"], name="voteoption_unique")]


class VoteParticipation(models.Model):
    """That a member voted (or that their written opinion was entered), never what they chose.

    No timestamp on purpose: nothing here may be lined up with a choice.
    """

    class Via(models.TextChoices):
        BALLOT = "ballot", _("ballot")
        WRITTEN = "written", _("written opinion")
        HANDS = "hands", _("show of hands in the room")  # an open ballot only, entered by the chair
        # A secret ballot only: handed a paper ballot in the room (counted from the box, PaperCount).
        PAPER = "paper", _("paper ballot in the room")

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(max_length=16, choices=Via.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "user"], name="voteparticipation_once")]


class OpenBallot(models.Model):
    """An open (named) vote's choice: linked to the voter by design."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="open_ballots")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choices = models.JSONField()  # option keys
    via = models.CharField(max_length=16, choices=VoteParticipation.Via.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "user"], name="openballot_once")]


class PaperCount(models.Model):
    """The count of a secret vote's ballot box in the room (纸质选票), entered by the chair.

    The ballots handed out are the vote's `paper` participations. What the box held is
    here: how many came back and how many of those were spoilt, in clear (they are said in
    the room and go in the minutes), and the choices on the valid ones, sealed like the
    tally (sealing.py) into which they were added, so that a recount entered before the
    close can take them out again. Deleted when the vote closes: the result keeps the
    numbers, and no one needs the paper ballots' own share of the counts after that.
    """

    vote = models.OneToOneField(Vote, primary_key=True, on_delete=models.CASCADE, related_name="paper_count")
    returned = models.PositiveIntegerField()
    invalid = models.PositiveIntegerField()
    sealed = models.BinaryField()  # empty when more came back than were handed out (the vote is void)
    # 监票人: voting members, not candidates, who watched the count (user ids), for the minutes.
    scrutineers = models.JSONField(default=list)


class SealedTally(models.Model):
    """A secret vote's running counts, sealed (sealing.py); one row per vote, no user, no time.

    Each ballot replaces `sealed` with a fresh seal (new nonce) of the new counts: every
    version looks unrelated to the one before and has the same length, so neither that
    a ballot's transaction wrote this row nor what it wrote says anything without the
    key. Deleted when the vote closes: the counts are then in `Vote.result`.
    """

    vote = models.OneToOneField(Vote, primary_key=True, on_delete=models.CASCADE, related_name="sealed_tally")
    sealed = models.BinaryField()
