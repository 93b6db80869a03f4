"""What every way in does once the person is logged in (the password page, the
two-step code page after it, a passkey): a record in the security log and a notice if
the browser is new to the account (accounts/security.py), and the browser takes up the
member's language (accounts/language.py).

公用电脑: on a shared computer (the party office's, a service centre's), ticked at the
login, the session lasts only until the browser closes, and the pages keep drafts for
the tab alone instead of the browser (drafts.js), so the next person finds nothing of
the member's, even when they forgot to log out. Such a browser is never remembered at
the two-step code either."""

from __future__ import annotations

from accounts import language, security


def after_login(request, response, user, *, first: bool, how: str, public: bool = False) -> None:
    """`first`: the account had never logged in before this (read before the login,
    which sets `last_login`); `how`: "password", "code", "recovery" or "passkey", for the
    security log; `public`: a shared computer."""
    if public:
        request.session.set_expiry(0)  # until the browser closes
    security.after_login(request, response, user, first=first, how=how)
    language.after_login(response, user)
