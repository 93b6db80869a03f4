"""两步验证 in the pages: the login's second step, and turning it on and off on 我的账号
(the rules are accounts/two_factor.py)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from accounts import security, two_factor
from accounts.middleware import required_text
from accounts.models import TwoFactor
from accounts.throttle import is_throttled, refusal_text

from . import login_steps

# The session of someone whose password was right and who owes a code; the session is
# not logged in until the code comes (auth_login then gives it a new key).
PENDING = "bl_two_factor"
PENDING_SECONDS = 5 * 60
TRIES = 5
SHOW_CODES = "bl_recovery_codes"


def begin(request, user, next_url: str, *, public: bool = False):
    """LoginView, after a right password: ask for the code. `public`: a shared computer
    (login_steps.after_login), carried to the login the code completes."""
    request.session[PENDING] = {"user": user.pk, "backend": user.backend, "at": time.time(), "next": next_url,
                                "tries": 0, "public": public}
    return redirect("login-code")


def admin_login(request):
    """/admin/login/: the site's login instead, so that the admin's way in asks for the
    code too. Someone logged in without the right to the admin is told so; staff who
    must first turn on two-step verification (ADMIN_TWO_FACTOR) are shown where."""
    if request.user.is_authenticated:
        if request.user.is_staff and settings.ADMIN_TWO_FACTOR and not two_factor.enabled(request.user):
            messages.error(request, _("The admin is open only to staff who log in with two-step verification. "
                                      "Turn it on here first."))
            return redirect(f"{reverse('account')}#two-factor")
        raise PermissionDenied
    target = request.GET.get("next", "/admin/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/admin/"
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


def count_failure(request, user, *, step: str = "code") -> None:
    """A wrong code (or password, `step="password"`) is a failed login of the username
    (accounts/throttle.py), and in the account's security log (accounts/security.py)."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request,
                           step=step)


def password_refusal(request, user, password: str) -> tuple[str, int] | None:
    """The password asked again before a change a stolen session must not make (two-step
    verification on, a passkey added, 我的数据 downloaded): None when it is right; else
    what to say and the HTTP status, 429 while the username is throttled (unchecked) or
    403 for a wrong one, which counts as a failed login."""
    if is_throttled(user.get_username()):
        return refusal_text(), 429
    if not user.check_password(password):
        count_failure(request, user, step="password")
        return _("That is not your password."), 403
    return None


def _back_to_password(request, text: str):
    request.session.pop(PENDING, None)
    messages.error(request, text)
    return redirect("login")


class LoginCodeView(View):
    template_name = "frontend/login_code.html"

    def _pending(self, request):
        pending = request.session.get(PENDING)
        if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
            return None, None
        user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
        return (pending, user) if user is not None else (None, None)

    def get(self, request):
        pending, user = self._pending(request)
        if user is None:
            return _back_to_password(request, _("Log in again: the time for the code has run out."))
        return render(request, self.template_name, {"username": user.get_username(),
                                                    "trust_days": two_factor.TRUST_DAYS,
                                                    "public": bool(pending.get("public"))})

    def post(self, request):
        pending, user = self._pending(request)
        if user is None:
            return _back_to_password(request, _("Log in again: the time for the code has run out."))
        if is_throttled(user.get_username()):
            return _back_to_password(request, refusal_text())
        how = two_factor.check(user, request.POST.get("code", "")[:40])
        if how is None:
            count_failure(request, user)
            pending["tries"] = pending.get("tries", 0) + 1
            if pending["tries"] >= TRIES:
                return _back_to_password(request, _("Too many wrong codes. Log in again with your password."))
            request.session[PENDING] = pending
            error = _("That code is not right, or was used already. Type the code the app shows now.")
            if two_factor.key_unreadable(user):
                error = _("This server can no longer check your app's codes: its secret key was changed. Log in "
                          "with one of your recovery codes, then turn two-step verification off and on again on "
                          "My account. Without one, ask an administrator to turn it off.")
            return render(request, self.template_name, {
                "username": user.get_username(), "trust_days": two_factor.TRUST_DAYS,
                "remember": request.POST.get("remember") == "on", "error": error, "public": bool(pending.get("public")),
            }, status=400)
        request.session.pop(PENDING, None)
        user.backend = pending["backend"]
        first = user.last_login is None  # read before the login sets it
        auth_login(request, user)
        response = redirect(pending.get("next") or "/")
        public = bool(pending.get("public"))
        login_steps.after_login(request, response, user, first=first, how="code" if how == "app" else how,
                                public=public)
        if request.POST.get("remember") == "on" and not public:  # a shared computer remembers no one
            two_factor.remember_browser(response, user)
        if how == "recovery":
            left = two_factor.recovery_left(user)
            security.notify(user, security.RECOVERY_USED, request=request, left=left)
            messages.warning(request, ngettext(
                "You used a recovery code: %(count)d is left. Make new ones on My account if the phone is gone.",
                "You used a recovery code: %(count)d are left. Make new ones on My account if the phone is gone.",
                left,
            ) % {"count": left})
        return response


def account_context(request) -> dict:
    row = TwoFactor.objects.filter(user=request.user).first()  # one read for the section
    on = row is not None and row.confirmed_at is not None
    setup = two_factor.pending_setup(request.user) if row is not None and not on else None
    shown = request.session.pop(SHOW_CODES, None) or {}  # new recovery codes: this page only
    return {
        "recovery_codes": shown.get("codes"),
        "recovery_new": shown.get("new"),
        "two_factor_on": on,
        "two_factor_setup": setup,
        "two_factor_qr": two_factor.qr_svg(setup) if setup else "",
        "two_factor_key": two_factor.grouped_secret(setup) if setup else "",
        "recovery_left": len(row.recovery) if on else 0,
        "two_factor_required": two_factor.required_of(request.user),
    }


def account_post(request, which: str):
    """The 我的账号 forms named 2fa-…. New recovery codes wait in the session for the
    page the redirect leads to, which shows them once."""
    here = f"{reverse('account')}#two-factor"
    user = request.user
    code = request.POST.get("code", "")[:40]
    if which == "2fa-start":
        if not two_factor.enabled(user):
            two_factor.start(user)
        return redirect(here)
    if which == "2fa-cancel":
        two_factor.cancel_setup(user)
        return redirect(here)
    if which == "2fa-confirm":
        # The password too: someone holding a stolen session must not be able to turn it
        # on with their own phone and so lock the owner out.
        refused = password_refusal(request, user, request.POST.get("password", ""))
        if refused:
            messages.error(request, refused[0])
            return redirect(here)
        codes = two_factor.confirm(user, code)
        if codes is None:
            messages.error(request, _("That code is not right. Type the six digits the app shows now."))
            return redirect(here)
        request.session[SHOW_CODES] = {"codes": codes, "new": False}
        security.notify(user, security.TWO_FACTOR_ON, request=request)
        return redirect(here)
    if which in ("2fa-codes", "2fa-off"):
        # Guessing a code here counts as guessing one at the login (a stolen session
        # must not buy unlimited tries at turning it off or at recovery codes).
        if is_throttled(user.get_username()):
            messages.error(request, refusal_text())
            return redirect(here)
        if which == "2fa-off" and two_factor.required_of(user):
            messages.error(request, required_text())
            return redirect(here)
        done = two_factor.new_recovery_codes(user, code) if which == "2fa-codes" else two_factor.turn_off(user, code)
        if not done:
            count_failure(request, user)
            messages.error(request, _("That code is not right, or was used already."))
        elif which == "2fa-codes":
            request.session[SHOW_CODES] = {"codes": done, "new": True}
            security.notify(user, security.RECOVERY_CODES, request=request)
        else:
            messages.success(request, _("Two-step verification is off. Your password alone logs you in again."))
            security.notify(user, security.TWO_FACTOR_OFF, request=request)
        return redirect(here)
    if which == "2fa-forget":
        two_factor.forget_browsers(user)
        messages.success(request, _("Every browser asks for the code again at its next login."))
        return redirect(here)
    return redirect(here)  # 2fa-done: the codes are kept
