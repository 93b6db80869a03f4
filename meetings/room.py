"""扫码签到: members sitting in a meeting's room check themselves in by scanning a QR
code the chair shows there (on the projector, or the chair's phone held up).

The code in it changes every WINDOW seconds and is good for that window and the one
before, so a photo of it sent elsewhere soon stops working; it is an HMAC under a key
derived from SECRET_KEY (server/sealing.py's derivation, a purpose of its own) over the
meeting, the moment it opened and the window, so it means nothing for another meeting or
another opening. What scanning it does is actions.self_check_in: the member's stay in
the room begins, as when the chair checks them in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from django.conf import settings

from server.sealing import derive_key

from .models import Meeting

PURPOSE = b"branchline.meeting-check-in"  # fixed: another label derives another key
WINDOW = 60  # seconds a code is shown for
CODE_LENGTH = 16


def _code(meeting: Meeting, window: int) -> str:
    opened = meeting.opened_at or meeting.started_at
    message = f"{meeting.pk}:{opened.isoformat() if opened else ''}:{window}".encode()
    digest = hmac.new(derive_key(settings.SECRET_KEY, PURPOSE), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:CODE_LENGTH]


def code(meeting: Meeting, at: datetime) -> str:
    """The code to show now."""
    return _code(meeting, int(at.timestamp()) // WINDOW)


def is_current(meeting: Meeting, given: str, at: datetime) -> bool:
    """Whether `given` is this window's code or the last one's."""
    if not isinstance(given, str) or len(given) != CODE_LENGTH:
        return False
    window = int(at.timestamp()) // WINDOW
    return any(hmac.compare_digest(given, _code(meeting, w)) for w in (window, window - 1))
