"""sealdrop's cryptography: envelope formats v2 (written; pyca/cryptography: HPKE, AES-GCM)
and v1 (read; PyNaCl), reviewer keys and fingerprints.

Sealing::

    with Sealer(out, [PublicKey.from_file("reviewer.pub")]) as envelope:
        envelope.add_message("what happened")
        envelope.add_file("photo.jpg", "image/jpeg", open("photo.jpg", "rb"))

Opening (nothing reaches the sink's destination unless every byte verifies)::

    contents = open_envelope(source, [identity], DirectorySink("vault/abc"))
"""

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
from .framing import PartInfo
from .keys import Identity, PublicKey
from .sinks import ContentTooLarge, DirectorySink, MemorySink, NullSink

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
