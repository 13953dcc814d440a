"""Strict base64 (docs/FORMAT.md, preamble): RFC 4648 §4 with padding, nothing else, canonical.

Python's ``b64decode(validate=True)`` still accepts a last character whose unused bits are not
zero (``QR==`` reads as ``A``), so two texts would stand for one key or signature; here the
text must be exactly what encoding its bytes gives back.
"""

from __future__ import annotations

import base64
import binascii


def decode(text: str | bytes) -> bytes:
    """The bytes ``text`` encodes; ValueError unless it is canonical padded base64."""
    raw = text.encode("ascii") if isinstance(text, str) else bytes(text)  # ValueError if not
    try:
        data = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if base64.b64encode(data) != raw:
        raise ValueError("not canonical base64")
    return data
