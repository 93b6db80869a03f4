from __future__ import annotations


class IgnoreAcceptLanguageMiddleware:
    """Make the UI language the user's explicit choice (language cookie) or Chinese.

    LocaleMiddleware would otherwise follow the browser's Accept-Language header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
