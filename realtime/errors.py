"""Typed errors that every entry point (WebSocket op, HTTP API) turns into a coded reply.

The codes are part of the wire protocol (docs/protocol.md); add one there when you add
one here.
"""

from __future__ import annotations


class OpError(Exception):
    code = "internal"
    http_status = 500

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(OpError):
    code = "bad_request"
    http_status = 400


class Invalid(BadRequest):
    """A field's value is not acceptable; names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message, details={"field": field})
        self.field = field


class UnknownOp(OpError):
    code = "unknown_op"
    http_status = 400


class Unauthenticated(OpError):
    code = "unauthenticated"
    http_status = 401


class Forbidden(OpError):
    code = "forbidden"
    http_status = 403


class NotFound(OpError):
    code = "not_found"
    http_status = 404


class Conflict(OpError):
    code = "conflict"
    http_status = 409


class RateLimited(OpError):
    code = "rate_limited"
    http_status = 429


class TooLarge(OpError):
    code = "too_large"
    http_status = 413
