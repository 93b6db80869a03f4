"""两步验证 (two-step verification): a password and a code from the member's phone.

A member turns it on from 我的账号: the page shows a QR code (and the key as text) for
an authenticator app, and a code from the app confirms it. From then on the login page
asks for a code after the password (frontend/two_factor_views.py): a six-digit code from the app,
good once and for about a minute and a half (the 30-second step before and after
count too, for a phone's clock that is a little off), or one of ten recovery codes,
each good once, shown when it was turned on, for a lost phone. Wrong codes count as
failed logins of that username (accounts/throttle.py), and five in a row send the
person back to the password. An administrator who deletes the row in the admin turns
it off for someone who has lost both.

The app's key is kept sealed (AES-GCM under a key derived from SECRET_KEY,
server/sealing.py), bound to its member: a dump or backup of the database alone does
not give anyone the codes of every member's phone. After SECRET_KEY changes, keys
sealed under the old one open while it is among SECRET_KEY_FALLBACKS, and each is
sealed again under the new one at its member's next code (or all at once with
`manage.py reseal_two_factor`). Without the old key they cannot be opened: their
members log in with a recovery code and turn it on again.

记住此浏览器: with the box ticked at the code, the browser gets a signed cookie that
spares it the code for TRUST_DAYS (the password is still asked). The cookie is good
only while the password, the key and the row's `trust_epoch` stay as they were: a new
password, two-step verification turned off and on, or "ask on every browser again" on
我的账号 ends every remembered browser at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

import pyotp
import segno
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from server import sealing

from .models import Membership, TwoFactor

log = logging.getLogger(__name__)

ISSUER = "Branchline"
# Fixed forever: another label derives another key, and no key sealed so far would open.
KEY_PURPOSE = b"branchline.accounts.two-factor-key"
RECOVERY_CODES = 10
# No 0/o, 1/l/i: read off paper and typed on a phone.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _in_force(user):
    """The member's row once a code has confirmed it (not while being set up)."""
    return TwoFactor.objects.filter(user=user, confirmed_at__isnull=False)


def enabled(user) -> bool:
    return _in_force(user).exists()


def enabled_among(user_ids) -> set[int]:
    """Which of these people have it on (the secretary's members page)."""
    return set(TwoFactor.objects.filter(user_id__in=list(user_ids), confirmed_at__isnull=False)
               .values_list("user_id", flat=True))


def pending_setup(user) -> TwoFactor | None:
    setup = TwoFactor.objects.filter(user=user, confirmed_at__isnull=True).first()
    if setup is not None and app_key(setup) is None:  # sealed under a SECRET_KEY no longer kept: start again
        setup.delete()
        return None
    return setup


def start(user) -> TwoFactor:
    """A new key for the app, not yet in force (until confirm())."""
    cancel_setup(user)
    if enabled(user):
        raise ValueError("two-step verification is already on")
    return TwoFactor.objects.create(user=user, sealed_key=seal_key(user.pk, pyotp.random_base32(32)))


def cancel_setup(user) -> None:
    TwoFactor.objects.filter(user=user, confirmed_at__isnull=True).delete()


def seal_key(user_id: int, key: str) -> bytes:
    """The app's key as kept: sealed, and bound to its member (it opens on no other row)."""
    return sealing.seal(KEY_PURPOSE, key.encode(), str(user_id).encode())


def app_key(two_factor: TwoFactor) -> str | None:
    """The key the app was given (base32), or None when no configured SECRET_KEY opens
    it (logged). One that a fallback key opened is sealed again under the current key
    on the row in hand; the caller saves `sealed_key` with what it saves."""
    try:
        key, current = sealing.open_sealed(KEY_PURPOSE, two_factor.sealed_key, str(two_factor.user_id).encode())
    except sealing.Unreadable:
        log.error("the two-step verification key of user %s does not open: SECRET_KEY changed and the old key is "
                  "not in SECRET_KEY_FALLBACKS", two_factor.user_id)
        return None
    if not current:
        two_factor.sealed_key = seal_key(two_factor.user_id, key.decode())
    return key.decode()


def key_unreadable(user) -> bool:
    """On, and its key no longer opens here (SECRET_KEY changed without a fallback)."""
    two_factor = _in_force(user).first()
    return two_factor is not None and app_key(two_factor) is None


def app_link(two_factor: TwoFactor) -> str:
    """The otpauth:// link the QR code holds."""
    return pyotp.TOTP(app_key(two_factor)).provisioning_uri(name=two_factor.user.get_username(), issuer_name=ISSUER)


def qr_svg(two_factor: TwoFactor) -> str:
    """The QR code as inline SVG markup (no style attributes: the pages' policy)."""
    return segno.make(app_link(two_factor), error="m").svg_inline(scale=5, border=2, svgclass="qr", lineclass=None)


def grouped_secret(two_factor: TwoFactor) -> str:
    """The key as a person types it into an app: groups of four."""
    key = app_key(two_factor)
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def _normalised(code: str) -> str:
    return "".join(str(code).split()).replace("-", "").lower()


def _digest(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        codes.append(f"{raw[:4]}-{raw[4:]}")
    return codes


def _app_code_step(two_factor: TwoFactor, code: str) -> int | None:
    """The step whose code this is, if it is a code of the app not used before."""
    code = _normalised(code)
    if len(code) != 6 or not code.isdigit():
        return None
    key = app_key(two_factor)
    if key is None:
        return None
    totp = pyotp.TOTP(key)
    now = totp.timecode(timezone.now())
    for step in (now - 1, now, now + 1):
        if step > two_factor.last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm(user, code: str) -> list[str] | None:
    """Put the pending key in force if `code` is the app's current code: the recovery
    codes, to be shown this once; None if the code is wrong."""
    with transaction.atomic():
        two_factor = TwoFactor.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
        if two_factor is None:
            return None
        step = _app_code_step(two_factor, code)
        if step is None:
            return None
        codes = _new_recovery_codes()
        two_factor.confirmed_at = timezone.now()
        two_factor.last_step = step
        two_factor.recovery = [_digest(c) for c in codes]
        two_factor.save()
    return codes


def check(user, code: str) -> str | None:
    """After the password: "app" or "recovery" if `code` is good (and now used), else None."""
    with transaction.atomic():
        two_factor = _in_force(user).select_for_update().first()
        if two_factor is None:
            return None
        step = _app_code_step(two_factor, code)
        if step is not None:
            two_factor.last_step = step
            two_factor.save(update_fields=["last_step", "sealed_key"])  # sealed again, if a fallback opened it
            return "app"
        digest = _digest(code)
        for kept in two_factor.recovery:
            if hmac.compare_digest(kept, digest):
                two_factor.recovery = [d for d in two_factor.recovery if d != kept]
                two_factor.save(update_fields=["recovery", "sealed_key"])
                return "recovery"
    return None


def recovery_left(user) -> int:
    found = _in_force(user).values_list("recovery", flat=True).first()
    return len(found or [])


def new_recovery_codes(user, code: str) -> list[str] | None:
    """Replace the recovery codes, if `code` is good: the new ones, to be shown once."""
    if check(user, code) is None:
        return None
    codes = _new_recovery_codes()
    TwoFactor.objects.filter(user=user).update(recovery=[_digest(c) for c in codes])
    return codes


def turn_off(user, code: str) -> bool:
    """Off again, if `code` is good (and it is not required of them)."""
    if required_of(user) or check(user, code) is None:
        return False
    TwoFactor.objects.filter(user=user).delete()
    return True


# Required of some (TWO_FACTOR_REQUIRED): Discourse's enforce_second_factor, by role.

def required_of(user) -> bool:
    """Must `user` have two-step verification on to use the site?"""
    rule = settings.TWO_FACTOR_REQUIRED
    if not rule or not getattr(user, "is_authenticated", False):
        return False
    if "all" in rule or ("staff" in rule and user.is_staff):
        return True
    roles = rule & {"secretary", "moderator"}
    return bool(roles) and Membership.objects.filter(user=user, role__in=roles).exists()


def missing(user) -> bool:
    """Required of `user` and not on yet: they may use 我的账号 alone."""
    return required_of(user) and not enabled(user)


# 记住此浏览器

TRUST_DAYS = 30
_TRUST_SALT = "branchline.two-factor-trust"


def _trust_cookie(user) -> str:
    # One per account (a shared computer may remember several), named by a digest,
    # not the account's id.
    return "bl_2fa_" + salted_hmac(_TRUST_SALT + ".name", str(user.pk)).hexdigest()[:12]


def _trust_mark(user, two_factor: TwoFactor) -> str | None:
    key = app_key(two_factor)  # the key, not how it is sealed: sealing it again trusts the same browsers
    if key is None:
        return None
    return salted_hmac(_TRUST_SALT, f"{user.pk}:{key}:{two_factor.trust_epoch}:{user.password}").hexdigest()


def code_needed(request, user) -> bool:
    """After a right password: does this login owe a code? Not when it is off, nor in a
    browser remembered for this account."""
    two_factor = _in_force(user).first()
    if two_factor is None:
        return False
    try:
        mark = signing.loads(request.COOKIES.get(_trust_cookie(user), ""), salt=_TRUST_SALT,
                             max_age=TRUST_DAYS * 86400)
    except signing.BadSignature:  # none, tampered with, or expired
        return True
    expected = _trust_mark(user, two_factor)
    return not (isinstance(mark, str) and expected is not None and hmac.compare_digest(mark, expected))


def remember_browser(response, user) -> None:
    """After a good code with the box ticked: this browser logs in without one for a while."""
    two_factor = _in_force(user).first()
    mark = two_factor and _trust_mark(user, two_factor)
    if not mark:
        return
    response.set_cookie(_trust_cookie(user), signing.dumps(mark, salt=_TRUST_SALT),
                        max_age=TRUST_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


def forget_browsers(user) -> None:
    """Every remembered browser asks for the code again."""
    TwoFactor.objects.filter(user=user).update(trust_epoch=F("trust_epoch") + 1)


def reseal_all() -> tuple[int, int]:
    """Seal every key again under the current SECRET_KEY (after a change, so that the
    old key can leave SECRET_KEY_FALLBACKS): (sealed again, could not be opened)."""
    resealed = unreadable = 0
    for pk in TwoFactor.objects.values_list("pk", flat=True):
        with transaction.atomic():
            two_factor = TwoFactor.objects.select_for_update().filter(pk=pk).first()
            if two_factor is None:
                continue
            before = bytes(two_factor.sealed_key)
            if app_key(two_factor) is None:
                unreadable += 1
            elif bytes(two_factor.sealed_key) != before:
                two_factor.save(update_fields=["sealed_key"])
                resealed += 1
    return resealed, unreadable
