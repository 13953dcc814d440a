"""STREAM over AES-256-GCM (docs/FORMAT.md 9.2), the chunking age does with ChaCha20-Poly1305:
chunk i is sealed under nonce = i as 11 bytes big-endian || 0x01 if it is the last else 0x00,
so chunks cannot be reordered, dropped, repeated or cut short without failing to open."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .records import CHUNK_SIZE

TAG_BYTES = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_BYTES
_MAX_INDEX = 1 << 88


class ChunkFailed(Exception):
    """A chunk did not authenticate under the nonce it was opened with."""


def nonce(index: int, last: bool) -> bytes:
    if not 0 <= index < _MAX_INDEX:
        raise ValueError("chunk counter out of range")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class ChunkSealer:
    """Seals chunks 0, 1, 2, … in order; each index is used once, so no nonce ever meets two
    different plaintexts under one key.

    Both classes work in one buffer of their own (a fresh 64 KiB object per chunk costs more
    than the AES-GCM itself): what they return is a view valid until their next call.
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._index = 0
        self._ended = False
        self._out = memoryview(bytearray(SEALED_CHUNK_SIZE))

    def seal(self, chunk: bytes | memoryview, last: bool) -> memoryview:
        if self._ended:
            raise ValueError("the last chunk is already sealed")
        sealed = self._out[: len(chunk) + TAG_BYTES]
        self._aead.encrypt_into(nonce(self._index, last), chunk, None, sealed)
        self._index += 1
        self._ended = last
        return sealed


class ChunkOpener:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._out = memoryview(bytearray(CHUNK_SIZE))

    def open(self, index: int, sealed: bytes, last: bool) -> memoryview:
        """The chunk's plaintext (a view valid until the next call); nothing of it may be used
        if ChunkFailed is raised."""
        if not TAG_BYTES < len(sealed) <= SEALED_CHUNK_SIZE:
            raise ChunkFailed
        plaintext = self._out[: len(sealed) - TAG_BYTES]
        try:
            self._aead.decrypt_into(nonce(index, last), sealed, None, plaintext)
        except InvalidTag:
            raise ChunkFailed from None
        return plaintext
