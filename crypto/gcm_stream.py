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
    different plaintexts under one key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._index = 0
        self._ended = False

    def seal(self, chunk: bytes, last: bool) -> bytes:
        if self._ended:
            raise ValueError("the last chunk is already sealed")
        sealed = self._aead.encrypt(nonce(self._index, last), chunk, None)
        self._index += 1
        self._ended = last
        return sealed


class ChunkOpener:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def open(self, index: int, sealed: bytes, last: bool) -> bytes:
        try:
            return self._aead.decrypt(nonce(index, last), sealed, None)
        except InvalidTag:
            raise ChunkFailed from None
