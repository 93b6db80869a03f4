"""Small values sealed with AES-GCM under keys derived from SECRET_KEY.

Each purpose has a key of its own (HKDF-SHA256 over SECRET_KEY, the purpose as its
`info`), so a value sealed for one use never opens as another, and none of these keys
is SECRET_KEY itself, which Django signs with. Opening tries SECRET_KEY, then each of
SECRET_KEY_FALLBACKS, so a key can be rotated: keep the old one among the fallbacks
until what it sealed has been sealed again under the new one.

A sealed value is: format byte (1) | nonce (12) | AES-GCM ciphertext with its tag (16).
The associated data (`aad`) binds it to where it is kept (a row's key, say): copied
elsewhere, it does not open.

It protects against whoever has the database (a dump, a backup, the WAL) without the
server's SECRET_KEY; whoever holds both can open everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.encoding import force_bytes

FORMAT = 1
NONCE_BYTES = 12  # 96 bits, random each time: far fewer seals per key than 2**32, so no reuse to fear
TAG_BYTES = 16


class Unreadable(Exception):
    """No configured key opens this sealed value (SECRET_KEY changed without a fallback, or the value was altered)."""


def derive_key(secret: str | bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(force_bytes(secret))


def configured_secrets() -> Iterable[str | bytes]:
    """SECRET_KEY, then SECRET_KEY_FALLBACKS. Read at each call, not at import: settings
    may change (tests, a rotation in a shell)."""
    yield settings.SECRET_KEY
    yield from getattr(settings, "SECRET_KEY_FALLBACKS", ())


def seal(purpose: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """`plaintext` sealed under the current SECRET_KEY's key for `purpose`."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(derive_key(settings.SECRET_KEY, purpose)).encrypt(nonce, plaintext, purpose + b"\0" + aad)
    return bytes([FORMAT]) + nonce + ciphertext


def open_sealed(purpose: bytes, sealed: bytes | memoryview, aad: bytes = b"") -> tuple[bytes, bool]:
    """The plaintext, and whether the current SECRET_KEY opened it (False: a fallback
    did, and the value should be sealed again). Raises Unreadable."""
    blob = bytes(sealed)  # PostgreSQL hands bytea back as a memoryview
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[0] != FORMAT:
        raise Unreadable("not a sealed value of the expected format")
    nonce, ciphertext = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
    for i, secret in enumerate(configured_secrets()):
        try:
            return AESGCM(derive_key(secret, purpose)).decrypt(nonce, ciphertext, purpose + b"\0" + aad), i == 0
        except InvalidTag:
            continue
    raise Unreadable("no configured key opens this sealed value")
