"""语言: a member's language follows them. The header's switch, used while logged in,
keeps the choice on their account (MailSettings.language); a login on another browser
takes it up, and what is mailed to them (announcements, security notices) is written
in it. Without a choice, the site's LANGUAGE_CODE (Chinese).
"""

from __future__ import annotations

from django.conf import settings

from .models import MailSettings


def known(code: str | None) -> str:
    """`code` if the site speaks it, else the site's own language."""
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def of(user_id: int) -> str:
    return of_each([user_id])[user_id]


def of_each(user_ids) -> dict[int, str]:
    """Each member's language (the site's for those who never chose)."""
    chosen = dict(MailSettings.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "language"))
    return {user_id: known(chosen.get(user_id)) for user_id in user_ids}


def choose(user, code: str) -> None:
    if code in dict(settings.LANGUAGES):
        MailSettings.objects.update_or_create(user=user, defaults={"language": code})


def after_login(response, user) -> None:
    """This browser speaks the member's chosen language from now on."""
    chosen = MailSettings.objects.filter(user=user).values_list("language", flat=True).first()
    if chosen in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, max_age=settings.LANGUAGE_COOKIE_AGE,
                            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY)
