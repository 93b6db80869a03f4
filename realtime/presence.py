"""Presence rows: who is on which stream, per process, kept fresh by heartbeats."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import PresenceEntry

# A process refreshes its rows every 30 s; rows older than this belong to a dead one.
STALE_AFTER = timedelta(seconds=90)


@transaction.atomic
def record_changes(process: str, joined: dict[str, dict[str, str]], left: dict[str, set[str]]) -> dict[str, set[str]]:
    """Write this process's joins and leaves; return the leaves that are real.

    A leave is real only when no other process still holds the identity on the
    stream (a member with two tabs on two servers stays present).
    """
    now = timezone.now()
    rows = [
        PresenceEntry(stream=stream, identity=key, name=name[:150], process=process, seen_at=now)
        for stream, people in joined.items()
        for key, name in people.items()
    ]
    if rows:
        PresenceEntry.objects.bulk_create(rows, ignore_conflicts=True)
    real: dict[str, set[str]] = {}
    fresh = now - STALE_AFTER
    for stream, keys in left.items():
        PresenceEntry.objects.filter(stream=stream, process=process, identity__in=keys).delete()
        still = set(
            PresenceEntry.objects.filter(stream=stream, identity__in=keys, seen_at__gte=fresh).values_list(
                "identity", flat=True
            )
        )
        if keys - still:
            real[stream] = keys - still
    return real


@transaction.atomic
def heartbeat(process: str, stale_after: timedelta = STALE_AFTER, seen: dict | None = None) -> dict[str, set[str]]:
    """Refresh this process's rows; drop other processes' stale rows and report them.

    `seen`, if given, receives {(stream, identity): last seen_at} of the dropped rows.
    """
    now = timezone.now()
    PresenceEntry.objects.filter(process=process).update(seen_at=now)
    stale = PresenceEntry.objects.filter(seen_at__lt=now - stale_after)
    gone: dict[str, set[str]] = {}
    for stream, key, seen_at in stale.values_list("stream", "identity", "seen_at"):
        gone.setdefault(stream, set()).add(key)
        if seen is not None:
            seen[(stream, key)] = max(seen_at, seen.get((stream, key), seen_at))
    stale.delete()
    for stream in list(gone):
        gone[stream] -= set(
            PresenceEntry.objects.filter(stream=stream, identity__in=gone[stream]).values_list("identity", flat=True)
        )
        if not gone[stream]:
            del gone[stream]
    return gone


def present_on(stream: str, local: dict[str, str]) -> list[dict]:
    fresh = timezone.now() - STALE_AFTER
    people = dict(local)
    for key, name in PresenceEntry.objects.filter(stream=stream, seen_at__gte=fresh).values_list("identity", "name"):
        people.setdefault(key, name)
    return [{"id": key, "name": name} for key, name in sorted(people.items())]
