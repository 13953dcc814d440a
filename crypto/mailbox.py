"""Mailbox ids: where the server keeps a codename's replies (docs/FORMAT.md §5.8).

A mailbox id is all a seized server holds of a codename, so it is derived with a hard function
(PBKDF2-HMAC-SHA256, which every browser has natively in WebCrypto, with or without JIT and
WebAssembly) salted with the deployment's own random salt: a guess costs MAILBOX_ITERATIONS
HMAC-SHA256 iterations and is good for one deployment only. The legacy id (one keyed BLAKE2b,
the same on every deployment) is what submissions sealed before version 2 carry; checks still
look it up, new submissions never name it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from . import _sodium

LEGACY_LABEL = b"sealdrop-mailbox-v1"
V2_LABEL = b"sealdrop-mailbox-v2"
MAILBOX_ITERATIONS = 20_000
SALT_BYTES = 16
ID_BYTES = 16


def new_salt() -> bytes:
    """A deployment's mailbox salt: made once, public, never changed (docs/ADMIN.md)."""
    return secrets.token_bytes(SALT_BYTES)


def encode(raw: bytes) -> str:
    """16 bytes as a mailbox id: RFC 4648 base32, lower case, without padding (26 letters)."""
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def legacy_id(master: bytes) -> str:
    return encode(_sodium.keyed_hash(LEGACY_LABEL, master, ID_BYTES))


def v2_input(master: bytes) -> bytes:
    """What PBKDF2 stretches: a 32-byte value of its own, so the master secret itself never
    enters another construction."""
    return _sodium.keyed_hash(V2_LABEL, master, 32)


def v2_id(master: bytes, deployment_salt: bytes) -> str:
    """PBKDF2-HMAC-SHA256(password = v2_input(master), salt = V2_LABEL || deployment salt,
    MAILBOX_ITERATIONS, 16 bytes), encoded as the legacy id is."""
    if len(deployment_salt) != SALT_BYTES:
        raise ValueError(f"a deployment's mailbox salt is {SALT_BYTES} bytes")
    raw = hashlib.pbkdf2_hmac(
        "sha256", v2_input(master), V2_LABEL + deployment_salt, MAILBOX_ITERATIONS, ID_BYTES
    )
    return encode(raw)
