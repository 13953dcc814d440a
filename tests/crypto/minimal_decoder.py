"""A deliberately minimal, independent envelope decoder written from docs/FORMAT.md alone.

It shares no code with crypto/: if it opens the vectors the same way crypto/ does, the spec
is enough to implement the format. Whole-buffer, no streaming, no speed: clarity only.
"""

from __future__ import annotations

import json

import nacl.bindings as sodium
import nacl.exceptions


class Refused(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def blake2b(data: bytes, size: int, key: bytes = b"") -> bytes:
    return sodium.crypto_generichash.generichash_blake2b_salt_personal(
        data, digest_size=size, key=key
    )


def key_id(public_key: bytes) -> bytes:
    return blake2b(public_key, 32, b"sealdrop-fingerprint-v1")[:8]


def padme(n: int) -> int:
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


def decode(envelope: bytes, secret_keys: list[bytes]) -> tuple[list[dict], dict]:
    if envelope[:8] != b"SEALDROP":
        raise Refused(
            "truncated"
            if len(envelope) < 8 and b"SEALDROP".startswith(envelope)
            else "not-an-envelope"
        )
    if len(envelope) < 10:
        raise Refused("truncated")
    if envelope[8] != 1:
        raise Refused("unsupported-version")
    n = envelope[9]
    header_len = 10 + 88 * n + 24
    if not 1 <= n <= 64:
        raise Refused("corrupted")
    if len(envelope) < header_len:
        raise Refused("truncated")
    header = envelope[:header_len]
    stanzas = [header[10 + 88 * i : 10 + 88 * (i + 1)] for i in range(n)]
    if len({s[:8] for s in stanzas}) != n:
        raise Refused("corrupted")

    payload_key = None
    for sk in secret_keys:
        pk = sodium.crypto_scalarmult_base(sk)
        for stanza in stanzas:
            if stanza[:8] == key_id(pk):
                try:
                    payload_key = sodium.crypto_box_seal_open(stanza[8:], pk, sk)
                except nacl.exceptions.CryptoError:
                    raise Refused("corrupted") from None
    if payload_key is None:
        raise Refused("not-for-you")

    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header[-24:], payload_key)
    ad = blake2b(header, 32)
    body = envelope[header_len:]
    plaintext = b""
    final = False
    for start in range(0, len(body), 65553):
        if final:
            raise Refused("corrupted")  # data after FINAL
        chunk = body[start : start + 65553]
        try:
            m, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, chunk, ad)
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError):
            raise Refused("corrupted") from None
        if tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL:
            final = True
        elif tag != sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE:
            raise Refused("corrupted")
        plaintext += m
    if not final:
        raise Refused("truncated")
    return parse_records(plaintext)


def parse_records(plaintext: bytes) -> tuple[list[dict], dict]:
    parts: list[dict] = []
    current: dict | None = None
    pos = 0
    while True:
        if pos + 5 > len(plaintext):
            raise Refused("malformed-content")
        kind = plaintext[pos]
        length = int.from_bytes(plaintext[pos + 1 : pos + 5], "big")
        body = plaintext[pos + 5 : pos + 5 + length]
        if len(body) != length:
            raise Refused("malformed-content")
        pos += 5 + length
        if kind == 1 and current is None:
            info = json.loads(body)
            current = {"kind": info["kind"], "name": info.get("name"), "type": info.get("type")}
            current["content"] = b""
        elif kind == 2 and current is not None and length >= 1:
            current["content"] += body
        elif kind == 3 and current is not None and length == 8:
            if int.from_bytes(body, "big") != len(current["content"]):
                raise Refused("malformed-content")
            parts.append(current)
            current = None
        elif kind == 4 and current is None:
            trailer = json.loads(body)
            padding = plaintext[pos:]
            if padding.count(0) != len(padding) or len(plaintext) != padme(max(pos, 2048)):
                raise Refused("malformed-content")
            return parts, trailer
        else:
            raise Refused("malformed-content")
