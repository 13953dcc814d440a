"""The sealed plaintext of every envelope version, written and read as records stream by
(docs/FORMAT.md 3.3): parts, CLOSE with the trailer, then Padmé padding. The envelope versions
differ only in how the padded plaintext is cut into authenticated chunks (crypto.envelope).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from . import framing
from .errors import MalformedContent
from .framing import PartInfo
from .padding import padded_length

CHUNK_SIZE = 65536
_ZEROS = bytes(CHUNK_SIZE)
_HEAD_BYTES = framing.RECORD_HEAD.size
_FULL_DATA_HEAD = framing.RECORD_HEAD.pack(framing.DATA, framing.MAX_DATA)
# Sources whose readinto is their own: anything else may count or hash what its read passes on
PLAIN_READERS = (io.BufferedReader, io.BufferedRandom, io.BytesIO, io.FileIO)


def _data_head(size: int) -> bytes:
    return (
        _FULL_DATA_HEAD
        if size == framing.MAX_DATA
        else framing.RECORD_HEAD.pack(framing.DATA, size)
    )


class RecordWriter:
    """Turns parts into records, cut into chunks of CHUNK_SIZE for ``seal(chunks, last)``.

    Records are laid out in one buffer of ``batch_chunks`` chunks, handed to ``seal`` a whole
    batch at a time once more data follows it (the last chunk must be marked last); ``seal``
    gets a view of the buffer, valid only during the call. Every byte of a part is copied
    once, into the buffer, or read straight into it from a plain file (add_stream), so
    memory stays at one batch and one record. The copy of written data cannot be avoided:
    every chunk holds part of a record head (records are 5 bytes longer than chunks), so no
    chunk is ever a contiguous piece of the caller's bytes, and AES-GCM in one call (pyca's
    AESGCM) takes one contiguous plaintext.
    """

    def __init__(self, seal: Callable[[memoryview, bool], None], batch_chunks: int = 1) -> None:
        self._seal = seal
        self._limit = batch_chunks * CHUNK_SIZE
        # Beyond the batch: room for one record read straight in while the batch is not full.
        self._buffer = memoryview(bytearray(self._limit + _HEAD_BYTES + framing.MAX_DATA))
        self._fill = 0
        self._content_length = 0
        self._part_size: int | None = None
        self.finished = False

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
        size = len(view)
        # The loop the bulk of every envelope goes through, written out flat: per record, a
        # head and one copy (two where the batch ends inside it).
        buffer, limit, fill = self._buffer, self._limit, self._fill
        start = 0
        while start < size:
            end = start + framing.MAX_DATA if size - start > framing.MAX_DATA else size
            if fill >= limit:
                fill = self._flush(fill)
            # A head may run past the batch's end into the spare room; _flush moves it on.
            buffer[fill : fill + _HEAD_BYTES] = _data_head(end - start)
            fill += _HEAD_BYTES
            while start < end:
                if fill >= limit:
                    fill = self._flush(fill)
                take = limit - fill if end - start > limit - fill else end - start
                buffer[fill : fill + take] = view[start : start + take]
                fill += take
                start += take
        self._fill = fill
        self._content_length += size + _HEAD_BYTES * -(-size // framing.MAX_DATA)
        self._part_size += size

    def end_part(self) -> None:
        if self._part_size is None:
            raise ValueError("no part is open")
        self._emit(framing.record(framing.END, struct.pack(">Q", self._part_size)))
        self._part_size = None

    def add_whole(self, info: PartInfo, data: bytes | bytearray | memoryview) -> None:
        self.begin_part(info)
        self.write(data)
        self.end_part()

    def add_stream(self, info: PartInfo, content: BinaryIO) -> None:
        """A part read from ``content`` a record (MAX_DATA bytes) per call, as its ``read``
        returns them; a plain file or BytesIO is read with ``readinto`` straight into the
        buffer, which gives the same records. Any other source goes through its own
        ``read``, so a wrapper that counts or hashes what it passes on sees every byte."""
        self.begin_part(info)
        if type(content) in PLAIN_READERS:
            self._read_records(content)
        else:
            while block := content.read(framing.MAX_DATA):
                self.write(block)
        self.end_part()

    def _read_records(self, content: BinaryIO) -> None:
        buffer, limit, fill = self._buffer, self._limit, self._fill
        size = records = 0
        while True:
            if fill >= limit:
                fill = self._flush(fill)
            got = content.readinto(
                buffer[fill + _HEAD_BYTES : fill + _HEAD_BYTES + framing.MAX_DATA]
            )
            if not got:
                break
            buffer[fill : fill + _HEAD_BYTES] = _data_head(got)
            fill += _HEAD_BYTES + got
            size += got
            records += 1
        self._fill = fill
        self._content_length += size + _HEAD_BYTES * records
        assert self._part_size is not None
        self._part_size += size

    def close(self, trailer: Mapping[str, Any] | None = None) -> None:
        """Writes CLOSE (with the trailer), the padding and the final chunk."""
        self._check_open()
        if self._part_size is not None:
            raise ValueError("end the current part before closing the envelope")
        self._emit(framing.record(framing.CLOSE, framing.encode_json(dict(trailer or {}))))
        padding = padded_length(self._content_length) - self._content_length
        while padding:
            step = min(padding, CHUNK_SIZE)
            self._append(_ZEROS[:step])
            padding -= step
        self._seal(self._buffer[: self._fill], True)
        self._fill = 0
        self.finished = True

    def _check_open(self) -> None:
        if self.finished:
            raise ValueError("this envelope is already finished")

    def _flush(self, fill: int) -> int:
        """Seals the full batch (more data follows it: the caller is about to add some) and
        moves what lies beyond it to the front; returns the new fill."""
        limit = self._limit
        while fill >= limit:
            self._seal(self._buffer[:limit], False)
            fill -= limit
            self._buffer[:fill] = self._buffer[limit : limit + fill]
        return fill

    def _emit(self, data: bytes | memoryview) -> None:
        self._content_length += len(data)
        self._append(data)

    def _append(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        size = len(view)
        limit, fill = self._limit, self._fill
        position = 0
        while position < size:
            if fill >= limit:
                fill = self._flush(fill)
            take = min(limit - fill, size - position)
            self._buffer[fill : fill + take] = view[position : position + take]
            fill += take
            position += take
        self._fill = fill


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
    # The header hash a follow-up's proof signs (FORMAT.md 5.5): BLAKE2b-256 of a version 1
    # header, SHA-256 of a version 2 header.
    header_hash: bytes = b""
    version: int = 1

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


class RecordReader:
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

    def feed(self, chunk: bytes | memoryview) -> None:
        """Parses one chunk's plaintext; nothing of ``chunk`` is kept after it returns."""
        view = memoryview(chunk)
        end = len(view)
        pos = 0
        while pos < end:
            if self._content_length is not None:
                # a prefix test against zeros is a memcmp; counting zero bytes is 40 times slower
                if not _ZEROS.startswith(view[pos:]):
                    raise MalformedContent("the padding after the content is not all zeros")
                break
            remaining = self._remaining
            if remaining < 0:
                if self._head or end - pos < _HEAD_BYTES:  # a head cut by the chunk boundary
                    take = min(_HEAD_BYTES - len(self._head), end - pos)
                    self._head += view[pos : pos + take]
                    pos += take
                    if len(self._head) == _HEAD_BYTES:
                        self._start_record(*framing.RECORD_HEAD.unpack(self._head))
                        self._head.clear()
                else:
                    self._start_record(*framing.RECORD_HEAD.unpack_from(view, pos))
                    pos += _HEAD_BYTES
                continue
            take = remaining if remaining < end - pos else end - pos
            if self._kind == framing.DATA:
                self._sink.write(view[pos : pos + take])
                self._part_size += take
            else:
                self._body += view[pos : pos + take]
            pos += take
            self._remaining = remaining - take
            if remaining == take:
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
        if self._kind == framing.DATA:
            return
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
