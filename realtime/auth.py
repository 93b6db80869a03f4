"""Resolve who is on a WebSocket: a logged-in member (session) or a citizen (cookie)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from channels.db import database_sync_to_async
from django.conf import settings

from accounts import two_factor
from accounts.identity import ANONYMOUS, identity_for_citizen, identity_for_user
from accounts.middleware import CITIZEN_COOKIE


def cookies_from_scope(scope) -> dict[str, str]:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


@database_sync_to_async
def _resolve(scope):
    user = scope.get("user")
    session = scope.get("session")
    if user is not None and getattr(user, "is_authenticated", False):
        if two_factor.missing(user):  # TWO_FACTOR_REQUIRED, not on yet: no member rights
            return ANONYMOUS
        return identity_for_user(user, session.session_key if session is not None else None)
    token = cookies_from_scope(scope).get(CITIZEN_COOKIE)
    if token:
        from accounts.selectors import citizen_for_token

        citizen = citizen_for_token(token)
        if citizen is not None:
            return identity_for_citizen(citizen)
    return ANONYMOUS


class IdentityMiddleware:
    """Runs inside AuthMiddlewareStack; puts an `identity` into the scope."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            scope = dict(scope)
            user = scope.get("user")
            if user is not None and getattr(user, "is_authenticated", False) and not settings.TWO_FACTOR_REQUIRED:
                # AuthMiddleware already loaded the user: no second thread hop.
                session = scope.get("session")
                scope["identity"] = identity_for_user(user, session.session_key if session is not None else None)
            else:
                scope["identity"] = await _resolve(scope)
        return await self.app(scope, receive, send)
