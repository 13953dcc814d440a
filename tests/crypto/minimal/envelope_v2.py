"""Envelopes, version 2 (FORMAT.md §9): the header, the MAC, STREAM over AES-256-GCM. HPKE
comes from tests/crypto/rfc9180.py (written from the RFC), not from pyca's HPKE."""

from __future__ import annotations

import contextlib
import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import rfc9180
from .envelope import Refused, key_id, parse_records


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    prk = hmac.digest(salt or bytes(32), ikm, "sha256")
    return hmac.digest(prk, info + b"\x01", "sha256")  # RFC 5869 with L = 32: one block


def decode_v2(envelope: bytes, secret_keys: list[bytes]) -> tuple[list[dict], dict]:
    """FORMAT.md section 9, check order 9.3. HPKE from tests/crypto/rfc9180.py, not pyca's."""
    if len(envelope) < 10:
        raise Refused("truncated")
    n = envelope[9]
    if not 1 <= n <= 64:
        raise Refused("corrupted")
    header_len = 10 + 88 * n + 32
    if len(envelope) < header_len:
        raise Refused("truncated")
    header = envelope[:header_len]
    stanzas = [header[10 + 88 * i : 10 + 88 * (i + 1)] for i in range(n)]
    if len({s[:8] for s in stanzas}) != n:
        raise Refused("corrupted")
    file_key = None
    mine = False
    for stanza in stanzas:
        for sk in secret_keys:
            if stanza[:8] == key_id(rfc9180.public_of(sk)) and file_key is None:
                mine = True
                with contextlib.suppress(InvalidTag):
                    file_key = rfc9180.open_base(
                        stanza[8:40], sk, b"sealdrop-v2/stanza", b"", stanza[40:88]
                    )
    if file_key is None:
        raise Refused("corrupted" if mine else "not-for-you")
    mac_key = _hkdf(file_key, b"", b"sealdrop-v2/header")
    if not hmac.compare_digest(hmac.digest(mac_key, header[:-32], "sha256"), header[-32:]):
        raise Refused("corrupted")
    aead = AESGCM(_hkdf(file_key, hashlib.sha256(header).digest(), b"sealdrop-v2/payload"))
    body = envelope[header_len:]
    plaintext = b""
    index = start = 0
    while True:
        chunk = body[start : start + 65552]
        start += len(chunk)
        if len(chunk) <= 16:
            raise Refused("truncated")
        last = start == len(body)
        try:
            m = aead.decrypt(index.to_bytes(11, "big") + bytes([last]), chunk, None)
        except InvalidTag:
            try:
                aead.decrypt(index.to_bytes(11, "big") + bytes([not last]), chunk, None)
            except InvalidTag:
                raise Refused("corrupted") from None
            raise Refused("truncated" if last else "corrupted") from None
        plaintext += m
        result = parse_records(plaintext, complete=last)
        if last:
            assert result is not None
            return result
        index += 1
