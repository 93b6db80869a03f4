"""Attach the citizen (if the request carries a citizen token) to HTTP requests, and
keep those who must turn on two-step verification (TWO_FACTOR_REQUIRED) on 我的账号
until they have."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

CITIZEN_COOKIE = "branchline_citizen"
CITIZEN_HEADER = "HTTP_X_CITIZEN_TOKEN"


# A citizen stays known to their browser for a year; the token is their only key.
CITIZEN_COOKIE_SECONDS = 365 * 86400


def set_citizen_cookie(response, request, token: str) -> None:
    response.set_cookie(CITIZEN_COOKIE, token, max_age=CITIZEN_COOKIE_SECONDS, httponly=True, samesite="Lax",
                        secure=request.is_secure())


def forget_citizen_cookie(response) -> None:
    response.delete_cookie(CITIZEN_COOKIE, samesite="Lax")


def citizen_token_from_request(request) -> str | None:
    return request.META.get(CITIZEN_HEADER) or request.COOKIES.get(CITIZEN_COOKIE)


class CitizenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .selectors import citizen_for_token

        request.citizen = SimpleLazyObject(
            lambda: citizen_for_token(citizen_token_from_request(request))
        )
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Someone TWO_FACTOR_REQUIRED names, logged in without two-step verification on,
    is sent to 我的账号 to turn it on (the account page, logging in and out, the
    language switch and static files stay open); the HTTP API refuses them. Their
    sockets get no member identity (realtime/auth.py)."""

    OPEN = ("/account/", "/login/", "/logout/", "/i18n/", "/static/", "/csp-report", "/healthz", "/mail/",
            "/manifest.webmanifest", "/sw.js", "/offline/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.TWO_FACTOR_REQUIRED and request.user.is_authenticated and not request.path.startswith(self.OPEN):
            from . import two_factor

            if two_factor.missing(request.user):
                if request.path.startswith("/api/"):
                    return JsonResponse({"code": "forbidden", "message": required_text()}, status=403,
                                        json_dumps_params={"ensure_ascii": False})
                return redirect(reverse("account") + "#two-factor")
        return self.get_response(request)


def required_text() -> str:
    return _("Your role here asks for two-step verification. Turn it on on My account to go on.")
