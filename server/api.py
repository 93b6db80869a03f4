"""The HTTP JSON API under /api/ (OpenAPI at /api/docs): for what is not real-time.

Every write calls the same action as the WebSocket op, and honours an
`Idempotency-Key` header through the same client-write record.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI

from accounts.api import router as accounts_router
from announcements.api import router as announcements_router
from meetings.api import router as meetings_router
from realtime.api import router as realtime_router
from realtime.errors import OpError

api = NinjaAPI(
    title="Branchline API",
    version="1",
    description="Branch announcements, streams and citizens. Real-time work uses the /ws/ socket (docs/protocol.md).",
    urls_namespace="api",
)


@api.exception_handler(OpError)
def op_error(request: HttpRequest, exc: OpError):
    body = {"code": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = exc.details
    return api.create_response(request, body, status=exc.http_status)


api.add_router("/", accounts_router)
api.add_router("/", announcements_router)
api.add_router("/", realtime_router)
api.add_router("/", meetings_router)
