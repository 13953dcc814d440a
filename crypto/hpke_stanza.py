"""Wrapping an envelope's file key to one recipient with HPKE (RFC 9180, base mode,
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM), as docs/FORMAT.md 9.1 says.

pyca/cryptography's single-shot HPKE does all of it; a stanza's body is its output,
``enc (32) || wrapped file key (48)``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

INFO = b"sealdrop-v2/stanza"
FILE_KEY_BYTES = 32
ENC_BYTES = 32
BODY_BYTES = ENC_BYTES + FILE_KEY_BYTES + 16
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class UnwrapFailed(Exception):
    """The stanza does not open with this key (another key, or damaged)."""


def wrap(public_key: bytes, file_key: bytes) -> bytes:
    """The stanza body sealing ``file_key`` to the X25519 ``public_key``."""
    body = _SUITE.encrypt(file_key, X25519PublicKey.from_public_bytes(public_key), info=INFO)
    assert len(body) == BODY_BYTES
    return body


def unwrap(secret_key: bytes, body: bytes) -> bytes:
    """The file key in a stanza body, opened with the X25519 ``secret_key``."""
    try:
        file_key = _SUITE.decrypt(body, X25519PrivateKey.from_private_bytes(secret_key), info=INFO)
    except (InvalidTag, ValueError):  # ValueError: a low-order ``enc`` (all-zero secret)
        raise UnwrapFailed from None
    if len(file_key) != FILE_KEY_BYTES:
        raise UnwrapFailed
    return file_key
