"""我的数据: a member downloads a copy of what Branchline keeps about them, as one JSON
file from 我的账号 (the right to a copy of one's personal information, PIPL art. 45;
Discourse's and Zulip's "download my data").

Each app says what it keeps about a person in a `personal_data` module of its own, with
`@part("name")` functions of the user; `collect` runs them all. A part holds what the
member wrote, chose or did, and what was recorded about them (logins, attendance), in
the words and ids the site uses. Never in it: secrets (the password's hash, the
two-step key, recovery codes, passkeys' public keys, session keys) or other people's
data beyond the names and titles that give the member's own context.

Downloading asks for the password again (as changing it does: a wrong one counts as a
failed login) and is itself a security notice (accounts/security.py), so a copy taken
through a stolen session does not go unnoticed.
"""

from __future__ import annotations

from typing import Callable

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from realtime.frames import iso

FORMAT = 1  # bumped when a part changes shape

_parts: dict[str, Callable] = {}


def part(name: str):
    """Register `fn(user) -> JSON-able` as the part `name` of the download."""

    def register(fn: Callable) -> Callable:
        _parts[name] = fn
        return fn

    return register


def collect(user) -> dict:
    autodiscover_modules("personal_data")  # each app's parts (once; later calls find them imported)
    data = {"format": FORMAT, "exported_at": iso(timezone.now()), "user_id": user.pk}
    for name in sorted(_parts):
        data[name] = _parts[name](user)
    return data


def when(moment) -> str | None:
    return iso(moment) if moment else None


# -- accounts' own parts -------------------------------------------------------------------


@part("account")
def _account(user) -> dict:
    from .models import MailSettings
    from .notification_mail import KINDS

    wants = MailSettings.objects.filter(user=user).first() or MailSettings()
    return {
        "username": user.get_username(), "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "date_joined": when(user.date_joined), "last_login": when(user.last_login),
        "settings": {"language": wants.language, "theme": wants.theme, "text_size": wants.text_size,
                     "announcements_by_email": wants.announcements,
                     "daily_digest": wants.digest, "digest_hour": wants.digest_hour, "weekly_summary": wants.weekly,
                     "weekly_summary_day": wants.weekly_day,
                     **{field: getattr(wants, field) for field in KINDS}},
    }


@part("memberships")
def _memberships(user) -> list:
    from .models import Membership

    return [{"branch": {"id": m.branch_id, "name": m.branch.name, "kind": m.branch.kind}, "role": m.role,
             **({"joined_party": m.since.isoformat()} if m.since else {}),  # 入党日期 (party_dates.py)
             **({"probation_extended_to": m.probation_until.isoformat()} if m.probation_until else {}),
             # 表决权、选举权和被选举权 suspended (rights.py), as recorded, lapsed or not
             **({"rights_suspended": m.rights_suspended,
                 "rights_suspended_until": m.suspended_until.isoformat() if m.suspended_until else None}
                if m.rights_suspended else {})}
            for m in Membership.objects.filter(user=user).select_related("branch").order_by("branch_id", "role")]


@part("signed_in_browsers")
def _browsers(user) -> list:
    from .models import LoginSession

    return [{"browser": s.user_agent, "ip": s.ip, "signed_in_at": when(s.created_at), "last_seen": when(s.last_seen)}
            for s in LoginSession.objects.filter(user=user).order_by("-last_seen")]


@part("security_log")
def _security_log(user) -> list:
    from .models import SecurityRecord

    return [{"kind": r.kind, "at": when(r.at), "details": r.data}
            for r in SecurityRecord.objects.filter(user=user).order_by("-at")]


@part("two_step_verification")
def _two_factor(user) -> dict:
    from .models import Passkey, TwoFactor

    setup = TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).first()
    return {
        "authenticator_app": {"on_since": when(setup.confirmed_at), "recovery_codes_left": len(setup.recovery)}
        if setup else None,
        "passkeys": [{"name": p.name, "added_at": when(p.created_at), "last_used_at": when(p.last_used_at),
                      "synced": p.backed_up} for p in Passkey.objects.filter(user=user).order_by("created_at")],
    }


@part("drafts")
def _drafts(user) -> list:
    from .models import Draft

    return [{"place": d.place, "fields": d.fields, "updated_at": when(d.updated_at)}
            for d in Draft.objects.filter(user=user).order_by("place")]


@part("notifications")
def _notifications(user) -> list:
    from realtime.models import Event

    from .notifications import TYPES
    from .streams import inbox_stream

    return [{"type": e.type, "at": when(e.created_at), "details": e.data}
            for e in Event.objects.filter(stream_id=inbox_stream(user.pk), type__in=TYPES).order_by("-seq")]
