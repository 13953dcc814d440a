"""A deliberately minimal, independent reader of every sealdrop format, written from
docs/FORMAT.md alone (tests/crypto/minimal/: one module per section).

It shares no code with crypto/ or reviewer/: if it reads the vectors the way they do, the spec
is enough to implement the formats. Whole-buffer, no streaming, no speed: clarity only.
"""

from __future__ import annotations

from .minimal.bundle import entry_matches, read_bundle
from .minimal.codename import read_codename
from .minimal.envelope import (
    Refused,
    blake2b,
    decode,
    key_id,
    padme,
    parse_records,
    strict_json_object,
)
from .minimal.keyfiles import read_identity, read_key_line, read_public_key_file
from .minimal.statement import signing_fingerprint, strict_base64, verify_statement
from .minimal.team import read_staff_event
from .minimal.threads import conversation_id, thread_members

__all__ = [
    "Refused",
    "blake2b",
    "conversation_id",
    "decode",
    "entry_matches",
    "key_id",
    "padme",
    "parse_records",
    "read_bundle",
    "read_codename",
    "read_identity",
    "read_key_line",
    "read_public_key_file",
    "read_staff_event",
    "signing_fingerprint",
    "strict_base64",
    "strict_json_object",
    "thread_members",
    "verify_statement",
]
