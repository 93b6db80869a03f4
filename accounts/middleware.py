"""Attach the citizen (if the request carries a citizen token) to HTTP requests."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

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
