"""The sealed plaintext's records: self-delimiting, so they can be written in one pass.

    record := type (1 byte) || length (4 bytes, big-endian) || body (length bytes)

A part (the message, a file, a form field) is BEGIN, any number of DATA, then END. CLOSE ends
the content; only zero bytes follow it (the padding). See docs/FORMAT.md, section "Plaintext".
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import strictjson
from .errors import MalformedContent

BEGIN = 0x01
DATA = 0x02
END = 0x03
CLOSE = 0x04

RECORD_HEAD = struct.Struct(">BI")
MAX_DATA = 65536
MAX_JSON = 8192
MAX_JSON_DEPTH = 16
PART_KINDS = ("message", "file", "field")


@dataclass(frozen=True)
class PartInfo:
    """What BEGIN says about a part. ``name`` is the file name or the field name."""

    kind: str
    name: str | None = None
    media_type: str | None = None

    def to_json(self) -> bytes:
        obj: dict[str, str] = {"kind": self.kind}
        if self.name is not None:
            obj["name"] = self.name
        if self.media_type is not None:
            obj["type"] = self.media_type
        return encode_json(obj)

    @classmethod
    def from_json(cls, body: bytes) -> PartInfo:
        obj = decode_json(body, "BEGIN")
        kind, name, media_type = obj.get("kind"), obj.get("name"), obj.get("type")
        if kind not in PART_KINDS:
            raise MalformedContent(f"a part has unknown kind {kind!r}")
        for value in (name, media_type):
            if value is not None and not isinstance(value, str):
                raise MalformedContent("a part's name and type must be text")
        if kind in ("file", "field") and name is None:
            raise MalformedContent(f"a {kind} part has no name")
        return cls(kind, name, media_type)


def encode_json(obj: Mapping[str, Any]) -> bytes:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_JSON:
        raise ValueError(f"record metadata is larger than {MAX_JSON} bytes")
    return body


def decode_json(body: bytes, what: str) -> dict[str, Any]:
    try:
        return strictjson.loads_object(body, max_bytes=MAX_JSON, max_depth=MAX_JSON_DEPTH)
    except strictjson.JSONRefused as refused:
        raise MalformedContent(f"the {what} record is refused: {refused}") from None


def record(kind: int, body: bytes) -> bytes:
    return RECORD_HEAD.pack(kind, len(body)) + body
