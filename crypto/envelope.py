"""Sealing and opening envelopes (docs/FORMAT.md sections 3 and 9), both streaming.

Version 2 (section 9) is what is written; version 1 (section 3) is still read:

v1: header  := "SEALDROP" || 1 || n || n * (key_id || crypto_box_seal(payload_key))
               || secretstream_header
    payload := secretstream chunks of the padded plaintext, 64 KiB each, the last one FINAL,
               every chunk authenticated with BLAKE2b-256(header) as associated data.
v2: header  := "SEALDROP" || 2 || n || n * (key_id || HPKE(file_key)) || HMAC(header)
    payload := AES-256-GCM STREAM chunks of the padded plaintext (crypto.envelope_v2).

The padded plaintext (records, then Padmé padding) is the same in both (crypto.records).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, BinaryIO

from . import _sodium, envelope_v2, gcm_stream, hpke_stanza
from .errors import (
    CorruptedEnvelope,
    NotAnEnvelope,
    NotForYou,
    StanzaNotForYourKey,
    TruncatedEnvelope,
    UnsupportedVersion,
)
from .framing import PartInfo
from .keys import KEY_ID_BYTES, Identity, PublicKey
from .padding import padded_length
from .records import CHUNK_SIZE, Contents, Part, RecordReader, RecordWriter, Sink

__all__ = ["CHUNK_SIZE", "Contents", "Part", "Sink"]

MAGIC = b"SEALDROP"
VERSION = 1  # the version section 3 describes (kept for callers that check v1 only)
VERSIONS = (1, 2)
WRITTEN_VERSION = 2
# Replies are opened in the submitter's browser; its replies page reads version 2 with
# WebCrypto (intake/static/src/opener-v2.js) and version 1 with libsodium (FORMAT.md 9.4).
REPLY_VERSION = 2
MAX_RECIPIENTS = 64
SEALED_CHUNK_SIZE = CHUNK_SIZE + _sodium.STREAM_ABYTES  # version 1
_PREAMBLE = struct.Struct(">8sBB")  # magic, version, recipient count
PREAMBLE_BYTES = _PREAMBLE.size
_STANZA_BYTES = KEY_ID_BYTES + _sodium.SEALED_KEY_BYTES
# per version: stanza size, bytes after the stanzas, sealed chunk size, tag size
_LAYOUT = {
    1: (_STANZA_BYTES, _sodium.STREAM_HEADER_BYTES, SEALED_CHUNK_SIZE, _sodium.STREAM_ABYTES),
    2: (
        envelope_v2.STANZA_BYTES,
        envelope_v2.MAC_BYTES,
        gcm_stream.SEALED_CHUNK_SIZE,
        gcm_stream.TAG_BYTES,
    ),
}


def _layout(version: int) -> tuple[int, int, int, int]:
    try:
        return _LAYOUT[version]
    except KeyError:
        raise UnsupportedVersion(version) from None


def header_length(recipient_count: int, version: int = 1) -> int:
    stanza, tail, _, _ = _layout(version)
    return _PREAMBLE.size + recipient_count * stanza + tail


def max_header_length(recipient_count: int) -> int:
    """The longest header of any readable version for this many recipients."""
    return max(header_length(recipient_count, version) for version in VERSIONS)


def header_length_from(preamble: bytes) -> int:
    """The length of the header that starts with ``preamble`` (its first PREAMBLE_BYTES
    bytes), or PREAMBLE_BYTES when they do not name a readable version and recipient count:
    for reading exactly one header from a stream, whatever its version."""
    if len(preamble) < PREAMBLE_BYTES or not preamble.startswith(MAGIC):
        return PREAMBLE_BYTES
    version, count = preamble[len(MAGIC)], preamble[len(MAGIC) + 1]
    if version not in VERSIONS or not 1 <= count <= MAX_RECIPIENTS:
        return PREAMBLE_BYTES
    return header_length(count, version)


def check_length(header: Header, total_length: int) -> None:
    """Refuses (CorruptedEnvelope) an envelope of ``total_length`` bytes that no honest
    sealer of its header's version writes."""
    plaintext_length_of(total_length - len(header.raw), header.version)


def sealed_chunk_size(version: int) -> int:
    return _layout(version)[2]


def sealed_payload_length(plaintext_length: int, version: int = 1) -> int:
    """The length of the chunks that carry plaintext_length (> 0) bytes of padded plaintext."""
    chunks = -(-plaintext_length // CHUNK_SIZE)
    return plaintext_length + chunks * _layout(version)[3]


def plaintext_length_of(payload_length: int, version: int = 1) -> int:
    """Inverse of sealed_payload_length; refuses lengths no honest sealer produces."""
    _, _, sealed_chunk, tag = _layout(version)
    chunks = -(-payload_length // sealed_chunk)
    plaintext = payload_length - chunks * tag
    if chunks == 0 or plaintext <= (chunks - 1) * CHUNK_SIZE:
        raise CorruptedEnvelope("the envelope's length does not fit its chunk structure")
    if padded_length(plaintext) != plaintext:
        raise CorruptedEnvelope("the envelope's length is not a padded length")
    return plaintext


def length_fits(total_length: int, recipient_count: int) -> bool:
    """Whether an envelope of ``total_length`` bytes for ``recipient_count`` recipients has a
    length an honest sealer of some readable version writes (before its version is known)."""
    for version in VERSIONS:
        try:
            plaintext_length_of(total_length - header_length(recipient_count, version), version)
        except CorruptedEnvelope:
            continue
        return True
    return False


# --- header ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    version: int
    stanzas: tuple[tuple[bytes, bytes], ...]  # (key_id, sealed or wrapped file key)
    tail: bytes  # v1: the secretstream header; v2: the MAC
    raw: bytes

    @property
    def key_ids(self) -> list[str]:
        return [key_id.hex() for key_id, _ in self.stanzas]

    @property
    def stream_header(self) -> bytes:
        assert self.version == 1
        return self.tail

    @property
    def associated_data(self) -> bytes:
        """Version 1: the chunks' associated data, BLAKE2b-256 of the header."""
        return _sodium.hash256(self.raw)

    @property
    def header_hash(self) -> bytes:
        """What a follow-up's proof signs (FORMAT.md 5.5, 9.4)."""
        if self.version == 1:
            return _sodium.hash256(self.raw)
        return envelope_v2.header_hash(self.raw)


def _read_exact(source: BinaryIO, n: int) -> bytes:
    """Reads n bytes, or fewer only at the end of the source."""
    data = source.read(n)
    if data is None or len(data) == n or not data:
        return data or b""
    parts = [data]
    got = len(data)
    while got < n:
        more = source.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def read_header(source: BinaryIO) -> Header:
    """Reads and checks the header's structure (steps 1-6 of FORMAT.md 3.5 and 9.3).
    Authenticity is checked when opening."""
    preamble = _read_exact(source, _PREAMBLE.size)
    if len(preamble) < len(MAGIC) and MAGIC.startswith(preamble) and preamble:
        raise TruncatedEnvelope("the envelope ends inside its header")
    if preamble[: len(MAGIC)] != MAGIC:
        raise NotAnEnvelope()
    # The version is judged as soon as its byte is read: another version's header may differ.
    if len(preamble) > len(MAGIC) and preamble[len(MAGIC)] not in VERSIONS:
        raise UnsupportedVersion(preamble[len(MAGIC)])
    if len(preamble) < _PREAMBLE.size:
        raise TruncatedEnvelope("the envelope ends inside its header")
    _, version, count = _PREAMBLE.unpack(preamble)
    if not 1 <= count <= MAX_RECIPIENTS:
        raise CorruptedEnvelope(f"the header names {count} recipients (1 to 64 are allowed)")
    stanza_bytes = _layout(version)[0]
    rest_len = header_length(count, version) - _PREAMBLE.size
    rest = _read_exact(source, rest_len)
    if len(rest) < rest_len:
        raise TruncatedEnvelope("the envelope ends inside its header")
    stanzas = tuple(
        (rest[i : i + KEY_ID_BYTES], rest[i + KEY_ID_BYTES : i + stanza_bytes])
        for i in range(0, count * stanza_bytes, stanza_bytes)
    )
    if len({key_id for key_id, _ in stanzas}) != count:
        raise CorruptedEnvelope("the header names the same recipient twice")
    return Header(version, stanzas, rest[count * stanza_bytes :], preamble + rest)


# --- sealing ---------------------------------------------------------------------------


class Sealer:
    """Writes one envelope to ``out`` as parts are added; memory stays at a few chunks.

    ``out.write`` must be done with the bytes it is given when it returns (as io's writers
    are): they live in a buffer that the next chunk overwrites.

    Use it as a context manager: leaving the block normally finishes the envelope; leaving it
    with an exception does not, and the incomplete output must be thrown away (it is refused
    as truncated by every reader anyway).

    ``version`` is WRITTEN_VERSION (2) unless a test needs version 1. ``file_key`` and
    ``wrap`` exist only for test vectors (a fixed file key, HPKE with fixed ephemeral keys);
    never pass them otherwise.
    """

    def __init__(
        self,
        out: BinaryIO,
        recipients: Sequence[PublicKey],
        *,
        version: int | None = None,
        file_key: bytes | None = None,
        wrap: envelope_v2.Wrap | None = None,
    ) -> None:
        recipients = list(recipients)
        if not 1 <= len(recipients) <= MAX_RECIPIENTS:
            raise ValueError(f"an envelope needs 1 to {MAX_RECIPIENTS} recipients")
        if len({r.key_id for r in recipients}) != len(recipients):
            raise ValueError("the same recipient key is given twice")
        version = version or WRITTEN_VERSION
        preamble = _PREAMBLE.pack(MAGIC, version, len(recipients))
        if version == 2:
            key = file_key or _sodium.random_bytes(hpke_stanza.FILE_KEY_BYTES)
            header = envelope_v2.build_header(preamble, recipients, key, wrap or hpke_stanza.wrap)
            self._header_hash = envelope_v2.header_hash(header)
            chunks: gcm_stream.ChunkSealer | _SecretstreamChunks = gcm_stream.ChunkSealer(
                envelope_v2.payload_key(key, header), out.write
            )
        elif version == 1:
            key = _sodium.stream_key()
            pusher = _sodium.StreamPusher(key)
            header = preamble + b"".join(r.key_id + _sodium.seal_to(r.raw, key) for r in recipients)
            header += pusher.header
            ad = self._header_hash = _sodium.hash256(header)
            chunks = _SecretstreamChunks(pusher, ad, out.write)
        else:
            raise ValueError(f"cannot write envelope version {version}")
        self.version = version
        self._chunks = chunks
        self._records = RecordWriter(chunks.seal, chunks.batch_chunks)
        out.write(header)
        self._header_bytes = len(header)

    @property
    def bytes_written(self) -> int:
        """What has been handed to ``out`` so far (all of the envelope once it is closed)."""
        return self._header_bytes + self._chunks.bytes_written

    @property
    def header_hash(self) -> bytes:
        """The hash of the whole header that a follow-up's proof binds itself to
        (crypto.followup): BLAKE2b-256 for version 1, SHA-256 for version 2."""
        return self._header_hash

    # parts

    def begin_part(self, info: PartInfo) -> None:
        self._records.begin_part(info)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._records.write(data)

    def end_part(self) -> None:
        self._records.end_part()

    def add_message(self, text: str) -> None:
        self._records.add_whole(PartInfo("message"), text.encode("utf-8"))

    def add_field(self, name: str, value: str) -> None:
        self._records.add_whole(PartInfo("field", name), value.encode("utf-8"))

    def add_file(self, name: str, media_type: str, content: bytes | BinaryIO) -> None:
        info = PartInfo("file", name, media_type)
        if isinstance(content, bytes | bytearray | memoryview):
            self._records.add_whole(info, content)
        else:
            self._records.add_stream(info, content)

    # finishing

    def close(self, trailer: Mapping[str, Any] | None = None) -> None:
        """Writes CLOSE (with the trailer), the padding and the last chunk."""
        self._records.close(trailer)

    def __enter__(self) -> Sealer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and not self._records.finished:
            self.close()
        self._records.finished = True


class _SecretstreamChunks:
    """Version 1's chunks: secretstream, each chunk written as soon as it is sealed."""

    def __init__(
        self, pusher: _sodium.StreamPusher, ad: bytes, write: Callable[[bytes], object]
    ) -> None:
        self._pusher, self._ad, self._write = pusher, ad, write
        self.batch_chunks = gcm_stream.SEAL_BATCH
        self.bytes_written = 0

    def seal(self, plaintext: memoryview, last: bool) -> None:
        for start in range(0, len(plaintext) or 1, CHUNK_SIZE):
            chunk = plaintext[start : start + CHUNK_SIZE]
            final = last and start + CHUNK_SIZE >= len(plaintext)
            sealed = self._pusher.push(bytes(chunk), self._ad, final=final)
            self._write(sealed)
            self.bytes_written += len(sealed)


# --- opening ---------------------------------------------------------------------------


def open_envelope(source: BinaryIO, identities: Iterable[Identity], sink: Sink) -> Contents:
    """Opens an envelope into ``sink``; returns its contents once every byte is verified."""
    try:
        contents = _open(source, list(identities), sink)
        sink.commit(contents)
    except BaseException:
        sink.discard()
        raise
    return contents


def _payload_key(header: Header, identities: list[Identity]) -> bytes:
    """The payload key from the first of our stanzas that opens. A stanza that names our key
    but does not open was sealed with another key (or damaged): the payload's authentication
    will tell which, for a recipient whose stanza opens."""
    mine = {identity.public_key.key_id: identity for identity in identities}
    failed: list[bytes] = []
    for key_id, sealed in header.stanzas:
        identity = mine.get(key_id)
        if identity is None:
            continue
        try:
            return identity.unseal_key(sealed)
        except _sodium.AuthenticationFailed:
            failed.append(key_id)
    if failed:
        raise StanzaNotForYourKey(failed[0].hex(), len(header.stanzas) - len(failed))
    raise NotForYou(header.key_ids)


def _open(source: BinaryIO, identities: list[Identity], sink: Sink) -> Contents:
    header = read_header(source)
    contents = Contents(header.key_ids, header_hash=header.header_hash, version=header.version)
    reader = RecordReader(sink, contents)
    if header.version == 2:
        key = envelope_v2.unlock(header.raw, header.stanzas, identities)
        envelope_v2.read_chunks(source, key, reader, _read_exact)
        return reader.finish()
    key = _payload_key(header, identities)
    puller = _sodium.StreamPuller(key, header.stream_header)
    ad = header.associated_data
    index = 0
    chunk = _read_exact(source, SEALED_CHUNK_SIZE)
    while True:
        if len(chunk) <= _sodium.STREAM_ABYTES:
            raise TruncatedEnvelope(
                f"the envelope ends before its final chunk ({index} complete chunks verified)"
            )
        try:
            plaintext, tag = puller.pull(chunk, ad)
        except _sodium.AuthenticationFailed:
            raise CorruptedEnvelope(
                f"chunk {index} failed authentication: the envelope is corrupted, truncated "
                "or was tampered with"
            ) from None
        if tag == _sodium.TAG_FINAL:
            # Chunk errors come before content errors in the same chunk (FORMAT.md §3.5).
            if source.read(1):
                raise CorruptedEnvelope("there is data after the envelope's final chunk")
            reader.feed(plaintext)
            return reader.finish()
        if tag != _sodium.TAG_MESSAGE:
            raise CorruptedEnvelope(f"chunk {index} has a tag the format does not use")
        if len(plaintext) != CHUNK_SIZE:  # a short chunk is the last one read: no FINAL came
            raise TruncatedEnvelope(
                f"the envelope ends before its final chunk ({index + 1} chunks verified)"
            )
        reader.feed(plaintext)
        index += 1
        chunk = _read_exact(source, SEALED_CHUNK_SIZE)
