"""Who is acting: a member (Django user), a citizen (token), or nobody.

Consumers, views and actions pass an Identity around; it is built only from the
session or the citizen token, never from anything a client puts in a payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext as _

from realtime.errors import Unauthenticated


@dataclass(frozen=True, slots=True)
class Identity:
    kind: Literal["user", "citizen", "anonymous"]
    user_id: int | None = None
    citizen_id: int | None = None
    name: str = ""
    is_staff: bool = False
    session_key: str | None = None

    @property
    def key(self) -> str:
        """Stable key for idempotency records, presence and rate limits."""
        if self.kind == "user":
            return f"u:{self.user_id}"
        if self.kind == "citizen":
            return f"c:{self.citizen_id}"
        return "anon"

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def is_citizen(self) -> bool:
        return self.kind == "citizen"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "id": self.user_id or self.citizen_id, "name": self.name}


ANONYMOUS = Identity(kind="anonymous")


def identity_for_user(user, session_key: str | None = None) -> Identity:
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    name = user.get_full_name() or user.get_username()
    return Identity(
        kind="user", user_id=user.pk, name=name, is_staff=user.is_staff, session_key=session_key
    )


def identity_for_citizen(citizen) -> Identity:
    return Identity(kind="citizen", citizen_id=citizen.pk, name=citizen.display_name or "群众")


def member_id(identity: Identity) -> int:
    """The member's user id; anyone else is asked to log in (for what only members have:
    notifications, drafts)."""
    if not identity.is_user:
        raise Unauthenticated(_("Please log in first."))
    return identity.user_id
