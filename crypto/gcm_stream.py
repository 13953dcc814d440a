"""STREAM over AES-256-GCM (docs/FORMAT.md 9.2), the chunking age does with ChaCha20-Poly1305:
chunk i is sealed under nonce = i as 11 bytes big-endian || 0x01 if it is the last else 0x00,
so chunks cannot be reordered, dropped, repeated or cut short without failing to open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .records import CHUNK_SIZE, PLAIN_READERS

TAG_BYTES = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_BYTES
_MAX_INDEX = 1 << 88


class ChunkFailed(Exception):
    """A chunk did not authenticate under the nonce it was opened with."""


def nonce(index: int, last: bool) -> bytes:
    if not 0 <= index < _MAX_INDEX:
        raise ValueError("chunk counter out of range")
    return (index << 8 | last).to_bytes(12, "big")


# Sealed chunks per write call when sealing, and per read call when opening a file: fewer,
# larger system calls cost less (tests/bench/envelope_bench.py), and memory stays near 1 MiB.
SEAL_BATCH = 4
READ_BATCH = 16


class ChunkSealer:
    """Seals chunks 0, 1, 2, … in order and hands them to ``write``; each index is used once,
    so no nonce ever meets two different plaintexts under one key.

    ``seal`` takes up to SEAL_BATCH chunks of plaintext at once (crypto.records.RecordWriter
    gathers them) and seals them into one reused buffer (no new object per chunk), written
    with one call. ``write`` must be done with the bytes it is given when it returns, as io's
    writers are.
    """

    def __init__(self, key: bytes, write: Callable[[memoryview], object]) -> None:
        self._encrypt_into = AESGCM(key).encrypt_into
        self._write = write
        self._index = 0
        self._ended = False
        self.batch_chunks = SEAL_BATCH
        self._batch = memoryview(bytearray(SEAL_BATCH * SEALED_CHUNK_SIZE))
        self._slots = [
            self._batch[start : start + SEALED_CHUNK_SIZE]
            for start in range(0, len(self._batch), SEALED_CHUNK_SIZE)
        ]
        self.bytes_written = 0

    def seal(self, plaintext: memoryview, last: bool) -> None:
        """Seals ``plaintext`` as the next chunks: whole chunks, except the last one if
        ``last`` (then it may be short, and is sealed as the last chunk)."""
        size = len(plaintext)
        count = -(-size // CHUNK_SIZE) or 1
        index = self._index
        if self._ended:
            raise ValueError("the last chunk is already sealed")
        if index + count > _MAX_INDEX:
            raise ValueError("too many chunks")
        if count > len(self._slots) or (size % CHUNK_SIZE and not last):
            raise ValueError("a batch holds at most SEAL_BATCH chunks, only the last one short")
        self._index = index + count
        self._ended = last
        encrypt_into, slots = self._encrypt_into, self._slots
        start = 0
        # nonce(index, last), inlined: this runs once per 64 KiB
        for slot in slots[: count - 1]:
            encrypt_into(
                (index << 8).to_bytes(12, "big"), plaintext[start : start + CHUNK_SIZE], None, slot
            )
            index += 1
            start += CHUNK_SIZE
        end = size + count * TAG_BYTES
        encrypt_into(
            (index << 8 | last).to_bytes(12, "big"),
            plaintext[start:],
            None,
            self._batch[(count - 1) * SEALED_CHUNK_SIZE : end],
        )
        self._write(self._batch[:end])
        self.bytes_written += end


class ChunkOpener:
    def __init__(self, key: bytes) -> None:
        self._decrypt_into = AESGCM(key).decrypt_into
        self._out = memoryview(bytearray(CHUNK_SIZE))

    def open(self, index: int, sealed: bytes | memoryview, last: bool) -> memoryview:
        """The chunk's plaintext (a view valid until the next call); nothing of it may be used
        if ChunkFailed is raised."""
        size = len(sealed)
        if not TAG_BYTES < size <= SEALED_CHUNK_SIZE or not 0 <= index < _MAX_INDEX:
            raise ChunkFailed
        plaintext = self._out if size == SEALED_CHUNK_SIZE else self._out[: size - TAG_BYTES]
        try:
            self._decrypt_into((index << 8 | last).to_bytes(12, "big"), sealed, None, plaintext)
        except InvalidTag:
            raise ChunkFailed from None
        return plaintext


ReadExact = Callable[[BinaryIO, int], bytes]


def sealed_chunks(source: BinaryIO, read_exact: ReadExact) -> Iterator[tuple[memoryview, bool]]:
    """The sealed chunks of a payload in order, each with whether it is the last (nothing
    follows it). The last may be too short to be a chunk at all: the caller judges. Each
    chunk is a view valid until the next one is asked for.

    A plain file or BytesIO is read READ_BATCH chunks at a time with ``readinto`` into one
    buffer, so reading costs one call per batch and makes no new objects. Any other source is
    read a chunk at a time through its own ``read``: a wrapper that hashes or counts what its
    ``read`` passes on (crypto.bundle.CheckedReader, reviewer.streaming.Prefetcher) must see
    every byte, and a ``readinto`` it inherited would go around it."""
    if type(source) in PLAIN_READERS:
        return _in_batches(source)
    return _chunk_by_chunk(source, read_exact)


def _in_batches(source: BinaryIO) -> Iterator[tuple[memoryview, bool]]:
    buffer = memoryview(bytearray(2 * SEALED_CHUNK_SIZE))  # enough for most envelopes
    got = _fill(source, buffer)
    if got == 0:
        yield buffer[:0], True
    while got == len(buffer):
        tail = len(buffer) - SEALED_CHUNK_SIZE
        for start in range(0, tail, SEALED_CHUNK_SIZE):
            yield buffer[start : start + SEALED_CHUNK_SIZE], False
        # Whether the buffer's last chunk is the payload's last is known only once more is
        # read: it moves to the front (of a buffer for READ_BATCH more), and the next read
        # lands after it.
        if len(buffer) < (READ_BATCH + 1) * SEALED_CHUNK_SIZE:
            larger = memoryview(bytearray((READ_BATCH + 1) * SEALED_CHUNK_SIZE))
            larger[:SEALED_CHUNK_SIZE] = buffer[tail:]
            buffer = larger
        else:
            buffer[:SEALED_CHUNK_SIZE] = buffer[tail:]
        got = SEALED_CHUNK_SIZE + _fill(source, buffer[SEALED_CHUNK_SIZE:])
    for start in range(0, got, SEALED_CHUNK_SIZE):
        end = start + SEALED_CHUNK_SIZE
        yield buffer[start : min(end, got)], end >= got


def _fill(source: BinaryIO, buffer: memoryview) -> int:
    """Reads into ``buffer`` until it is full or the source ends; how many bytes came."""
    got = 0
    while got < len(buffer):
        n = source.readinto(buffer[got:])
        if not n:
            break
        got += n
    return got


def _chunk_by_chunk(source: BinaryIO, read_exact: ReadExact) -> Iterator[tuple[memoryview, bool]]:
    chunk = read_exact(source, SEALED_CHUNK_SIZE)
    while True:
        following = (
            read_exact(source, SEALED_CHUNK_SIZE) if len(chunk) == SEALED_CHUNK_SIZE else b""
        )
        yield memoryview(chunk), not following
        if not following:
            return
        chunk = following
