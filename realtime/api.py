from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from accounts.api import request_identity

from .errors import BadRequest, Forbidden
from .models import Event
from .selectors import stream_head
from .streams import parse_stream_key

router = Router(tags=["streams"])


@router.get("/streams/{stream}/events", summary="Export a stream's event log (what /ws/ resume would send)")
def stream_events(request: HttpRequest, stream: str, after: int = 0, limit: int = 500):
    identity = request_identity(request)
    stream_type, object_id = parse_stream_key(stream)
    if not stream_type.can_read(identity, object_id):
        raise Forbidden(f"you may not read {stream!r}")
    if limit < 1 or limit > 5000:
        raise BadRequest("limit must be between 1 and 5000", details={"field": "limit"})
    head = stream_head(stream)
    rows = Event.objects.filter(stream_id=stream, seq__gt=after).order_by("seq")[:limit]
    return {
        "stream": stream,
        "head": head.last_seq,
        "trimmed_through": head.trimmed_through,
        "resync": after < head.trimmed_through,
        "events": [
            {"seq": e.seq, "type": e.type, "data": e.data, "at": e.created_at.isoformat()} for e in rows
        ],
    }
