"""Format v2's header and payload (docs/FORMAT.md section 9), from standard primitives that
every browser has natively: HPKE stanzas wrapping one random file key, an HMAC over the header
that commits every recipient to that key, and STREAM over AES-256-GCM for the payload.

    header      = "SEALDROP" || 0x02 || n || n × (key_id || enc || wrapped) || mac
    mac         = HMAC-SHA256(HKDF(file_key, info "sealdrop-v2/header"), header before mac)
    payload_key = HKDF(file_key, salt SHA-256(header), info "sealdrop-v2/payload")
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import hpke_stanza
from .errors import (
    CorruptedEnvelope,
    EpochKeyDeleted,
    NotForYou,
    StanzaNotForYourKey,
    TruncatedEnvelope,
)
from .gcm_stream import TAG_BYTES, ChunkFailed, ChunkOpener, ReadExact, sealed_chunks
from .keys import KEY_ID_BYTES, Identity, PublicKey
from .records import RecordReader

VERSION = 2
STANZA_BYTES = KEY_ID_BYTES + hpke_stanza.BODY_BYTES
MAC_BYTES = 32
HEADER_LABEL = b"sealdrop-v2/header"
PAYLOAD_LABEL = b"sealdrop-v2/payload"

Wrap = Callable[[bytes, bytes], bytes]  # (recipient public key, file key) -> stanza body


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, info).derive(ikm)


def header_mac(file_key: bytes, before_mac: bytes) -> bytes:
    return hmac.digest(_hkdf(file_key, None, HEADER_LABEL), before_mac, "sha256")


def header_hash(header: bytes) -> bytes:
    return hashlib.sha256(header).digest()


def payload_key(file_key: bytes, header: bytes) -> bytes:
    return _hkdf(file_key, header_hash(header), PAYLOAD_LABEL)


def build_header(
    preamble: bytes,
    recipients: Sequence[PublicKey],
    file_key: bytes,
    wrap: Wrap = hpke_stanza.wrap,
) -> bytes:
    """The whole header: preamble, one stanza per recipient, the MAC."""
    body = preamble + b"".join(r.key_id + wrap(r.raw, file_key) for r in recipients)
    return body + header_mac(file_key, body)


def unlock(
    raw: bytes, stanzas: Sequence[tuple[bytes, bytes]], identities: Sequence[Identity]
) -> bytes:
    """The payload key, by steps 7 and 8 of FORMAT.md 9.3: the first of our stanzas that opens
    gives the file key, which must verify the header's MAC (no other stanza is tried then)."""
    mine = {identity.public_key.key_id: identity for identity in identities}
    failed: list[bytes] = []
    deleted: EpochKeyDeleted | None = None
    for key_id, body in stanzas:
        identity = mine.get(key_id)
        if identity is None:
            continue
        try:
            file_key = identity.unwrap_file_key(body)
        except hpke_stanza.UnwrapFailed:
            failed.append(key_id)
            continue
        except EpochKeyDeleted as error:  # a deleted epoch key (crypto.epochs.DeletedKey)
            deleted = deleted or error
            continue
        before_mac = raw[:-MAC_BYTES]
        if not hmac.compare_digest(header_mac(file_key, before_mac), raw[-MAC_BYTES:]):
            raise CorruptedEnvelope(
                "the envelope's header does not verify under the key sealed for you: it was "
                "altered, or sealed with different keys for different recipients"
            )
        return payload_key(file_key, raw)
    if failed:
        raise StanzaNotForYourKey(failed[0].hex(), len(stanzas) - len(failed))
    if deleted is not None:
        raise deleted
    raise NotForYou([key_id.hex() for key_id, _ in stanzas])


def read_chunks(
    source: BinaryIO,
    key: bytes,
    reader: RecordReader,
    read_exact: ReadExact,
) -> None:
    """Opens the chunks in order into ``reader``, by FORMAT.md 9.2: a chunk is the last when
    nothing follows it (gcm_stream.sealed_chunks looks ahead)."""
    opener = ChunkOpener(key)
    for index, (chunk, last) in enumerate(sealed_chunks(source, read_exact)):
        if len(chunk) <= TAG_BYTES:
            raise TruncatedEnvelope(
                f"the envelope ends before its last chunk ({index} complete chunks verified)"
            )
        try:
            plaintext = opener.open(index, chunk, last)
        except ChunkFailed:
            raise _chunk_failure(opener, index, chunk, last) from None
        reader.feed(plaintext)
        if last:
            return


def _chunk_failure(opener: ChunkOpener, index: int, chunk: memoryview, last: bool) -> Exception:
    """Why chunk ``index`` failed (FORMAT.md 9.2 step 3): one that opens with the other flag
    was cut short after it (truncated) or has data after it (extended)."""
    try:
        opener.open(index, chunk, not last)
    except ChunkFailed:
        return CorruptedEnvelope(
            f"chunk {index} failed authentication: the envelope is corrupted, truncated "
            "or was tampered with"
        )
    if last:
        return TruncatedEnvelope(
            f"the envelope ends before its last chunk ({index + 1} chunks verified)"
        )
    return CorruptedEnvelope("there is data after the envelope's last chunk")
