"""登录设备: where a member is signed in, and signing out of any of those places.

Each login records its session with the browser's description and address
(LoginSession); a request now and then notes that the session is still in use. On 我的账号
the member sees every browser they are signed in on and ends any of them, or all but
this one (a phone left behind, a computer in the party office). Ending a session
deletes Django's session: that browser is logged out at its next request, and its open
sockets close at the next session check (realtime/sessions.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.models import Session
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import LoginSession

SEEN_EVERY = timedelta(minutes=10)  # how stale "last active" may be (a write at most this often)
_SEEN_KEY = "bl_device_seen"


def _address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in)
def _record_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and request.session.session_key:
        record_session(request, user)


def record_session(request, user) -> None:
    """This browser's session, as the member's (at login, and after a password change,
    which gives the session a new key)."""
    now = timezone.now()
    LoginSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={"user": user, "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
                  "ip": _address(request), "last_seen": now},
    )
    request.session[_SEEN_KEY] = now.timestamp()


@receiver(user_logged_out)
def _forget_logout(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and request.session.session_key:
        LoginSession.objects.filter(session_key=request.session.session_key).delete()


class DeviceSeenMiddleware:
    """Notes, at most every SEEN_EVERY, that a signed-in session is in use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.session.session_key:
            now = timezone.now()
            seen = request.session.get(_SEEN_KEY, 0)
            if now.timestamp() - seen >= SEEN_EVERY.total_seconds():
                updated = LoginSession.objects.filter(session_key=request.session.session_key).update(
                    last_seen=now, ip=_address(request))
                if not updated:  # signed in before devices were recorded
                    LoginSession.objects.create(session_key=request.session.session_key, user=user,
                                                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                                                ip=_address(request), last_seen=now)
                request.session[_SEEN_KEY] = now.timestamp()
        return self.get_response(request)


_BROWSERS = (  # the first that matches names it; order matters (Edge and WeChat say Chrome too)
    ("MicroMessenger", "WeChat"),
    ("DingTalk", "DingTalk"),
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("HarmonyOS", "HarmonyOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_agent(user_agent: str) -> str:
    """"Chrome · Windows", "WeChat · Android": what a member would know the browser by."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if re.search(re.escape(mark), user_agent)), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or _("Unknown browser")


def devices_of(user, current_key: str | None) -> list[dict]:
    """The member's signed-in browsers, this one first, then by last use. Records of
    sessions that have ended or expired are removed on the way."""
    rows = list(LoginSession.objects.filter(user=user).order_by("-last_seen"))
    live = set(Session.objects.filter(session_key__in=[r.session_key for r in rows],
                                      expire_date__gt=timezone.now()).values_list("session_key", flat=True))
    stale = [r.pk for r in rows if r.session_key not in live]
    if stale:
        LoginSession.objects.filter(pk__in=stale).delete()
    devices = [{"id": r.pk, "label": describe_agent(r.user_agent), "agent": r.user_agent, "ip": r.ip,
                "since": r.created_at, "last_seen": r.last_seen, "current": r.session_key == current_key}
               for r in rows if r.session_key in live]
    return sorted(devices, key=lambda d: not d["current"])


def end_device(user, device_id: int, current_key: str | None) -> bool:
    """Sign the member out on one of their other browsers. False when it is not theirs,
    is this one, or has ended already."""
    row = LoginSession.objects.filter(pk=device_id, user=user).exclude(session_key=current_key or "").first()
    if row is None:
        return False
    Session.objects.filter(session_key=row.session_key).delete()
    row.delete()
    return True
