"""Sealing and opening envelopes (format v1, docs/FORMAT.md), both streaming.

header  := "SEALDROP" || version=1 || n || n * (key_id || crypto_box_seal(payload_key))
           || secretstream_header
payload := secretstream chunks of the padded plaintext, 64 KiB each, the last one FINAL,
           every chunk authenticated with BLAKE2b-256(header) as associated data.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, BinaryIO, Protocol

from . import _sodium, framing
from .errors import (
    CorruptedEnvelope,
    MalformedContent,
    NotAnEnvelope,
    NotForYou,
    StanzaNotForYourKey,
    TruncatedEnvelope,
    UnsupportedVersion,
)
from .framing import PartInfo
from .keys import KEY_ID_BYTES, Identity, PublicKey
from .padding import padded_length

MAGIC = b"SEALDROP"
VERSION = 1
MAX_RECIPIENTS = 64
CHUNK_SIZE = 65536
SEALED_CHUNK_SIZE = CHUNK_SIZE + _sodium.STREAM_ABYTES
_PREAMBLE = struct.Struct(">8sBB")  # magic, version, recipient count
_STANZA_BYTES = KEY_ID_BYTES + _sodium.SEALED_KEY_BYTES
_ZEROS = bytes(CHUNK_SIZE)


def header_length(recipient_count: int) -> int:
    return _PREAMBLE.size + recipient_count * _STANZA_BYTES + _sodium.STREAM_HEADER_BYTES


def sealed_payload_length(plaintext_length: int) -> int:
    """The length of the chunks that carry plaintext_length (> 0) bytes of padded plaintext."""
    chunks = -(-plaintext_length // CHUNK_SIZE)
    return plaintext_length + chunks * _sodium.STREAM_ABYTES


def plaintext_length_of(payload_length: int) -> int:
    """Inverse of sealed_payload_length; refuses lengths no honest sealer produces."""
    chunks = -(-payload_length // SEALED_CHUNK_SIZE)
    plaintext = payload_length - chunks * _sodium.STREAM_ABYTES
    if chunks == 0 or plaintext <= (chunks - 1) * CHUNK_SIZE:
        raise CorruptedEnvelope("the envelope's length does not fit its chunk structure")
    if padded_length(plaintext) != plaintext:
        raise CorruptedEnvelope("the envelope's length is not a padded length")
    return plaintext


# --- header ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    version: int
    stanzas: tuple[tuple[bytes, bytes], ...]  # (key_id, sealed payload key)
    stream_header: bytes
    raw: bytes

    @property
    def key_ids(self) -> list[str]:
        return [key_id.hex() for key_id, _ in self.stanzas]

    @property
    def associated_data(self) -> bytes:
        return _sodium.hash256(self.raw)


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
    """Reads and checks the header's structure. Authenticity is checked with the payload."""
    preamble = _read_exact(source, _PREAMBLE.size)
    if len(preamble) < len(MAGIC) and MAGIC.startswith(preamble) and preamble:
        raise TruncatedEnvelope("the envelope ends inside its header")
    if preamble[: len(MAGIC)] != MAGIC:
        raise NotAnEnvelope()
    # The version is judged as soon as its byte is read: another version's header may differ.
    if len(preamble) > len(MAGIC) and preamble[len(MAGIC)] != VERSION:
        raise UnsupportedVersion(preamble[len(MAGIC)])
    if len(preamble) < _PREAMBLE.size:
        raise TruncatedEnvelope("the envelope ends inside its header")
    _, version, count = _PREAMBLE.unpack(preamble)
    if not 1 <= count <= MAX_RECIPIENTS:
        raise CorruptedEnvelope(f"the header names {count} recipients (1 to 64 are allowed)")
    rest_len = count * _STANZA_BYTES + _sodium.STREAM_HEADER_BYTES
    rest = _read_exact(source, rest_len)
    if len(rest) < rest_len:
        raise TruncatedEnvelope("the envelope ends inside its header")
    stanzas = tuple(
        (rest[i : i + KEY_ID_BYTES], rest[i + KEY_ID_BYTES : i + _STANZA_BYTES])
        for i in range(0, count * _STANZA_BYTES, _STANZA_BYTES)
    )
    if len({key_id for key_id, _ in stanzas}) != count:
        raise CorruptedEnvelope("the header names the same recipient twice")
    return Header(version, stanzas, rest[count * _STANZA_BYTES :], preamble + rest)


# --- sealing ---------------------------------------------------------------------------


class Sealer:
    """Writes one envelope to ``out`` as parts are added; memory stays at about one chunk.

    Use it as a context manager: leaving the block normally finishes the envelope; leaving it
    with an exception does not, and the incomplete output must be thrown away (it is refused
    as truncated by every reader anyway).
    """

    def __init__(self, out: BinaryIO, recipients: Sequence[PublicKey]) -> None:
        recipients = list(recipients)
        if not 1 <= len(recipients) <= MAX_RECIPIENTS:
            raise ValueError(f"an envelope needs 1 to {MAX_RECIPIENTS} recipients")
        if len({r.key_id for r in recipients}) != len(recipients):
            raise ValueError("the same recipient key is given twice")
        key = _sodium.stream_key()
        self._pusher = _sodium.StreamPusher(key)
        header = _PREAMBLE.pack(MAGIC, VERSION, len(recipients))
        header += b"".join(r.key_id + _sodium.seal_to(r.raw, key) for r in recipients)
        header += self._pusher.header
        self._ad = _sodium.hash256(header)
        self._out = out
        self._buffer = bytearray()
        self._content_length = 0
        self._part_size: int | None = None
        self._finished = False
        out.write(header)
        self.bytes_written = len(header)

    @property
    def header_hash(self) -> bytes:
        """BLAKE2b-256 of the whole header (the chunks' associated data): what a follow-up's
        proof binds itself to (crypto.followup)."""
        return self._ad

    # parts

    def begin_part(self, info: PartInfo) -> None:
        self._check_open()
        if self._part_size is not None:
            raise ValueError("end the current part before beginning another")
        self._emit(framing.record(framing.BEGIN, info.to_json()))
        self._part_size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._part_size is None:
            raise ValueError("begin a part before writing data")
        view = memoryview(data).cast("B")
        for start in range(0, len(view), framing.MAX_DATA):
            piece = view[start : start + framing.MAX_DATA]
            self._emit(framing.RECORD_HEAD.pack(framing.DATA, len(piece)))
            self._emit(piece)
        self._part_size += len(view)

    def end_part(self) -> None:
        if self._part_size is None:
            raise ValueError("no part is open")
        self._emit(framing.record(framing.END, struct.pack(">Q", self._part_size)))
        self._part_size = None

    def add_message(self, text: str) -> None:
        self._add_whole(PartInfo("message"), text.encode("utf-8"))

    def add_field(self, name: str, value: str) -> None:
        self._add_whole(PartInfo("field", name), value.encode("utf-8"))

    def add_file(self, name: str, media_type: str, content: bytes | BinaryIO) -> None:
        if isinstance(content, bytes | bytearray | memoryview):
            self._add_whole(PartInfo("file", name, media_type), content)
            return
        self.begin_part(PartInfo("file", name, media_type))
        while block := content.read(CHUNK_SIZE):
            self.write(block)
        self.end_part()

    def _add_whole(self, info: PartInfo, data: bytes | bytearray | memoryview) -> None:
        self.begin_part(info)
        self.write(data)
        self.end_part()

    # finishing

    def close(self, trailer: Mapping[str, Any] | None = None) -> None:
        """Writes CLOSE (with the trailer), the padding and the FINAL chunk."""
        self._check_open()
        if self._part_size is not None:
            raise ValueError("end the current part before closing the envelope")
        self._emit(framing.record(framing.CLOSE, framing.encode_json(dict(trailer or {}))))
        padding = padded_length(self._content_length) - self._content_length
        while padding:
            step = min(padding, CHUNK_SIZE)
            self._append(_ZEROS[:step])
            padding -= step
        self._push(bytes(self._buffer), final=True)
        self._buffer.clear()
        self._finished = True

    def __enter__(self) -> Sealer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and not self._finished:
            self.close()
        self._finished = True

    # internals

    def _check_open(self) -> None:
        if self._finished:
            raise ValueError("this envelope is already finished")

    def _emit(self, data: bytes | memoryview) -> None:
        self._content_length += len(data)
        self._append(data)

    def _append(self, data: bytes | memoryview) -> None:
        # The buffer holds at most one chunk, pushed only once more data follows it (the last
        # chunk must be FINAL). Whole chunks inside ``data`` are pushed without buffering.
        buffer = self._buffer
        if len(buffer) + len(data) <= CHUNK_SIZE:
            buffer += data
            return
        view = memoryview(data)
        fill = CHUNK_SIZE - len(buffer)
        self._push(b"".join((buffer, view[:fill])), final=False)
        buffer.clear()
        position = fill
        while len(view) - position > CHUNK_SIZE:
            self._push(bytes(view[position : position + CHUNK_SIZE]), final=False)
            position += CHUNK_SIZE
        buffer += view[position:]

    def _push(self, chunk: bytes, *, final: bool) -> None:
        sealed = self._pusher.push(chunk, self._ad, final=final)
        self._out.write(sealed)
        self.bytes_written += len(sealed)


# --- opening ---------------------------------------------------------------------------


@dataclass
class Part:
    info: PartInfo
    size: int
    data: bytes | None = None  # filled by MemorySink
    path: str | None = None  # filled by DirectorySink


@dataclass
class Contents:
    """What an envelope held, known only once its FINAL chunk verified."""

    key_ids: list[str]
    parts: list[Part] = field(default_factory=list)
    trailer: dict[str, Any] = field(default_factory=dict)
    header_hash: bytes = b""  # BLAKE2b-256 of the header, for checking a follow-up's proof

    @property
    def message(self) -> Part | None:
        return next((p for p in self.parts if p.info.kind == "message"), None)

    @property
    def files(self) -> list[Part]:
        return [p for p in self.parts if p.info.kind == "file"]

    @property
    def fields(self) -> list[Part]:
        return [p for p in self.parts if p.info.kind == "field"]


class Sink(Protocol):
    """Receives plaintext while an envelope is opened. Nothing it received may be shown or
    kept unless ``commit`` is called; ``discard`` is called on every failure."""

    def begin_part(self, info: PartInfo) -> None: ...
    def write(self, data: memoryview) -> None: ...
    def end_part(self, size: int) -> None: ...
    def commit(self, contents: Contents) -> None: ...
    def discard(self) -> None: ...


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
    key = _payload_key(header, identities)
    puller = _sodium.StreamPuller(key, header.stream_header)
    ad = header.associated_data
    reader = _RecordReader(sink, Contents(header.key_ids, header_hash=ad))
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


class _RecordReader:
    """Parses the plaintext records as chunks arrive, passing part data straight to the sink."""

    def __init__(self, sink: Sink, contents: Contents) -> None:
        self._sink = sink
        self._contents = contents
        self._head = bytearray()
        self._kind = 0
        self._remaining = -1  # -1: reading a record head
        self._body = bytearray()
        self._part: PartInfo | None = None
        self._part_size = 0
        self._position = 0  # plaintext bytes consumed
        self._content_length: int | None = None  # set at CLOSE

    def feed(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        end = len(chunk)
        pos = 0
        while pos < end:
            if self._content_length is not None:
                if chunk.count(0, pos) != end - pos:
                    raise MalformedContent("the padding after the content is not all zeros")
                break
            if self._remaining < 0:
                take = min(framing.RECORD_HEAD.size - len(self._head), end - pos)
                self._head += view[pos : pos + take]
                pos += take
                if len(self._head) == framing.RECORD_HEAD.size:
                    self._start_record(*framing.RECORD_HEAD.unpack(self._head))
                    self._head.clear()
                continue
            take = min(self._remaining, end - pos)
            if self._kind == framing.DATA:
                self._sink.write(view[pos : pos + take])
                self._part_size += take
            else:
                self._body += view[pos : pos + take]
            pos += take
            self._remaining -= take
            if self._remaining == 0:
                self._finish_record(self._position + pos)
        self._position += end

    def _start_record(self, kind: int, length: int) -> None:
        in_part = self._part is not None
        if kind == framing.DATA:
            ok = in_part and 1 <= length <= framing.MAX_DATA
        elif kind == framing.END:
            ok = in_part and length == 8
        elif kind in (framing.BEGIN, framing.CLOSE):
            ok = not in_part and 2 <= length <= framing.MAX_JSON
        else:
            raise MalformedContent(f"unknown record type {kind}")
        if not ok:
            raise MalformedContent(f"a record of type {kind} is out of place or of bad length")
        self._kind, self._remaining = kind, length
        self._body.clear()

    def _finish_record(self, position: int) -> None:
        self._remaining = -1
        body = bytes(self._body)
        if self._kind == framing.BEGIN:
            info = PartInfo.from_json(body)
            if info.kind == "message" and self._contents.message is not None:
                raise MalformedContent("the envelope holds two messages")
            self._part, self._part_size = info, 0
            self._sink.begin_part(info)
        elif self._kind == framing.END:
            (declared,) = struct.unpack(">Q", body)
            if declared != self._part_size:
                raise MalformedContent("a part's declared size does not match its data")
            assert self._part is not None
            self._contents.parts.append(Part(self._part, self._part_size))
            self._sink.end_part(self._part_size)
            self._part = None
        elif self._kind == framing.CLOSE:
            self._contents.trailer = framing.decode_json(body, "CLOSE")
            self._content_length = position

    def finish(self) -> Contents:
        if self._content_length is None:
            raise MalformedContent("the envelope's content has no CLOSE record")
        if padded_length(self._content_length) != self._position:
            raise MalformedContent("the envelope's padding has the wrong length")
        return self._contents
