"""Whole-envelope helpers for small payloads (replies, tests). Large ones should stream."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .envelope import Contents, Sealer, open_envelope
from .keys import Identity, PublicKey
from .sinks import MemorySink


@dataclass(frozen=True)
class Attachment:
    name: str
    media_type: str
    data: bytes


def seal_bytes(
    recipients: Sequence[PublicKey],
    message: str = "",
    attachments: Iterable[Attachment] = (),
    fields: Mapping[str, str] | None = None,
    trailer: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> bytes:
    out = io.BytesIO()
    sealer = Sealer(out, recipients, version=version)
    sealer.add_message(message)
    for name, value in (fields or {}).items():
        sealer.add_field(name, value)
    for attachment in attachments:
        sealer.add_file(attachment.name, attachment.media_type, attachment.data)
    sealer.close(trailer)
    return out.getvalue()


def open_bytes(
    envelope: bytes, identities: Iterable[Identity], max_bytes: int = 16 << 20
) -> Contents:
    return open_envelope(io.BytesIO(envelope), identities, MemorySink(max_bytes))
