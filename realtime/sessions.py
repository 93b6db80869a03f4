"""Which connected identities are no longer valid (logged out, deactivated, deleted), and
which no longer say who the person is now (a secretary corrected their name, an
administrator changed their staff flag, a citizen renamed themselves)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.identity import Identity, identity_for_citizen, identity_for_user
from accounts.models import Citizen


def invalid_identities(identities: list[Identity]) -> set[Identity]:
    return check_identities(identities)[0]


def check_identities(identities: list[Identity]) -> tuple[set[Identity], set[Identity]]:
    """(invalid, changed): a changed one is still valid, but its socket holds an old
    copy of the person (the name others see in presence and in what it writes)."""
    users = {i.user_id for i in identities if i.is_user}
    citizens = {i.citizen_id for i in identities if i.is_citizen}
    sessions = {i.session_key for i in identities if i.is_user and i.session_key}
    fields = ("pk", "username", "first_name", "last_name", "is_staff", "is_active")
    active = {u.pk: u for u in get_user_model().objects.filter(pk__in=users, is_active=True).only(*fields)}
    live_sessions = set(
        Session.objects.filter(session_key__in=sessions, expire_date__gt=timezone.now()).values_list(
            "session_key", flat=True
        )
    )
    known_citizens = {c.pk: c for c in Citizen.objects.filter(pk__in=citizens)}
    bad: set[Identity] = set()
    changed: set[Identity] = set()
    for identity in identities:
        if identity.is_user:
            if identity.user_id not in active:
                bad.add(identity)
            elif identity.session_key and identity.session_key not in live_sessions:
                bad.add(identity)
            elif identity_for_user(active[identity.user_id], identity.session_key) != identity:
                changed.add(identity)
        elif identity.is_citizen:
            if identity.citizen_id not in known_citizens:
                bad.add(identity)
            elif identity_for_citizen(known_citizens[identity.citizen_id]) != identity:
                changed.add(identity)
    return bad, changed
