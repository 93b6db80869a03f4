"""A secret vote's running counts, sealed with AES-GCM under a key derived from SECRET_KEY.

Why sealed and not merely aggregated: each ballot's transaction both inserts the
voter's `VoteParticipation` and rewrites the tally. A database admin can read the old
row versions (PostgreSQL dead tuples through pageinspect until VACUUM, the WAL,
backups; SQLite's WAL and free pages), and the participation row's xmin is that same
transaction. Clear counts would let them diff two versions and read the choice of
whoever voted in between. Sealed, every stored version is opaque bytes of one length.

A sealed tally is: format byte (1) | nonce (12) | AES-GCM ciphertext with its tag (16).
The plaintext is one big-endian unsigned 32-bit count per option, in the vote's
option order: fixed length, so the blob's size never shows a count gaining a digit.
The associated data names the purpose, the vote and its ordered option keys, so a
blob copied onto another vote, or options reordered under it, do not open.

It does not protect against whoever holds the database and the server's SECRET_KEY
(and this code): they can open every old version. See docs/protocol.md, "Meetings".
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from server.sealing import NONCE_BYTES, TAG_BYTES, configured_secrets, derive_key

# Fixed forever: a different label derives a different key and no tally sealed so far
# would open. It also keeps this key apart from Django's other uses of SECRET_KEY.
PURPOSE = b"branchline.meetings.secret-tally"
FORMAT = 1
COUNT = struct.Struct(">I")


class TallyUnreadable(Exception):
    """No configured key opens this sealed tally (SECRET_KEY changed without a fallback, or the blob was altered)."""


def sealed_length(option_count: int) -> int:
    """The length of every sealed tally of a vote with this many options, whatever the counts."""
    return 1 + NONCE_BYTES + COUNT.size * option_count + TAG_BYTES


def seal_counts(vote_id: int, keys: Sequence[str], counts: Mapping[str, int], *, part: str = "") -> bytes:
    """Seal `counts` (option key -> count; missing keys are 0) under the current SECRET_KEY.

    Plain values, not models, so the data migration can call it with historical rows.
    `part` names counts other than the vote's whole tally ("paper": the ballot box's share,
    models.PaperCount), so that neither blob opens in the other's place.
    """
    unknown = set(counts) - set(keys)
    if unknown:
        raise ValueError(f"counts for keys that are not options of vote {vote_id}: {sorted(unknown)}")
    plaintext = b"".join(COUNT.pack(counts.get(key, 0)) for key in keys)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(derive_key(settings.SECRET_KEY, PURPOSE)).encrypt(
        nonce, plaintext, _associated_data(vote_id, keys, part))
    return bytes([FORMAT]) + nonce + ciphertext


def open_counts(vote_id: int, keys: Sequence[str], sealed: bytes | memoryview, *, part: str = "") -> dict[str, int]:
    """The counts in `sealed`, by option key; tries SECRET_KEY, then each of SECRET_KEY_FALLBACKS."""
    blob = bytes(sealed)  # PostgreSQL hands bytea back as a memoryview
    if len(blob) != sealed_length(len(keys)) or blob[0] != FORMAT:
        raise TallyUnreadable(f"the sealed tally of vote {vote_id} is not in the expected format")
    nonce, ciphertext = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
    aad = _associated_data(vote_id, keys, part)
    for secret in configured_secrets():
        try:
            plaintext = AESGCM(derive_key(secret, PURPOSE)).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            continue
        return {key: count for key, (count,) in zip(keys, COUNT.iter_unpack(plaintext))}
    raise TallyUnreadable(f"no configured key opens the sealed tally of vote {vote_id}")


def _associated_data(vote_id: int, keys: Sequence[str], part: str = "") -> bytes:
    # JSON for an unambiguous encoding of the id and the keys' order; the whole tally's
    # data is what it was before parts existed, so tallies sealed then still open.
    named = [vote_id, list(keys), part] if part else [vote_id, list(keys)]
    return PURPOSE + b"\x00" + bytes([FORMAT]) + json.dumps(named).encode()
