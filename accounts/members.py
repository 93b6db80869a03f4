"""A branch secretary keeps the branch's members: adds a person (a new account, or one
that already exists elsewhere), sets their standing (正式党员 or 预备党员, and whether
they moderate), takes them off the branch, and corrects a name typed wrong. Each step
is in the branch's audit log.

Who may: a secretary of the branch or of a branch above it. Never over oneself, and
over a fellow secretary only from a branch above theirs. Appointing or removing a
secretary is not done here: that is the committee's (or an administrator's) business.

A person taken off a branch, or no longer a moderator, may still have the branch's
streams open: every process is asked to check that person's subscriptions again, and
unsubscribes what they may no longer read (`realtime.ephemeral.recheck`). A person
whose name was corrected is checked the same way: their sockets reconnect at once
under the new name.
"""

from __future__ import annotations

import re
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from realtime.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound, OpError

from . import party_dates, rights
from .clock import today_in
from .identity import Identity
from .models import Branch, Membership
from .selectors import MemberRules, can_manage_branch, roster

Role = Membership.Role
STANDINGS = (Role.FULL, Role.PROBATIONARY)  # one of these; moderator besides
NAME_MAX = 150
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Sent (inside the transaction) when someone joins or leaves a branch: `branch_id`. Who
# is expected to read its announcements changed (announcements/actions.py listens).
branch_members_changed = Signal()


def _user_model():
    return get_user_model()


def _check_manager(identity: Identity, branch_id: int) -> None:
    if not can_manage_branch(identity, branch_id):
        raise Forbidden(_("Only the branch secretary may change the branch's members."))


def _clean_standing(standing: str, moderator: bool) -> list[str]:
    if standing not in STANDINGS:
        raise Invalid("standing", _("Choose full member or probationary member."))
    return [standing, Role.MODERATOR] if moderator else [standing]


def _day(value: str | date, field: str) -> date:
    """A day given as a date or as YYYY-MM-DD; anything else is refused at `field`."""
    day = value if isinstance(value, date) else None
    text = str(value).strip()
    if day is None and _DAY.match(text):
        try:
            day = parse_date(text)
        except ValueError:  # 2026-02-30
            day = None
    if day is None:
        raise Invalid(field, _("Give the day as a date, like 2026-07-01."))
    return day


def _clean_since(value: str | date | None, branch_id: int) -> date | None:
    """入党日期 (party_dates.py): a date that is not in the future on the branch's clock;
    "" or None: not recorded."""
    if value in (None, ""):
        return None
    day = _day(value, "since")
    today = today_in(branch_id)
    if day > today or day < party_dates.EARLIEST:
        raise Invalid("since", _("The day they joined the party cannot be in the future."))
    return day


def _record_since(identity: Identity, branch_id: int, user, since: date | None) -> None:
    """Keep `since` on the member's standing row here, in the audit log if it changed."""
    row = Membership.objects.filter(user_id=user.pk, branch_id=branch_id, role__in=STANDINGS).first()
    if row is None or row.since == since:
        return
    before, row.since = row.since, since
    row.save(update_fields=["since"])
    from moderation.actions import audit

    audit(actor=identity, action="member.joined_party", target_type="accounts.member", target_id=user.pk,
          branch_id=branch_id, before={"user": user.get_username(), "since": before.isoformat() if before else None},
          after={"user": user.get_username(), "since": since.isoformat() if since else None})


def _tell(user_id: int, branch_id: int, type_: str, data: dict) -> None:
    """A notice in the member's inbox about their own standing (in the caller's transaction)."""
    from . import notifications

    branch = Branch.objects.get(pk=branch_id)
    notifications.send([user_id], type_, {**data, "branch": {"id": branch.pk, "name": branch.name}})


def _record_extension(identity: Identity, branch_id: int, user, value: str | date) -> None:
    """延长预备期: the day the member's probationary period now ends ("" clears it, back
    to the year), after the year and at most a year after it; only on a probationary row
    (none: nothing to keep) with the day they joined recorded. In the audit log if it changed."""
    row = Membership.objects.filter(user_id=user.pk, branch_id=branch_id, role=Role.PROBATIONARY).first()
    if row is None:
        return  # a full member (转正 in the same step): the extension went with the probationary row
    until = None
    if value not in ("", None):
        if row.since is None:
            raise Invalid("probation_until", _("Record the day they joined the party first: the extension "
                                               "runs on from their probationary year."))
        until = _day(value, "probation_until")
        first, latest = party_dates.ends(row.since), party_dates.longest_extension(row.since)
        if not first < until <= latest:
            raise Invalid("probation_until", _("An extended probationary period ends after the year (%(first)s) "
                                               "and by %(latest)s at the latest: it is extended by a year at most.")
                          % {"first": first.isoformat(), "latest": latest.isoformat()})
    if row.probation_until == until:
        return
    before, row.probation_until = row.probation_until, until
    row.save(update_fields=["probation_until"])
    if until is not None:
        _tell(user.pk, branch_id, "party.probation_extended", {"until": until.isoformat()})
    from moderation.actions import audit

    audit(actor=identity, action="member.probation_extended", target_type="accounts.member", target_id=user.pk,
          branch_id=branch_id, before={"user": user.get_username(), "until": before.isoformat() if before else None},
          after={"user": user.get_username(), "until": until.isoformat() if until else None})


def _roles_of(user_id: int, branch_id: int) -> list[str]:
    return list(Membership.objects.filter(user_id=user_id, branch_id=branch_id).values_list("role", flat=True))


def _audit(identity: Identity, branch_id: int, action: str, user, before: list[str] | None,
           after: list[str] | None) -> None:
    from moderation.actions import audit

    audit(actor=identity, action=f"member.{action}", target_type="accounts.member", target_id=user.pk,
          branch_id=branch_id,
          before={"user": user.get_username(), "roles": sorted(before)} if before is not None else None,
          after={"user": user.get_username(), "roles": sorted(after)} if after is not None else None)


@transaction.atomic
def add_member(*, identity: Identity, branch_id: int, username: str, name: str, standing: str,
               moderator: bool = False, email: str = "", since: str | date | None = None) -> tuple[object, bool]:
    """Put a person on the branch: the account with this username if there is one (its
    name and address stay as they are), else a new one, without a password (the
    secretary then gives them a link to set it). `since`: the day they joined the party
    (party_dates.py). Returns (the user, whether it is new)."""
    _check_manager(identity, branch_id)
    roles = _clean_standing(standing, moderator)
    since = _clean_since(since, branch_id)
    username = username.strip()
    if not username:
        raise Invalid("username", _("A username is required."))
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise Invalid("username", _("A username may contain only letters, digits and @ . + - _.")) from None
    if len(username) > 150:
        raise Invalid("username", _("A username is at most 150 characters."))
    User = _user_model()
    user = User.objects.select_for_update().filter(username=username).first()
    created = user is None
    if created:
        name, email = name.strip(), email.strip()
        if not name:
            raise Invalid("name", _("A name is required."))
        if len(name) > NAME_MAX:
            raise Invalid("name", _("The name is at most %(max)d characters.") % {"max": NAME_MAX})
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise Invalid("email", _("Enter a valid e-mail address.")) from None
        user = User(username=username, first_name=name, email=email)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # made by someone else a moment ago
            raise Conflict(_("The username %(username)s was taken meanwhile; add again to join that account.")
                           % {"username": username}) from None
    else:
        if not user.is_active:
            raise Conflict(_("The account %(username)s is switched off; an administrator can switch it on.")
                           % {"username": username})
        if _roles_of(user.pk, branch_id):
            raise Conflict(_("%(name)s is a member of this branch already.")
                           % {"name": user.get_full_name() or username})
    Membership.objects.bulk_create([Membership(user=user, branch_id=branch_id, role=role,
                                               since=since if role in STANDINGS else None)
                                    for role in roles])
    _audit(identity, branch_id, "add", user, None, roles)
    branch_members_changed.send(sender=None, branch_id=branch_id)
    return user, created


IMPORT_MAX = 200
_STANDING_WORDS = {
    "": Role.FULL, "full": Role.FULL, "正式": Role.FULL, "正式党员": Role.FULL,
    "probationary": Role.PROBATIONARY, "预备": Role.PROBATIONARY, "预备党员": Role.PROBATIONARY,
}


class ImportRefused(BadRequest):
    """Some lines of an import could not be taken; nothing was added. `lines`: (line
    number, the line, why)."""

    def __init__(self, lines: list[tuple[int, str, str]]):
        super().__init__(_("Nothing was added: correct the lines below and import again."))
        self.lines = lines


def parse_member_lines(text: str) -> list[tuple[int, str, dict]]:
    """One person a line: username, name, standing (正式 / 预备; empty: full member),
    e-mail (optional), separated by tabs (as copied from a spreadsheet) or commas.
    Empty lines and lines starting with # are skipped. Returns (line number, line,
    fields) for the others."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        separator = "\t" if "\t" in stripped else ","
        parts = [part.strip() for part in stripped.replace("，", ",").split(separator)]
        parts += [""] * (4 - len(parts))
        rows.append((number, stripped, {"username": parts[0], "name": parts[1], "standing_word": parts[2],
                                        "email": parts[3], "extra": parts[4:]}))
    return rows


@transaction.atomic
def import_members(*, identity: Identity, branch_id: int, text: str) -> list[tuple[object, bool]]:
    """Add many people at once (parse_member_lines), all or none: a line that cannot be
    taken refuses the whole import, with every such line and why."""
    _check_manager(identity, branch_id)
    rows = parse_member_lines(text)
    if not rows:
        raise Invalid("lines", _("Write one person a line."))
    if len(rows) > IMPORT_MAX:
        raise Invalid("lines", _("At most %(max)d people at a time.") % {"max": IMPORT_MAX})
    added, refused, seen = [], [], set()
    for number, line, row in rows:
        standing = _STANDING_WORDS.get(row["standing_word"].lower())
        if any(row["extra"]):
            refused.append((number, line, _("Too many fields: username, name, standing, e-mail.")))
            continue
        if standing is None:
            refused.append((number, line, _("Write 正式 or 预备 (or leave it empty) for the standing.")))
            continue
        if row["username"] in seen:
            refused.append((number, line, _("This username is on an earlier line too.")))
            continue
        seen.add(row["username"])
        try:  # add_member's own atomic block is a savepoint: a refusal undoes that line only
            added.append(add_member(identity=identity, branch_id=branch_id, username=row["username"],
                                    name=row["name"], standing=standing, email=row["email"]))
        except OpError as error:
            refused.append((number, line, error.message))
    if refused:
        raise ImportRefused(refused)  # and the transaction rolls back what was added
    return added


def _member_here(identity: Identity, branch_id: int, user_id: int):
    _check_manager(identity, branch_id)
    user = _user_model().objects.filter(pk=user_id).first()
    roles_here = _roles_of(user_id, branch_id) if user else []
    if not roles_here:
        raise NotFound(_("There is no such member in this branch."))
    reason = MemberRules(identity).keeping_refusal(user, branch_id, roles_here)
    if reason:
        raise Forbidden(reason)
    return user, roles_here


SUSPENDED_LONGEST = 2  # years: 留党察看 is for one year or two


def _record_suspension(identity: Identity, branch_id: int, user, reason: str, until: str | date | None) -> None:
    """表决权、选举权和被选举权 (accounts/rights.py): suspended on the member's full row,
    why, and for 留党察看 until the day they return (after today, two years ahead at
    most); detention has no set end. "" restores them. In the audit log if it changed."""
    if reason not in Membership.Suspension.values:
        raise Invalid("rights_suspended", _("Choose why the rights are suspended: 留党察看, or detained or "
                                            "arrested under the law."))
    row = Membership.objects.filter(user_id=user.pk, branch_id=branch_id, role=Role.FULL).first()
    if row is None:
        if reason:
            raise Invalid("rights_suspended", _("Only a full member's rights are suspended: a probationary member "
                                                "has no vote, and cannot elect or be elected."))
        return
    day = None
    if reason == Membership.Suspension.DISCIPLINE:
        if until in (None, ""):
            raise Invalid("suspended_until", _("Give the day 留党察看 ends, when the rights return."))
        day = _day(until, "suspended_until")
        today = today_in(branch_id)
        latest = party_dates.in_year(today, today.year + SUSPENDED_LONGEST)
        if not today < day <= latest:
            raise Invalid("suspended_until", _("留党察看 lasts a year or two: it ends after today and by %(latest)s "
                                               "at the latest.") % {"latest": latest.isoformat()})
    elif reason and until not in (None, ""):
        raise Invalid("suspended_until", _("Detention has no set end: leave the day empty, and restore the rights "
                                           "here when it ends."))
    before = {"reason": row.rights_suspended, "until": row.suspended_until.isoformat() if row.suspended_until else None}
    after = {"reason": reason, "until": day.isoformat() if day else None}
    if before == after:
        return
    row.rights_suspended, row.suspended_until = reason, day
    row.save(update_fields=["rights_suspended", "suspended_until"])
    from moderation.actions import audit

    audit(actor=identity, action="member.rights_suspended", target_type="accounts.member", target_id=user.pk,
          branch_id=branch_id, before={"user": user.get_username(), **before},
          after={"user": user.get_username(), **after})


@transaction.atomic
def set_standing(*, identity: Identity, branch_id: int, user_id: int, standing: str, moderator: bool,
                 since: str | date | None = None, probation_until: str | date | None = None,
                 rights_suspended: str | None = None, suspended_until: str | date | None = None) -> list[str]:
    """转正 and the like: the member's standing here, and whether they moderate. A
    secretary's own role here stays. `since` (the day they joined the party,
    party_dates.py; "" clears it): kept when not given, from one standing to the other
    too. `probation_until` (延长预备期: the day an extended probationary period ends; ""
    clears it): kept when not given; it goes with the probationary standing.
    `rights_suspended` (accounts/rights.py: "discipline" with `suspended_until`,
    "detained", or "" to restore them): kept when not given; it goes with the full
    standing. Returns the roles the member now has here."""
    user, before = _member_here(identity, branch_id, user_id)
    wanted = set(_clean_standing(standing, moderator)) | ({Role.SECRETARY} & set(before))
    day = _clean_since(since, branch_id) if since is not None else None
    if wanted != set(before):
        kept = party_dates.joined_on(user_id, branch_id)  # read before the old standing row goes
        until = (Membership.objects.filter(user_id=user_id, branch_id=branch_id, role=Role.PROBATIONARY)
                 .values_list("probation_until", flat=True).first())
        Membership.objects.filter(user_id=user_id, branch_id=branch_id).exclude(role__in=wanted).delete()
        Membership.objects.bulk_create([Membership(user_id=user_id, branch_id=branch_id, role=role,
                                                   since=kept if role in STANDINGS else None)
                                        for role in wanted - set(before)])
        _audit(identity, branch_id, "roles", user, before, sorted(wanted))
        _recheck_later(user_id)
        if Role.PROBATIONARY in before and Role.FULL in wanted and Role.PROBATIONARY not in wanted:
            # 转正: the member hears of it; their full membership counts from the day the
            # probationary period ended, when the day they joined is recorded.
            _tell(user_id, branch_id, "party.full_member", {
                "from": party_dates.probation_ends(kept, until).isoformat() if kept else None})
    if since is not None:
        _record_since(identity, branch_id, user, day)
    if probation_until is not None:
        _record_extension(identity, branch_id, user, probation_until)
    if rights_suspended is not None:
        _record_suspension(identity, branch_id, user, rights_suspended, suspended_until)
    return sorted(wanted)


@transaction.atomic
def remove_member(*, identity: Identity, branch_id: int, user_id: int) -> None:
    """Take a person off the branch (the account stays, with its other branches). Their
    open pages stop getting the branch's streams."""
    user, before = _member_here(identity, branch_id, user_id)
    Membership.objects.filter(user_id=user_id, branch_id=branch_id).delete()
    _audit(identity, branch_id, "remove", user, before, None)
    branch_members_changed.send(sender=None, branch_id=branch_id)
    _recheck_later(user_id)


@transaction.atomic
def correct_name(*, identity: Identity, branch_id: int, user_id: int, name: str):
    """更正姓名: a member's name as every page shows it, corrected by a secretary who may act
    over their whole account (MemberRules.name_refusal). Names already written into
    events and mails stay as they were; pages and new events take the new one. Returns
    the user."""
    _check_manager(identity, branch_id)
    user = _user_model().objects.select_for_update().filter(pk=user_id).first()
    memberships = list(Membership.objects.filter(user_id=user_id).values_list("branch_id", "role"))
    if user is None or all(branch_of != branch_id for branch_of, _role in memberships):
        raise NotFound(_("There is no such member in this branch."))
    reason = MemberRules(identity).name_refusal(user, memberships)
    if reason:
        raise Forbidden(reason)
    name = name.strip()
    if not name:
        raise Invalid("name", _("A name is required."))
    if len(name) > NAME_MAX:
        raise Invalid("name", _("The name is at most %(max)d characters.") % {"max": NAME_MAX})
    before = user.get_full_name()
    if name == before and not user.last_name:
        return user
    user.first_name, user.last_name = name, ""  # one field: a Chinese name is not split in two
    user.save(update_fields=["first_name", "last_name"])
    from moderation.actions import audit

    audit(actor=identity, action="member.name", target_type="accounts.member", target_id=user.pk,
          branch_id=branch_id, before={"user": user.get_username(), "name": before},
          after={"user": user.get_username(), "name": name})
    _recheck_later(user.pk)  # their open pages reconnect under the new name, at once
    return user


def membership_changed(*, user_id: int, branch_id: int) -> None:
    """Inside the transaction that changed someone's place in a branch elsewhere than
    here (the Django admin): what this module does after its own changes. Once it
    commits, the person's open pages keep only what they may still read, and the
    branch's secretaries see the new read counts."""
    branch_members_changed.send(sender=None, branch_id=branch_id)
    _recheck_later(user_id)


def _recheck_later(user_id: int) -> None:
    from realtime.ephemeral import recheck

    from .streams import inbox_stream

    # Every page of a signed-in member follows their inbox (the header's count), so
    # the inbox's group reaches each process that has one of their sockets.
    transaction.on_commit(lambda: recheck(f"u:{user_id}", via=inbox_stream(user_id)))


def roster_records(identity: Identity, branch_id: int) -> tuple[bool, list[dict]]:
    """花名册: the members page's list as records, for a spreadsheet or a script: each
    member's id, name and roles (codes, in ROLE_ORDER) for everyone who reads the branch;
    for its secretaries (the first of the pair says so) also their username, whether an
    e-mail address is on file (not the address), their last login, whether two-step
    verification is on, the day they joined the party, for a probationary member the
    day their probationary period ends (the year or as extended, party_dates.py; None if
    not recorded), and whether their rights to vote, elect and be elected are suspended
    (accounts/rights.py: why and until when; None if not). Forbidden for anyone else."""
    from . import two_factor

    people = roster(identity, branch_id)
    secretary = can_manage_branch(identity, branch_id)
    verified = two_factor.enabled_among(person["user"].pk for person in people) if secretary else set()
    joined = dict(Membership.objects.filter(branch_id=branch_id, role__in=STANDINGS)
                  .values_list("user_id", "since")) if secretary else {}
    extended = party_dates.extended(branch_id) if secretary else {}
    suspended = rights.suspended(branch_id) if secretary else {}
    records = []
    for person in people:
        user = person["user"]
        record = {"id": user.pk, "name": person["name"], "roles": person["role_codes"]}
        if secretary:
            since = joined.get(user.pk)
            probationary = Role.PROBATIONARY in person["role_codes"]
            record.update(username=user.get_username(), email_on_file=bool(user.email),
                          last_login=user.last_login, two_factor=user.pk in verified, joined_party=since,
                          probation_ends=party_dates.probation_ends(since, extended.get(user.pk))
                          if since and probationary else None, rights_suspended=suspended.get(user.pk))
        records.append(record)
    return secretary, records
