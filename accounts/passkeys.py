"""通行密钥 (passkeys): logging in without a password, with a key the member's phone,
computer or security key keeps (WebAuthn, by the `webauthn` library).

A member adds one on 我的账号 (their password first: someone holding a stolen session
must not plant a key of their own), gives it a name, and from then on 用通行密钥登录 on
the login page logs them in: the browser asks for the fingerprint, the face or the
device's PIN, and no username is typed. The authenticator checked both something the
member has (the key) and something they are or know (the user verification, required
here), so such a login asks for no two-step code either, as with GitHub and Discourse.

Kept here: the credential's id, its public key and its use counter; the private key
never leaves the member's device. A passkey belongs to the site name it was made on
(its RP ID, the host of the page): one made at branch.example.org does not work at
another name, and browsers refuse them outright on a bare IP address.

Each challenge is kept in the session for CHALLENGE_SECONDS and used once. Adding and
removing a passkey are security notices (accounts/security.py).
"""

from __future__ import annotations

import ipaddress
import secrets
import time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from . import security
from .models import Passkey

RP_NAME = "Branchline"
MAX_PER_MEMBER = 20
NAME_LENGTH = 60
CHALLENGE_SECONDS = 5 * 60
_NEW = "bl_passkey_new"
_LOGIN = "bl_passkey_login"


class Refused(Exception):
    """What the member is told (active language); nothing was changed."""


def _host(request) -> str:
    """The page's host name without its port: the passkey's RP ID."""
    host = request.get_host()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def usable_at(request) -> bool:
    """Browsers make and use passkeys only for a name (localhost included), never for a
    bare IP address such as the demo's 127.0.0.1."""
    try:
        ipaddress.ip_address(_host(request))
    except ValueError:
        return True
    return False


def _origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _handle(user) -> bytes:
    """The account as the authenticator knows it: stable, and not its database id."""
    return salted_hmac("branchline.passkey-user", str(user.pk)).digest()


def _challenge(request, key: str, challenge: bytes) -> None:
    request.session[key] = {"challenge": bytes_to_base64url(challenge), "at": time.time()}


def _take_challenge(request, key: str) -> bytes:
    """The challenge this browser was given, once: a response is never good twice."""
    kept = request.session.pop(key, None)
    if not isinstance(kept, dict) or time.time() - kept.get("at", 0) > CHALLENGE_SECONDS:
        raise Refused(_("The time for this has run out. Try again."))
    return base64url_to_bytes(kept["challenge"])


def _refuse_here(request) -> None:
    if not usable_at(request):
        raise Refused(_("Passkeys work only when this site is opened by its name (such as localhost), "
                        "not by an IP address."))


def _at_most() -> Refused:
    return Refused(_("You have %(count)d passkeys, the most an account may have. Remove one first.")
                   % {"count": MAX_PER_MEMBER})


def of(user) -> list[Passkey]:
    return list(Passkey.objects.filter(user=user).order_by("created_at", "pk"))


def new_options(request, user) -> dict:
    """What the browser needs to make a passkey for `user` (navigator.credentials.create)."""
    _refuse_here(request)
    if Passkey.objects.filter(user=user).count() >= MAX_PER_MEMBER:
        raise _at_most()
    options = generate_registration_options(
        rp_id=_host(request), rp_name=RP_NAME, user_id=_handle(user), user_name=user.get_username(),
        user_display_name=user.get_full_name() or user.get_username(),
        challenge=secrets.token_bytes(32),
        # Discoverable (kept on the device with the account), so the login asks no
        # username; verified by fingerprint, face or PIN, so it counts as two steps.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in of(user)],
    )
    _challenge(request, _NEW, options.challenge)
    return options_to_json_dict(options)


def add(request, user, name: str, credential) -> Passkey:
    """Keep the passkey the browser made (the answer to new_options)."""
    name = " ".join(str(name or "").split())[:NAME_LENGTH] or _("Passkey")
    challenge = _take_challenge(request, _NEW)
    if not isinstance(credential, dict):
        raise Refused(_("The browser's answer could not be checked, so nothing was added. Try again."))
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=_host(request),
            expected_origin=_origin(request), require_user_verification=True)
    except (WebAuthnException, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Refused(_("The browser's answer could not be checked, so nothing was added. Try again.")) from exc
    try:
        with transaction.atomic():
            if Passkey.objects.select_for_update().filter(user=user).count() >= MAX_PER_MEMBER:
                raise _at_most()  # again, under the lock: two tabs adding at once
            passkey = Passkey.objects.create(
                user=user, credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key, sign_count=verified.sign_count, name=name,
                backed_up=verified.credential_backed_up)
            security.notify(user, security.PASSKEY_ADDED, request=request, name=name)
    except IntegrityError as exc:  # the same credential again
        raise Refused(_("This passkey is already kept for an account here.")) from exc
    return passkey


def remove(request, user, passkey_id: int) -> bool:
    """Remove one of `user`'s own passkeys; False if they have none by that id."""
    with transaction.atomic():
        passkey = Passkey.objects.select_for_update().filter(user=user, pk=passkey_id).first()
        if passkey is None:
            return False
        passkey.delete()
        security.notify(user, security.PASSKEY_REMOVED, request=request, name=passkey.name)
    return True


def login_options(request) -> dict:
    """What the login page's browser needs to ask for a passkey (navigator.credentials.get).
    No account is named: the member picks one of the passkeys their device keeps here."""
    _refuse_here(request)
    options = generate_authentication_options(
        rp_id=_host(request), challenge=secrets.token_bytes(32),
        user_verification=UserVerificationRequirement.REQUIRED)
    _challenge(request, _LOGIN, options.challenge)
    return options_to_json_dict(options)


def authenticate(request, credential):
    """The member whose passkey signed this browser's challenge (not yet logged in).
    Raises Refused with what to tell them."""
    challenge = _take_challenge(request, _LOGIN)
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(credential_id, str) or not credential_id or len(credential_id) > 1400:
        raise Refused(_("The browser's answer could not be checked. Try again."))
    with transaction.atomic():
        passkey = (Passkey.objects.select_for_update().select_related("user")
                   .filter(credential_id=credential_id).first())
        if passkey is None:
            raise Refused(_("This passkey is not known here: it may have been removed from its account. "
                            "Log in with your password."))
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=_host(request),
                expected_origin=_origin(request), credential_public_key=bytes(passkey.public_key),
                credential_current_sign_count=passkey.sign_count, require_user_verification=True)
            # The account the device keeps this passkey for must be the one it belongs to here.
            handle = credential["response"].get("userHandle")
            if handle and base64url_to_bytes(handle) != _handle(passkey.user):
                raise ValueError("user handle")
        except (WebAuthnException, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Refused(_("The passkey's answer could not be checked. Try again, or log in with your "
                            "password.")) from exc
        if not passkey.user.is_active:
            raise Refused(_("This account is switched off. Ask your branch secretary."))
        passkey.sign_count = verified.new_sign_count
        passkey.backed_up = verified.credential_backed_up
        passkey.last_used_at = timezone.now()
        passkey.save(update_fields=["sign_count", "backed_up", "last_used_at"])
    return passkey.user
