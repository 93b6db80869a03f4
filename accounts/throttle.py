"""Slowing down password guessing: after LIMIT failed logins for one username within
WINDOW, that username's logins are refused until the window has passed. (And, at the
end, a cap on password reset e-mails per address.)

Counted per username, not per address: behind a reverse proxy every request comes from
the proxy's address. The price is that someone who keeps failing on purpose can keep
one account's owner out for the window; the owner is told so, and a secretary or an
administrator can still help. Failures are stored (LoginFailure), so every daphne
process sees the same count.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import LoginFailure, PasswordResetRequest

LIMIT = 10
WINDOW = timedelta(minutes=15)

# Password reset e-mails: at most RESET_LIMIT requests per address within RESET_WINDOW,
# whether or not an account uses the address (so the refusal tells nobody which do).
RESET_LIMIT = 3
RESET_WINDOW = timedelta(hours=1)


def _key(username) -> str:
    return str(username or "").strip().lower()[:150]


def is_throttled(username) -> bool:
    key = _key(username)
    if not key:
        return False
    return LoginFailure.objects.filter(username=key, at__gt=timezone.now() - WINDOW).count() >= LIMIT


def refusal_text() -> str:
    """What a throttled username is told, wherever it tries (password, code)."""
    return _("Too many failed logins for this username. Try again in %(minutes)d minutes.") % {
        "minutes": int(WINDOW.total_seconds() // 60)}


def record_failure(username, ip: str | None) -> None:
    key = _key(username)
    if not key:
        return
    now = timezone.now()
    LoginFailure.objects.filter(username=key, at__lte=now - WINDOW).delete()  # what no longer counts
    LoginFailure.objects.create(username=key, ip=ip or None, at=now)


class ThrottledModelBackend(ModelBackend):
    """Django's password backend, refusing a throttled username before checking the
    password (for every login form: the site's, the admin's)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if is_throttled(username if username is not None else kwargs.get("username")):
            if request is not None:
                request.login_throttled = True  # not a new failure: the count does not grow
            raise PermissionDenied("too many failed logins")
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs) -> None:
    if request is not None and getattr(request, "login_throttled", False):
        return
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    username = credentials.get("username")
    record_failure(username, ip)
    if is_throttled(username):  # this failure was the one that stopped it: tell the owner
        _tell_owner(username, request)


def _tell_owner(username, request) -> None:
    from django.contrib.auth import get_user_model

    from . import security

    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    if user is not None:
        security.notify(user, security.LOCKED, request=request, minutes=int(WINDOW.total_seconds() // 60))


def clear_failures(username) -> None:
    LoginFailure.objects.filter(username=_key(username)).delete()


@receiver(user_logged_in)
def _forget_failures(sender, request, user, **kwargs) -> None:
    clear_failures(user.get_username())


def take_reset_request(email) -> bool:
    """Count a request for a reset e-mail to `email`; False when the address has had
    RESET_LIMIT requests within RESET_WINDOW already (this one is then not counted)."""
    key = str(email or "").strip().lower()[:254]
    now = timezone.now()
    PasswordResetRequest.objects.filter(email=key, at__lte=now - RESET_WINDOW).delete()
    if PasswordResetRequest.objects.filter(email=key, at__gt=now - RESET_WINDOW).count() >= RESET_LIMIT:
        return False
    PasswordResetRequest.objects.create(email=key, at=now)
    return True
