"""Envelopes (FORMAT.md §3): decode, records, the strict JSON of §3.4."""

from __future__ import annotations

import contextlib
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
    """Opens an envelope, reporting the first error in reading order (FORMAT.md §3.5)."""
    if envelope[:8] != b"SEALDROP":
        if envelope and len(envelope) < 8 and b"SEALDROP".startswith(envelope):
            raise Refused("truncated")
        raise Refused("not-an-envelope")
    if len(envelope) >= 9 and envelope[8] != 1:
        raise Refused("unsupported-version")
    if len(envelope) < 10:
        raise Refused("truncated")
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
    mine = False
    for stanza in stanzas:
        for sk in secret_keys:
            pk = sodium.crypto_scalarmult_base(sk)
            if stanza[:8] == key_id(pk) and payload_key is None:
                mine = True
                with contextlib.suppress(nacl.exceptions.CryptoError):
                    payload_key = sodium.crypto_box_seal_open(stanza[8:], pk, sk)
    if payload_key is None:
        raise Refused("corrupted" if mine else "not-for-you")

    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header[-24:], payload_key)
    ad = blake2b(header, 32)
    body = envelope[header_len:]
    plaintext = b""
    start = 0
    while True:
        chunk = body[start : start + 65553]
        start += len(chunk)
        if len(chunk) <= 17:
            raise Refused("truncated")  # includes an "empty FINAL chunk": never written
        try:
            m, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, chunk, ad)
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError):
            raise Refused("corrupted") from None
        final = tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
        if not final and tag != sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE:
            raise Refused("corrupted")
        if not final and len(m) != 65536:
            raise Refused("truncated")
        if final and start < len(body):
            raise Refused("corrupted")  # data after FINAL
        plaintext += m
        result = parse_records(plaintext, complete=final)
        if final:
            assert result is not None
            return result


def parse_records(plaintext: bytes, complete: bool = True) -> tuple[list[dict], dict] | None:
    """Checks the records in ``plaintext``; if not ``complete``, running out of bytes is not
    an error yet (the next chunk may bring them) and None is returned."""
    parts: list[dict] = []
    current: dict | None = None
    pos = 0
    while True:
        if pos + 5 > len(plaintext):
            if complete:
                raise Refused("malformed-content")
            return None
        kind = plaintext[pos]
        length = int.from_bytes(plaintext[pos + 1 : pos + 5], "big")
        allowed = {  # record type: (inside a part?, shortest body, longest body)
            1: (False, 2, 8192),
            2: (True, 1, 65536),
            3: (True, 8, 8),
            4: (False, 2, 8192),
        }.get(kind)
        if allowed is None or allowed[0] != (current is not None):
            raise Refused("malformed-content")
        if not allowed[1] <= length <= allowed[2]:
            raise Refused("malformed-content")
        body = plaintext[pos + 5 : pos + 5 + length]
        if len(body) != length:
            if complete:
                raise Refused("malformed-content")
            return None
        pos += 5 + length
        if kind == 1:
            info = strict_json_object(body)
            name, media_type = info.get("name"), info.get("type")
            if info.get("kind") not in ("message", "file", "field"):
                raise Refused("malformed-content")
            if not all(v is None or isinstance(v, str) for v in (name, media_type)):
                raise Refused("malformed-content")
            if info["kind"] != "message" and name is None:
                raise Refused("malformed-content")
            if info["kind"] == "message" and any(p["kind"] == "message" for p in parts):
                raise Refused("malformed-content")
            current = {"kind": info["kind"], "name": name, "type": media_type, "content": b""}
        elif kind == 2:
            assert current is not None
            current["content"] += body
        elif kind == 3:
            assert current is not None
            if int.from_bytes(body, "big") != len(current["content"]):
                raise Refused("malformed-content")
            parts.append(current)
            current = None
        else:
            trailer = strict_json_object(body)
            padding = plaintext[pos:]
            if padding.count(0) != len(padding):
                raise Refused("malformed-content")
            if not complete:
                return None
            if len(plaintext) != padme(max(pos, 2048)):
                raise Refused("malformed-content")
            return parts, trailer


def strict_json_object(body: bytes, max_depth: int = 16) -> dict:
    """FORMAT.md §3.4, written here from the spec: UTF-8 without BOM, no repeated names, no
    NaN or Infinity, integers within ±(2^53 − 1), no unpaired surrogates, depth ≤ max_depth."""

    def pairs(items: list) -> dict:
        names = [name for name, _ in items]
        if len(set(names)) != len(names):
            raise Refused("malformed-content")
        return dict(items)

    def constant(_: str) -> None:
        raise Refused("malformed-content")

    def integer(text: str) -> int:
        if len(text) > 17 or abs(int(text)) > 2**53 - 1:
            raise Refused("malformed-content")
        return int(text)

    def number(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise Refused("malformed-content")
        return value

    def depth(value: object) -> int:
        if isinstance(value, dict):
            return 1 + max(map(depth, value.values()), default=0)
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        return 0

    def texts(value: object) -> None:
        if isinstance(value, str):
            value.encode("utf-8")  # refuses unpaired surrogates
        elif isinstance(value, dict):
            for name, item in value.items():
                texts(name)
                texts(item)
        elif isinstance(value, list):
            for item in value:
                texts(item)

    try:
        text = body.decode("utf-8")
        if text.startswith("\ufeff"):
            raise Refused("malformed-content")
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=constant,
            parse_int=integer,
            parse_float=number,
        )
        if not isinstance(value, dict) or depth(value) > max_depth:
            raise Refused("malformed-content")
        texts(value)
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        raise Refused("malformed-content") from None
    return value
