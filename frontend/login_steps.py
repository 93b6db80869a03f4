"""What every way in does once the person is logged in (the password page, and the
two-step code page after it): a notice if the browser is new to the account
(accounts/security.py), and the browser takes up the member's language
(accounts/language.py)."""

from __future__ import annotations

from accounts import language, security


def after_login(request, response, user, *, first: bool) -> None:
    """`first`: the account had never logged in before this (read before the login,
    which sets `last_login`)."""
    security.after_login(request, response, user, first=first)
    language.after_login(response, user)
