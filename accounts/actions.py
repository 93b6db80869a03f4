"""Writes for accounts: citizens are created here and nowhere else."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from realtime.errors import Invalid

from .models import Citizen, hash_citizen_token


@transaction.atomic
def create_citizen(*, display_name: str = "", contact: str = "") -> tuple[Citizen, str]:
    """Returns the new citizen and its token; the token is shown once, never stored."""
    display_name = (display_name or "").strip()
    contact = (contact or "").strip()
    if len(display_name) > 80:
        raise Invalid("display_name", "显示名称最多 80 个字符")
    if len(contact) > 200:
        raise Invalid("contact", "联系方式最多 200 个字符")
    token = Citizen.new_token()
    citizen = Citizen.objects.create(
        token_hash=hash_citizen_token(token), display_name=display_name, contact=contact
    )
    return citizen, token


def touch_citizen(citizen: Citizen) -> None:
    citizen.last_seen_at = timezone.now()
    citizen.save(update_fields=["last_seen_at"])
