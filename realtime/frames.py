"""Server-to-client frames, serialised once.

Every event frame is built by `event_frame` whether it goes out live or from the log
on resume, so a client sees byte-identical frames either way.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder

PROTOCOL_VERSION = 1


def dumps(payload: dict) -> str:
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def event_frame(stream: str, seq: int, type_: str, data: dict, at: datetime) -> str:
    return dumps({"op": "event", "stream": stream, "seq": seq, "type": type_, "data": data, "at": iso(at)})


def ok_frame(ref, data: dict | None = None) -> str:
    return dumps({"op": "ok", "ref": ref, "data": data or {}})


def error_frame(ref, code: str, message: str, details: dict | None = None) -> str:
    payload = {"op": "error", "ref": ref, "code": code, "message": message}
    if details:
        payload["details"] = details
    return dumps(payload)
