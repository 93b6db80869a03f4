"""账号安全提醒: the member hears at once of every change to how their account is
entered — a new password or e-mail address, two-step verification turned on or off,
new recovery codes, a recovery code used, a passkey added or removed, a login from a browser that has not logged in
to the account before, a secretary's link to set a new password, a copy of their data
downloaded (accounts/personal_data.py), an address made for the member's meetings
in a calendar (meetings/calendar_feed.py) — and when logging in is
stopped after too many wrong passwords or codes (someone is guessing). Someone who took the account over cannot do it quietly.

Each notice is an event in the member's inbox (the bell, the notifications page, a
desktop notification) and, when the server sends mail and the member has an address,
an e-mail, which reaches them even while someone else holds the session. A changed
address is told to the old one. The notice names the browser and the address it came
from, and what to do if it was not them.

A browser is known to an account by a cookie it gets at each login (a keyed digest of
the account, not its id): a login without it is from a new browser. An account's first
login ever is not news.

安全记录 (the security log): every notice, every login (and how: the password, with a
code, a recovery code or a passkey; from a new browser or not) and every wrong password
or code typed for the account is also kept as a SecurityRecord for LOG_DAYS, with the
browser and address. 我的账号 shows the member theirs, newest first; administrators see
everyone's in the admin. A member who missed a notice (or whose mail went elsewhere)
still finds it there, as GitHub's security log and Google's "recent security activity".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from realtime.events import append_event
from realtime.scheduler import register_periodic

from . import language, outbox
from .clock import member_zones
from .devices import describe_agent
from .models import SecurityRecord
from .streams import inbox_stream

log = logging.getLogger(__name__)

PASSWORD_CHANGED = "security.password_changed"
EMAIL_CHANGED = "security.email_changed"
TWO_FACTOR_ON = "security.two_factor_on"
TWO_FACTOR_OFF = "security.two_factor_off"
RECOVERY_CODES = "security.recovery_codes"
RECOVERY_USED = "security.recovery_used"
NEW_BROWSER = "security.new_browser"
PASSWORD_LINK = "security.password_link"
PASSKEY_ADDED = "security.passkey_added"
PASSKEY_REMOVED = "security.passkey_removed"
LOCKED = "security.locked"  # data: minutes (accounts/throttle.py)
DATA_EXPORTED = "security.data_exported"  # 我的数据 downloaded (accounts/personal_data.py)
ACCOUNT_CLOSED = "security.account_closed"  # 注销账号 (accounts/closure.py)
CALENDAR_LINK = "security.calendar_link"  # 日历订阅: an address made for the meetings (meetings/calendar_feed.py)
TYPES = (PASSWORD_CHANGED, EMAIL_CHANGED, TWO_FACTOR_ON, TWO_FACTOR_OFF, RECOVERY_CODES, RECOVERY_USED, NEW_BROWSER,
         PASSWORD_LINK, PASSKEY_ADDED, PASSKEY_REMOVED, LOCKED, DATA_EXPORTED,
         ACCOUNT_CLOSED, CALENDAR_LINK)
# Only in the security log, not notices:
LOGIN = "security.login"  # data: how ("password", "code", "recovery", "passkey"), new_browser
LOGIN_FAILED = "security.login_failed"  # data: step ("password" or "code")
LOG_DAYS = 90
LOG_PAGE = 50

KNOWN_COOKIE = "bl_known"
KNOWN_KEEP = 10  # accounts one browser remembers (a shared office computer)
KNOWN_SECONDS = 400 * 86400  # what browsers allow a cookie at most


def notify(user, kind: str, *, request=None, **details) -> None:
    """Tell `user` that `kind` happened to their account (in the caller's transaction,
    if there is one). `request`: the browser it came from, when a member did it."""
    data = {key: value for key, value in details.items() if value not in (None, "")}
    data.update(_browser(request))
    with transaction.atomic():
        append_event(inbox_stream(user.pk), kind, data)
        if kind != NEW_BROWSER:  # that one is in its login's record
            SecurityRecord.objects.create(user_id=user.pk, kind=kind, data=data)
        address = data.get("old_email") if kind == EMAIL_CHANGED else user.email
        if address:
            outbox.after_commit(_mail, user.pk, address, kind, data, timezone.now())


def _browser(request) -> dict:
    """The browser and address a request came from, as kept with a notice or record."""
    if request is None:
        return {}
    found = {"browser": describe_agent(request.META.get("HTTP_USER_AGENT", ""))}
    if request.META.get("REMOTE_ADDR"):
        found["ip"] = request.META["REMOTE_ADDR"]
    return found


def text(kind: str, data: dict) -> tuple[str, str]:
    """What happened, and what to do if it was not the member (active language)."""
    change_password = _("If it was not you, change your password on My account at once and sign out "
                        "the browsers you do not know there.")
    if kind == PASSWORD_CHANGED:
        what = (_("An administrator set a new password for your account.") if data.get("by") == "admin"
                else _("The password of your account was changed."))
        return what, _("If it was not you, set a new one with “Forgot password” on the login page, or ask your "
                       "branch secretary for a link to set one; that signs out every browser.")
    if kind == EMAIL_CHANGED:
        what = (_("The e-mail address of your account was changed to %(email)s.") % {"email": data["email"]}
                if data.get("email") else _("The e-mail address of your account was removed."))
        return what, _("If it was not you, change your password on My account at once and put your own "
                       "address back, or ask your branch secretary for help.")
    if kind == TWO_FACTOR_ON:
        return (_("Two-step verification was turned on for your account."),
                _("If it was not you, ask your branch secretary or an administrator at once: once they are "
                  "sure it is you, they can turn it off."))
    if kind == TWO_FACTOR_OFF:
        what = (_("An administrator turned off two-step verification for your account.")
                if data.get("by") == "admin" else _("Two-step verification was turned off for your account."))
        return what, change_password
    if kind == RECOVERY_CODES:
        return _("New recovery codes were made for your account; the old ones no longer work."), change_password
    if kind == RECOVERY_USED:
        return (_("A recovery code was used to log in to your account (%(count)d left).") % {"count": data.get("left", 0)},
                change_password)
    if kind == PASSWORD_LINK:
        return (_("%(name)s, a secretary of your branch, made a link to set a new password for your account.")
                % {"name": data.get("by", "")},
                _("If you did not ask for one, tell an administrator: the link works once, for a few days, "
                  "and logs out every browser."))
    if kind == PASSKEY_ADDED:
        return (_("A passkey named “%(name)s” was added to your account: it logs in without the password.")
                % {"name": data.get("name", "")},
                _("If it was not you, remove it on My account at once and change your password there."))
    if kind == PASSKEY_REMOVED:
        what = (_("An administrator removed the passkey “%(name)s” from your account.") if data.get("by") == "admin"
                else _("The passkey “%(name)s” was removed from your account.")) % {"name": data.get("name", "")}
        return what, change_password
    if kind == NEW_BROWSER:
        return _("Your account was logged in to from a browser it was not used in before."), change_password
    if kind == CALENDAR_LINK:
        return (_("A calendar address for your meetings was made on My account: whoever has it sees your "
                  "meetings in their calendar, without logging in."),
                _("If it was not you, stop it or make a new one under Calendar on My account."))
    if kind == DATA_EXPORTED:
        return _("A copy of your data was downloaded from My account."), change_password
    if kind == ACCOUNT_CLOSED:
        return ((_("An administrator closed your account: it can no longer log in, and what it kept for you "
                   "alone was deleted.") if data.get("by") == "admin"
                 else _("Your account was closed on My account: it can no longer log in, and what it kept for "
                        "you alone was deleted.")),
                _("If it was not you, tell your branch secretary or an administrator at once."))
    if kind == LOCKED:
        return (_("After too many wrong passwords or codes, logging in to your account is stopped for %(minutes)d "
                  "minutes.") % {"minutes": data.get("minutes", 0)},
                _("If it was not you, someone is guessing your password: once you are in again, change it on My "
                  "account to one that is long and used nowhere else, and turn on two-step verification."))
    if kind == LOGIN:
        what = {
            "code": _("Logged in with the password and a code from the app."),
            "recovery": _("Logged in with the password and a recovery code."),
            "passkey": _("Logged in with a passkey."),
        }.get(data.get("how"), _("Logged in with the password."))
        if data.get("new_browser"):
            what = _("%(login)s This browser had not been used for the account before.") % {"login": what}
        return what, change_password
    if kind == LOGIN_FAILED:
        return ((_("A wrong two-step code was typed for your account.") if data.get("step") == "code"
                 else _("A wrong password was typed for your account.")), change_password)
    return kind, ""


def where(data: dict) -> str:
    """"Chrome · Windows, 203.0.113.7": the browser a notice came from, if known."""
    browser, ip = data.get("browser"), data.get("ip")
    if browser and ip:
        return _("%(browser)s, %(ip)s") % {"browser": browser, "ip": ip}
    return browser or ip or ""


# A browser that has logged in to an account.

def _token(user) -> str:
    return salted_hmac("branchline.known-browser", str(user.pk)).hexdigest()[:20]


def _known(request) -> list[str]:
    raw = request.COOKIES.get(KNOWN_COOKIE, "")
    return [t for t in raw.split(".") if t][:KNOWN_KEEP]


def after_login(request, response, user, *, first: bool, how: str) -> None:
    """A successful login (`how`: "password", "code", "recovery" or "passkey"): in the
    security log, with a notice if this browser is new to the account (unless it is the
    account's first login ever, `first`); the browser remembers the account."""
    token = _token(user)
    known = _known(request)
    new_browser = token not in known and not first
    SecurityRecord.objects.create(user_id=user.pk, kind=LOGIN, data={
        "how": how, **({"new_browser": True} if new_browser else {}), **_browser(request)})
    if new_browser:
        notify(user, NEW_BROWSER, request=request)
    kept = [token, *(t for t in known if t != token)][:KNOWN_KEEP]
    response.set_cookie(KNOWN_COOKIE, ".".join(kept), max_age=KNOWN_SECONDS, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


def _mail(user_id: int, address: str, kind: str, data: dict, at: datetime) -> int:
    try:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            return 0
        zone = member_zones([user_id])[user_id]
        base = settings.SITE_URL.rstrip("/")
        with translation.override(language.of(user_id)), timezone.override(zone):
            what, advice = text(kind, data)
            context = {
                "name": user.get_full_name() or user.get_username(), "username": user.get_username(),
                "what": what, "advice": advice, "where": where(data), "zone": zone,
                "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
                "account_url": base + reverse("account"), "login_url": base + reverse("login"),
            }
            body = render_to_string("frontend/email/security_notice.txt", context)
            html = render_to_string("frontend/email/security_notice.html", context)
            subject = _("Security notice for your Branchline account %(username)s") % {
                "username": user.get_username()}
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], html_message=html)
    except Exception:
        log.exception("could not mail a security notice to user %s", user_id)
        return 0


# 安全记录: the security log.

@receiver(user_login_failed)
def _failed_login(sender, credentials, request=None, step: str = "password", **kwargs) -> None:
    """A wrong password (any login form, or where a page asks for it again) or a wrong
    two-step code, for an account that exists. Not what a throttled username is
    refused without a check (accounts/throttle.py): that could fill the log."""
    if request is not None and getattr(request, "login_throttled", False):
        return
    username = str(credentials.get("username") or "")
    user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if user is not None:
        SecurityRecord.objects.create(user_id=user.pk, kind=LOGIN_FAILED, data={"step": step, **_browser(request)})


def log_of(user, *, before: int | None = None, limit: int = LOG_PAGE) -> list[dict]:
    """The member's security log, newest first: each with `id`, `kind`, `at`, `what`
    (active language), `where` (browser and address) and `failed` (a wrong password or code)."""
    rows = SecurityRecord.objects.filter(user=user).order_by("-id")  # written as they happen: newest last
    if before is not None:
        rows = rows.filter(id__lt=before)
    return [{"id": row.pk, "kind": row.kind, "at": row.at, "what": text(row.kind, row.data)[0],
             "where": where(row.data), "failed": row.kind == LOGIN_FAILED} for row in rows[:limit]]


@register_periodic("accounts.security_log", every_seconds=3600)
def prune_log(now: datetime | None = None) -> int:
    """Records older than LOG_DAYS go (every process runs it; deleting twice is harmless)."""
    cutoff = (now or timezone.now()) - timedelta(days=LOG_DAYS)
    return SecurityRecord.objects.filter(at__lt=cutoff).delete()[0]
