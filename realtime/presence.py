"""Presence rows: who is on which stream, per process, kept fresh by heartbeats."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from .models import PresenceEntry

# A process refreshes its rows every 30 s; rows older than this belong to a dead one.
STALE_AFTER = timedelta(seconds=90)


@transaction.atomic
def record_changes(process: str, joined: dict[str, dict[str, str]], left: dict[str, set[str]],
                   renamed: dict[str, dict[str, str]] | None = None) -> dict[str, set[str]]:
    """Write this process's joins, leaves and new names; return the leaves that are real.

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
    for stream, people in (renamed or {}).items():
        for key, name in people.items():
            PresenceEntry.objects.filter(stream=stream, identity=key).update(name=name[:150])
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


def listed_on(stream: str, limit: int, known_count: int | None = None) -> tuple[list[tuple[str, str]] | None, int | None]:
    """Who is on the stream by the database, if that is at most `limit` people: (people,
    count); (None, count) past it. Bounded by `limit`, not by the crowd: a subscribe to
    a stream ten thousand people watch must not read (and send) all ten thousand.

    `known_count` (the hub's latest count for the stream) spares the reads when it is
    already past the limit; the count is None when only a full count would tell it.
    """
    if known_count is not None and known_count > limit:
        return None, known_count
    fresh = timezone.now() - STALE_AFTER
    rows = list(
        PresenceEntry.objects.filter(stream=stream, seen_at__gte=fresh)
        .values("identity")
        .annotate(shown=Max("name"))
        .order_by("identity")
        .values_list("identity", "shown")[: limit + 1]
    )
    if len(rows) <= limit:
        return rows, len(rows)
    return None, known_count


def view_reads(stream: str, limit: int, known_count: int | None) -> tuple[list[tuple[str, str]] | None, int]:
    """listed_on, counted in full when only that tells how many are there."""
    listed, count = listed_on(stream, limit, known_count)
    if count is None:
        count = counts_on([stream])[stream]
    return listed, count


def counts_on(streams) -> dict[str, int]:
    """How many distinct people each stream has (rows of every live process)."""
    fresh = timezone.now() - STALE_AFTER
    found = (
        PresenceEntry.objects.filter(stream__in=list(streams), seen_at__gte=fresh)
        .values("stream")
        .annotate(people=Count("identity", distinct=True))
        .values_list("stream", "people")
    )
    return {stream: 0 for stream in streams} | dict(found)


def present_on(stream: str, local: dict[str, str]) -> list[dict]:
    fresh = timezone.now() - STALE_AFTER
    people = dict(local)
    for key, name in PresenceEntry.objects.filter(stream=stream, seen_at__gte=fresh).values_list("identity", "name"):
        people.setdefault(key, name)
    return [{"id": key, "name": name} for key, name in sorted(people.items())]
