"""Deployment statements (FORMAT.md §7) and strict base64, whole-file."""

from __future__ import annotations

import nacl.bindings as sodium
import nacl.exceptions

from .envelope import blake2b


def signing_fingerprint(public_key: bytes) -> str:
    digest = blake2b(public_key, 16, b"sealdrop-signing-fingerprint-v1").hex()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def strict_base64(text: bytes) -> bytes | None:
    import base64
    import binascii

    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return data if base64.b64encode(data) == text else None


def verify_statement(data: bytes, public_key: bytes) -> str:
    """ok, bad-signature or malformed, checked in §7's order."""
    import datetime
    import re

    if len(data) > 65536 or not data.endswith(b"\n"):
        return "malformed"
    lines = data.split(b"\n")[:-1]
    body = b"".join(line + b"\n" for line in lines[:-1])
    last = lines[-1]
    signature = strict_base64(last[11:]) if last.startswith(b"signature: ") else None
    if signature is None or len(signature) != 64:
        return "malformed"
    try:
        sodium.crypto_sign_open(signature + body, public_key)
    except nacl.exceptions.BadSignatureError:
        return "bad-signature"
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return "malformed"
    rows = text.split("\n")[:-1]
    if not rows or rows[0] not in ("sealdrop-deployment-v1", "sealdrop-deployment-v2"):
        return "malformed"
    if "\r" in text:
        return "malformed"
    fields = [row.split(": ", 1) if ": " in row else [row, ""] for row in rows[1:]]
    names = [name for name, _ in fields]
    n_recipients = names.count("recipient")
    n_assets = len(names) - 3 - n_recipients
    expected = ["onion", "version", "issued"] + ["recipient"] * n_recipients + ["asset"] * n_assets
    if names != expected or n_recipients < 1 or n_assets < 1:
        return "malformed"
    values = [value for _, value in fields]
    onion, version, issued = values[:3]
    recipients, assets = values[3 : 3 + n_recipients], values[3 + n_recipients :]
    if not re.fullmatch(r"[a-z2-7]{56}\.onion", onion):
        return "malformed"
    if not re.fullmatch(r"[0-9A-Za-z.+!-]{1,64}", version):
        return "malformed"
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", issued):
        return "malformed"
    try:
        datetime.date(int(issued[:4]), int(issued[5:7]), int(issued[8:]))
    except ValueError:
        return "malformed"
    if rows[0].endswith("-v2"):  # each recipient may carry a member signing key (§7, §8.1)
        recipients, keys = [r[:39] for r in recipients], [r[39:] for r in recipients]
        if not any(keys) or not all(_member_key(k[1:]) for k in keys if k):
            return "malformed"
        if not all(k[:1] == " " for k in keys if k):
            return "malformed"
    if not all(re.fullmatch(r"[0-9a-f]{4}( [0-9a-f]{4}){7}", r) for r in recipients):
        return "malformed"
    if recipients != sorted(set(recipients)):
        return "malformed"
    segment = r"[a-z0-9][a-z0-9._-]*"
    paths = []
    for asset in assets:
        digest, _, path = asset.partition(" ")
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            return "malformed"
        if not re.fullmatch(f"{segment}(/{segment})*", path):
            return "malformed"
        paths.append(path.encode())
    return "ok" if paths == sorted(set(paths)) else "malformed"


def _member_key(line: str) -> bool:
    """A canonical §8.1 signing key line (lowercase, its member checksum)."""
    from .envelope import Refused
    from .keyfiles import read_key_line

    if line != line.strip().lower() or " " in line:
        return False
    try:
        read_key_line(line, "sdsig1", b"sealdrop-sigkey-checksum-v1")
    except Refused:
        return False
    return True
