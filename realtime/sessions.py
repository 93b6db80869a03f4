"""Which connected identities are no longer valid (logged out, deactivated, deleted)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.identity import Identity
from accounts.models import Citizen


def invalid_identities(identities: list[Identity]) -> set[Identity]:
    users = {i.user_id for i in identities if i.is_user}
    citizens = {i.citizen_id for i in identities if i.is_citizen}
    sessions = {i.session_key for i in identities if i.is_user and i.session_key}
    active = set(get_user_model().objects.filter(pk__in=users, is_active=True).values_list("pk", flat=True))
    live_sessions = set(
        Session.objects.filter(session_key__in=sessions, expire_date__gt=timezone.now()).values_list(
            "session_key", flat=True
        )
    )
    known_citizens = set(Citizen.objects.filter(pk__in=citizens).values_list("pk", flat=True))
    bad: set[Identity] = set()
    for identity in identities:
        if identity.is_user:
            if identity.user_id not in active:
                bad.add(identity)
            elif identity.session_key and identity.session_key not in live_sessions:
                bad.add(identity)
        elif identity.is_citizen and identity.citizen_id not in known_citizens:
            bad.add(identity)
    return bad
