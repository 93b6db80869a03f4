"""What every way in does once the person is logged in (the password page, the
two-step code page after it, a passkey): a record in the security log and a notice if
the browser is new to the account (accounts/security.py), and the browser takes up the
member's language (accounts/language.py)."""

from __future__ import annotations

from accounts import language, security


def after_login(request, response, user, *, first: bool, how: str) -> None:
    """`first`: the account had never logged in before this (read before the login,
    which sets `last_login`); `how`: "password", "code", "recovery" or "passkey", for the
    security log."""
    security.after_login(request, response, user, first=first, how=how)
    language.after_login(response, user)
