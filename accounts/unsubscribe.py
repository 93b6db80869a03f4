"""退订: a link in each announcement e-mail stops them for that member, without a login
(mail is often read where the member is not signed in). The link carries a signed
token naming the member; it does not expire, and does nothing but that. Opening it
shows a button (mail scanners open links, and must not unsubscribe anyone); mail
programs that offer "unsubscribe" post to it in one click (RFC 8058). 我的账号 turns
the mail on again.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from .models import MailSettings

_SALT = "branchline.unsubscribe.announcements"


def path(user_id: int) -> str:
    return reverse("unsubscribe", args=[signing.dumps(user_id, salt=_SALT, compress=False)])


def user_for(token: str) -> int | None:
    """The member a link was made for; None for a link that was not ours."""
    try:
        user_id = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return user_id if isinstance(user_id, int) else None


def stop_announcements(user_id: int) -> None:
    MailSettings.objects.update_or_create(user_id=user_id, defaults={"announcements": False})
