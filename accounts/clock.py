"""Branch clocks. Times typed on a branch's clock (定时发布, 置顶至): ISO 8601, read in the
branch's zone when they carry no offset, and checked to lie ahead, but not too far. And
a member's own clock, for what is sent to them (mail, the daily digest): their first
branch's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from realtime.errors import Invalid

from .models import Branch, Membership


def moment_ahead(branch_id: int, value: object, *, field: str, latest: timedelta, unreadable: str, passed: str,
                 too_far: str) -> datetime:
    """`value` as an aware time, later than now and at most `latest` ahead; otherwise
    Invalid on `field` with the message that says which (the caller's words)."""
    try:
        moment = datetime.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise Invalid(field, unreadable)
    if timezone.is_naive(moment):
        branch = Branch.objects.filter(pk=branch_id).first()
        moment = timezone.make_aware(moment, branch.zone if branch else timezone.get_default_timezone())
    now = timezone.now()
    if moment <= now:
        raise Invalid(field, passed)
    if moment > now + latest:
        raise Invalid(field, too_far)
    return moment


def today_in(branch_id: int) -> date:
    """Today on the branch's clock."""
    return timezone.localdate(timezone.now(), Branch.objects.get(pk=branch_id).zone)


def member_zones(user_ids) -> dict[int, str]:
    """Each member's clock: their first branch's zone (the server's for none). One query."""
    zones: dict[int, str] = {}
    rows = Membership.objects.filter(user_id__in=list(user_ids)).order_by("branch_id")
    for user_id, zone in rows.values_list("user_id", "branch__time_zone"):
        zones.setdefault(user_id, zone)
    return {user_id: zones.get(user_id, settings.TIME_ZONE) for user_id in user_ids}
