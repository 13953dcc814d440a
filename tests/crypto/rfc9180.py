"""RFC 9180 HPKE, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-GCM: written from the
RFC's text (sections 4, 5.1, 7.1.3) for tests only, because pyca/cryptography's HPKE takes no
fixed ephemeral key. It reproduces the RFC's published vector and makes the v2 vectors
reproducible byte for byte; the product always uses pyca's HPKE (crypto.hpke_stanza).
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

KEM_ID, KDF_ID = 0x0020, 0x0001
AEAD_KEY_BYTES = {0x0001: 16, 0x0002: 32}  # AES-128-GCM, AES-256-GCM
KEM_SUITE_ID = b"KEM" + struct.pack(">H", KEM_ID)


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or bytes(32), ikm, "sha256")


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, struct.pack(">H", length) + b"HPKE-v1" + suite_id + label + info, length)


def public_of(secret: bytes) -> bytes:
    key = X25519PrivateKey.from_private_bytes(secret).public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _dh(secret: bytes, public: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(secret).exchange(
        X25519PublicKey.from_public_bytes(public)
    )


def derive_key_pair(ikm: bytes) -> tuple[bytes, bytes]:
    """DeriveKeyPair (7.1.3): (sk, pk)."""
    prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    secret = labeled_expand(KEM_SUITE_ID, prk, b"sk", b"", 32)
    return secret, public_of(secret)


def _shared_secret(dh: bytes, kem_context: bytes) -> bytes:
    prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE_ID, prk, b"shared_secret", kem_context, 32)


def encap(public_r: bytes, secret_e: bytes) -> tuple[bytes, bytes]:
    """Encap (4.1) with the ephemeral secret given: (shared_secret, enc)."""
    enc = public_of(secret_e)
    return _shared_secret(_dh(secret_e, public_r), enc + public_r), enc


def decap(enc: bytes, secret_r: bytes) -> bytes:
    return _shared_secret(_dh(secret_r, enc), enc + public_of(secret_r))


@dataclass(frozen=True)
class Schedule:
    key_schedule_context: bytes
    secret: bytes
    key: bytes
    base_nonce: bytes
    exporter_secret: bytes


def key_schedule(shared_secret: bytes, info: bytes, aead_id: int) -> Schedule:
    """KeySchedule (5.1) in mode_base: no PSK."""
    suite_id = b"HPKE" + struct.pack(">HHH", KEM_ID, KDF_ID, aead_id)
    psk_id_hash = labeled_extract(suite_id, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(suite_id, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(suite_id, shared_secret, b"secret", b"")
    return Schedule(
        context,
        secret,
        labeled_expand(suite_id, secret, b"key", context, AEAD_KEY_BYTES[aead_id]),
        labeled_expand(suite_id, secret, b"base_nonce", context, 12),
        labeled_expand(suite_id, secret, b"exp", context, 32),
    )


def seal_base(
    public_r: bytes, info: bytes, aad: bytes, plaintext: bytes, secret_e: bytes, aead_id: int = 2
) -> tuple[bytes, bytes]:
    """SealBase (6.1), the first message (sequence number 0): (enc, ciphertext)."""
    shared, enc = encap(public_r, secret_e)
    schedule = key_schedule(shared, info, aead_id)
    return enc, AESGCM(schedule.key).encrypt(schedule.base_nonce, plaintext, aad or None)


def open_base(
    enc: bytes, secret_r: bytes, info: bytes, aad: bytes, ciphertext: bytes, aead_id: int = 2
) -> bytes:
    """OpenBase (6.1), sequence number 0; raises cryptography's InvalidTag."""
    schedule = key_schedule(decap(enc, secret_r), info, aead_id)
    return AESGCM(schedule.key).decrypt(schedule.base_nonce, ciphertext, aad or None)
