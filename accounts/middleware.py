"""Attach the citizen (if the request carries a citizen token) to HTTP requests."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

CITIZEN_COOKIE = "branchline_citizen"
CITIZEN_HEADER = "HTTP_X_CITIZEN_TOKEN"


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
