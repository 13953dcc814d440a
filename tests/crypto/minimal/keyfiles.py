"""Key lines and files (FORMAT.md §1, §2)."""

from __future__ import annotations

import nacl.bindings as sodium
import nacl.exceptions

from .envelope import Refused, blake2b
from .statement import strict_base64

_SPACE = " \t\r"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def read_key_line(line: str, prefix: str = "sdpub1", label: bytes = b"sealdrop-pubkey-checksum-v1"):
    """The 32-byte key of a §1 line, or Refused("invalid")."""
    import base64

    text = "".join(c for c in line if c not in " \t\r\n")
    if not text.isascii():
        raise Refused("invalid")
    text = text.lower()
    body = text[len(prefix) :]
    if not text.startswith(prefix) or len(body) != 58 or any(c not in _B32 for c in body):
        raise Refused("invalid")
    data = base64.b32decode(body.upper() + "======")
    if base64.b32encode(data).decode().rstrip("=").lower() != body:
        raise Refused("invalid")
    if blake2b(data[:32], 4, label) != data[32:]:
        raise Refused("invalid")
    return data[:32]


def read_public_key_file(data: bytes) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("invalid") from None
    for line in text.split("\n"):
        line = line.strip(_SPACE)
        if line.startswith("public-key:"):
            return read_key_line(line[len("public-key:") :])
        if line and not line.startswith("#") and ":" not in line:
            return read_key_line(line)
    raise Refused("invalid")


def read_identity(data: bytes, passphrase: str) -> bytes:
    """The 32-byte secret key, or Refused naming the first failure of §2's order."""
    import unicodedata

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("not-utf8") from None
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.strip(_SPACE)
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, value = (part.strip(_SPACE) for part in line.split(":", 1))
        if name in fields:
            raise Refused("repeated-field")
        fields[name] = value
    if "secret-key" not in fields:
        raise Refused("no-secret-key")
    blob = strict_base64(fields["secret-key"].encode()) if fields["secret-key"].isascii() else None
    if blob is None:
        raise Refused("bad-base64")
    if len(blob) != 101:
        raise Refused("blob-length")
    if blob[0] != 1:
        raise Refused("unsupported-version")
    opslimit, memlimit = int.from_bytes(blob[1:5], "big"), int.from_bytes(blob[5:13], "big")
    if not (1 <= opslimit <= 64 and 8192 <= memlimit <= 4 << 30):
        raise Refused("limits")
    if not passphrase:
        raise Refused("wrong-passphrase")
    key = sodium.crypto_pwhash_alg(
        32,
        unicodedata.normalize("NFC", passphrase).encode(),
        blob[13:29],
        opslimit,
        memlimit,
        sodium.crypto_pwhash_ALG_ARGON2ID13,
    )
    try:
        secret = sodium.crypto_secretbox_open(blob[53:], blob[29:53], key)
    except nacl.exceptions.CryptoError:
        raise Refused("wrong-passphrase") from None
    if "public-key" in fields:
        try:
            public = read_key_line(fields["public-key"])
        except Refused:
            raise Refused("public-key-mismatch") from None
        if public != sodium.crypto_scalarmult_base(secret):
            raise Refused("public-key-mismatch")
    return secret
