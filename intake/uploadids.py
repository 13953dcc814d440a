"""Uploads in progress as the API sees them: an upload's id (a token that stores nothing) and
what is known of it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class UploadInfo:
    id: str  # the row's id: the token's random part
    size: int | None
    received: int  # bytes charged (no more than the file holds, once a chunk is written)
    small: bool
    nojs: bool
    created_hour: int
    started: bool = True  # False: a token whose first bytes have not arrived


@dataclass(frozen=True)
class UploadToken:
    """What a JS upload's id says: 16 random bytes, the declared size and the idle tick it
    was started in (hex, 52 characters). Nothing is stored for it until bytes arrive; the
    size is checked again then, so a made-up token gains nothing. Its row, and the record of
    it once finished, are named by the random part only (never by its size)."""

    nonce: bytes
    size: int
    tick: int

    @classmethod
    def new(cls, size: int, tick: int) -> UploadToken:
        return cls(secrets.token_bytes(16), size, tick)

    def __str__(self) -> str:
        tick = (self.tick & 0xFFFFFFFF).to_bytes(4, "big")
        return (self.nonce + self.size.to_bytes(6, "big") + tick).hex()

    @property
    def row_id(self) -> str:
        return self.nonce.hex()

    @classmethod
    def parse(cls, text: str) -> UploadToken | None:
        if len(text) != 52:
            return None
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            return None
        return cls(raw[:16], int.from_bytes(raw[16:22], "big"), int.from_bytes(raw[22:], "big"))
