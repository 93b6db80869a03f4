"""退订: a link in each announcement e-mail (and in each daily digest, each mail of
unread notifications and each weekly summary) stops them for that member, without a login (mail is often read where the member is not signed in). The link carries a signed
token naming the member; it does not expire, and does nothing but that. Opening it
shows a button (mail scanners open links, and must not unsubscribe anyone); mail
programs that offer "unsubscribe" post to it in one click (RFC 8058). 我的账号 turns
the mail on again.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from .models import MailSettings

_SALT = "branchline.unsubscribe.announcements"
ANNOUNCEMENTS = "announcements"  # a mail for each new announcement
DIGEST = "digest"  # 每日摘要 (announcements/digest.py)
NOTIFICATIONS = "notifications"  # 提醒邮件, every kind (accounts/notification_mail.py)
WEEKLY = "weekly"  # 每周待办 (frontend/weekly.py)
KINDS = (ANNOUNCEMENTS, DIGEST, NOTIFICATIONS, WEEKLY)


def path(user_id: int, *, what: str = ANNOUNCEMENTS) -> str:
    # An announcement mail's token names the member alone (as in links mailed before the digest).
    value = user_id if what == ANNOUNCEMENTS else [user_id, what]
    return reverse("unsubscribe", args=[signing.dumps(value, salt=_SALT, compress=False)])


def user_for(token: str) -> tuple[int, str] | None:
    """The member a link was made for and which mail it stops; None for a link that was not ours."""
    try:
        value = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    if isinstance(value, int):
        return value, ANNOUNCEMENTS
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and value[1] in KINDS:
        return value[0], value[1]
    return None


def stop(user_id: int, what: str) -> None:
    if what == NOTIFICATIONS:
        from .notification_mail import KINDS as fields
    else:
        fields = (what,)
    MailSettings.objects.update_or_create(user_id=user_id, defaults=dict.fromkeys(fields, False))


def listed_mail(subject: str, body: str, html: str, address: str, stop: str, *,
                connection=None) -> EmailMultiAlternatives:
    """A mail a member can stop (each announcement, the digest, the weekly summary, the
    mail of unread notifications): plain text with an HTML part, and `stop` (the full
    address of their link) also in the headers mail programs show as "unsubscribe",
    one click (RFC 8058)."""
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection,
                                     headers={"List-Unsubscribe": f"<{stop}>",
                                              "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    message.attach_alternative(html, "text/html")
    return message

