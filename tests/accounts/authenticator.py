"""A passkey authenticator in software, for the server's side of 通行密钥: it answers
the options the server hands out as a browser's navigator.credentials would (ES256
keys, "none" attestation), signing with real keys, so the server's checks run on
real signatures. Switches make it misbehave the ways a forged or broken answer would.
The browser tests use Chromium's own virtual authenticator instead."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, origin: str = "http://testserver") -> None:
        self.origin = origin
        self.verifies_user = True  # the fingerprint, face or PIN was asked
        self.synced = False
        self.credentials: dict[bytes, dict] = {}  # id -> key, user handle, rp, counter

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def _flags(self, extra: int = 0) -> int:
        flags = UP | extra
        if self.verifies_user:
            flags |= UV
        if self.synced:
            flags |= BE | BS
        return flags

    def create(self, options: dict, credential_id: bytes | None = None) -> dict:
        """navigator.credentials.create({publicKey: options}); `credential_id`: under an id
        already in use (which an honest authenticator would refuse)."""
        rp_id = options["rp"]["id"]
        credential_id = credential_id or os.urandom(16)
        key = ec.generate_private_key(ec.SECP256R1())
        public = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: public.x.to_bytes(32, "big"), -3: public.y.to_bytes(32, "big")})
        self.credentials[credential_id] = {"key": key, "user": unb64(options["user"]["id"]), "rp": rp_id,
                                           "count": 0}
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags(AT)]) + struct.pack(">I", 0)
                     + bytes(16) + struct.pack(">H", len(credential_id)) + credential_id + cose)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(credential_id), "rawId": b64(credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64(self._client_data("webauthn.create", options["challenge"])),
                         "attestationObject": b64(attestation), "transports": ["internal"]},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        }

    def get(self, options: dict, credential_id: bytes | None = None, *, count_step: int = 1) -> dict:
        """navigator.credentials.get({publicKey: options}), with this device's first
        passkey for the site (or the one named)."""
        rp_id = options["rpId"]
        if credential_id is None:
            credential_id = next(c for c, kept in self.credentials.items() if kept["rp"] == rp_id)
        kept = self.credentials[credential_id]
        kept["count"] += count_step
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags()]) + struct.pack(">I", kept["count"])
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = kept["key"].sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(credential_id), "rawId": b64(credential_id), "type": "public-key",
            "response": {"authenticatorData": b64(auth_data), "clientDataJSON": b64(client_data),
                         "signature": b64(signature), "userHandle": b64(kept["user"])},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        }
