from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.core.exceptions import DisallowedHost
from django.utils.cache import patch_vary_headers


class IgnoreAcceptLanguageMiddleware:
    """Make the UI language the user's explicit choice (language cookie) or Chinese.

    LocaleMiddleware would otherwise follow the browser's Accept-Language header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


# The pages' Content-Security-Policy. Every script and style of the site is a file
# under /static/ (no inline <script>, no style="", no on…= handlers, no eval), and the
# text members write is rendered to sanitised HTML (forum/rendering.py), so the policy
# can refuse everything else: should a sanitiser bug ever let markup through, the
# browser still runs none of it. The WebSocket is named with its scheme as well as
# 'self', for browsers that do not yet count ws:/wss: as 'self'.
_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' {socket}; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; report-uri /csp-report"
)
# The meetings page asks for the camera, the microphone and the screen; nothing asks
# for the rest, so no page, nor anything it might be made to embed, may. (Only features
# Chromium knows: it warns in the console of every page about any other.)
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), display-capture=(self), fullscreen=(self), "
    "geolocation=(), payment=(), usb=(), serial=(), midi=()"
)
CSP_MODES = {"enforce": "Content-Security-Policy", "report": "Content-Security-Policy-Report-Only", "off": None}


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every page (HTML response).

    settings.CSP: "enforce" (the default), "report" (the browser only reports what the
    policy would refuse, to /csp-report) or "off". A response that set its own policy
    (an uploaded file, frontend/views.py) keeps it.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.header = CSP_MODES[settings.CSP]

    def __call__(self, request):
        response = self.get_response(request)
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if self.header and "Content-Security-Policy" not in response:
            try:
                socket = f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
            except DisallowedHost:  # the 400 page for a host not in ALLOWED_HOSTS
                socket = ""
            response.setdefault(self.header, _POLICY.format(socket=socket).replace("'self' ;", "'self';"))
        return response


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a session cookie naming a session that is gone is left alone
    unless this request emptied it (a logout does, and the cookie goes).

    A login gives the session a new key (cycle_key) and the old one is deleted. A request
    the browser sent meanwhile with the old cookie (the service worker's update check, a
    script's fetch) finds no session; Django would answer it by deleting the cookie, and
    when that answer lands after the login's, the browser forgets the new session: the
    page was drawn signed in, but its socket, and every request after, arrive logged out.
    A dead key in the browser is harmless (it reads as no session), so it is kept."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if (session is not None and settings.SESSION_COOKIE_NAME in request.COOKIES and session.accessed
                and not session.modified and session.is_empty()):
            patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)
