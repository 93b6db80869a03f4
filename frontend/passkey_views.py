"""通行密钥 in the pages (the rules are accounts/passkeys.py): the login page's
用通行密钥登录, and adding and removing passkeys on 我的账号.

The browser's part of WebAuthn runs in passkeys.js, which posts JSON here: first for
the options (with a new challenge), then with what the browser's
navigator.credentials answered. Errors come back as {"error": text} for the page to
show.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import passkeys

from . import login_steps
from .two_factor_views import password_refusal

BODY_LIMIT = 64 * 1024  # an attestation is a few KB; nothing here needs more


def _error(text: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": text}, status=status)


def _body(request) -> dict | None:
    if len(request.body) > BODY_LIMIT:
        return None
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _unreadable() -> JsonResponse:
    return _error(_("The request could not be read. Reload the page and try again."))


def _logged_out() -> JsonResponse:
    return _error(_("You are logged out. Log in again, then add the passkey."), 403)


@require_POST
def new_options(request):
    """The first step of adding one: the password again (a stolen session must not add a
    key of its own to the account), then the options for the browser."""
    if not request.user.is_authenticated:
        return _logged_out()
    data = _body(request)
    if data is None:
        return _unreadable()
    user = request.user
    refused = password_refusal(request, user, str(data.get("password", "")))
    if refused:
        return _error(*refused)
    try:
        return JsonResponse({"options": passkeys.new_options(request, user)})
    except passkeys.Refused as refused:
        return _error(str(refused))


@require_POST
def add(request):
    if not request.user.is_authenticated:
        return _logged_out()
    data = _body(request)
    if data is None:
        return _unreadable()
    try:
        passkey = passkeys.add(request, request.user, data.get("name", ""), data.get("credential"))
    except passkeys.Refused as refused:
        return _error(str(refused))
    messages.success(request, _("The passkey “%(name)s” is added. From now on it logs you in without the "
                                "password.") % {"name": passkey.name})
    return JsonResponse({"ok": True, "redirect": f"{reverse('account')}#passkeys"})


def account_post(request):
    """我的账号's remove button (form passkey-remove)."""
    found = request.POST.get("passkey", "")
    if found.isdigit() and len(found) < 19 and passkeys.remove(request, request.user, int(found)):
        messages.success(request, _("The passkey is removed: it no longer logs you in."))
    else:
        messages.error(request, _("That passkey was removed already."))
    return redirect(f"{reverse('account')}#passkeys")


@require_POST
def login_options(request):
    try:
        return JsonResponse({"options": passkeys.login_options(request)})
    except passkeys.Refused as refused:
        return _error(str(refused))


@require_POST
def login(request):
    """The second step of 用通行密钥登录: log in the passkey's member. The passkey checked
    both steps, so no two-step code is asked."""
    data = _body(request)
    if data is None:
        return _unreadable()
    try:
        user = passkeys.authenticate(request, data.get("credential"))
    except passkeys.Refused as refused:
        return _error(str(refused))
    target = str(data.get("next") or "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = resolve_url(settings.LOGIN_REDIRECT_URL)
    first = user.last_login is None  # read before the login sets it
    auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[-1])
    response = JsonResponse({"ok": True, "redirect": target})
    login_steps.after_login(request, response, user, first=first, how="passkey", public=data.get("public") is True)
    return response
