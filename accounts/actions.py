"""Writes for accounts: citizens are created here and nowhere else."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.errors import Invalid

from .models import Citizen, hash_citizen_token

CITIZEN_NAME_MAX = 80


@transaction.atomic
def create_citizen(*, display_name: str = "", contact: str = "") -> tuple[Citizen, str]:
    """Returns the new citizen and its token; the token is shown once, never stored."""
    display_name = (display_name or "").strip()
    contact = (contact or "").strip()
    if len(display_name) > CITIZEN_NAME_MAX:
        raise Invalid("display_name", _("The display name is at most 80 characters."))
    if len(contact) > 200:
        raise Invalid("contact", _("The contact is at most 200 characters."))
    token = Citizen.new_token()
    citizen = Citizen.objects.create(
        token_hash=hash_citizen_token(token), display_name=display_name, contact=contact
    )
    return citizen, token


def touch_citizen(citizen: Citizen) -> None:
    citizen.last_seen_at = timezone.now()
    citizen.save(update_fields=["last_seen_at"])
