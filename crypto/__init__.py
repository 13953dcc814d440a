"""sealdrop's cryptography: envelope formats v2 (written; pyca/cryptography: HPKE, AES-GCM)
and v1 (read; PyNaCl), reviewer keys and fingerprints.

Sealing::

    with Sealer(out, [PublicKey.from_file("reviewer.pub")]) as envelope:
        envelope.add_message("what happened")
        envelope.add_file("photo.jpg", "image/jpeg", open("photo.jpg", "rb"))

Opening (nothing reaches the sink's destination unless every byte verifies)::

    contents = open_envelope(source, [identity], DirectorySink("vault/abc"))
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    CorruptedEnvelope,
    EnvelopeError,
    EpochKeyDeleted,
    InvalidIdentityFile,
    InvalidPublicKey,
    MalformedContent,
    NotAnEnvelope,
    NotForYou,
    SealdropError,
    TruncatedEnvelope,
    UnsupportedVersion,
    WrongPassphrase,
)

# The rest is imported when first used (PEP 562): a program that only lists what is already
# open (the staff app) need not load the envelope formats and their ciphers at start-up.
_LAZY = {
    "Attachment": "convenience",
    "open_bytes": "convenience",
    "seal_bytes": "convenience",
    "CHUNK_SIZE": "envelope",
    "Contents": "envelope",
    "Header": "envelope",
    "Part": "envelope",
    "Sealer": "envelope",
    "Sink": "envelope",
    "open_envelope": "envelope",
    "plaintext_length_of": "envelope",
    "read_header": "envelope",
    "PartInfo": "framing",
    "Identity": "keys",
    "PublicKey": "keys",
    "ContentTooLarge": "sinks",
    "DirectorySink": "sinks",
    "MemorySink": "sinks",
    "NullSink": "sinks",
}

if TYPE_CHECKING:
    from .convenience import Attachment, open_bytes, seal_bytes
    from .envelope import (
        CHUNK_SIZE,
        Contents,
        Header,
        Part,
        Sealer,
        Sink,
        open_envelope,
        plaintext_length_of,
        read_header,
    )
    from .framing import PartInfo
    from .keys import Identity, PublicKey
    from .sinks import ContentTooLarge, DirectorySink, MemorySink, NullSink


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CHUNK_SIZE",
    "Attachment",
    "ContentTooLarge",
    "Contents",
    "CorruptedEnvelope",
    "DirectorySink",
    "EnvelopeError",
    "EpochKeyDeleted",
    "Header",
    "Identity",
    "InvalidIdentityFile",
    "InvalidPublicKey",
    "MalformedContent",
    "MemorySink",
    "NotAnEnvelope",
    "NotForYou",
    "NullSink",
    "Part",
    "PartInfo",
    "PublicKey",
    "SealdropError",
    "Sealer",
    "Sink",
    "TruncatedEnvelope",
    "UnsupportedVersion",
    "WrongPassphrase",
    "open_bytes",
    "open_envelope",
    "plaintext_length_of",
    "read_header",
    "seal_bytes",
]
