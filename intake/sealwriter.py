"""Where the Sealer of a large no-JS post writes: the ciphertext goes to the post's temp file,
each batch only after the upload's row in the ledger was charged for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from crypto.writeback import WritebackKicker, write_all

from .files import blur_time
from .storage import Store

# Ciphertext is charged (one database transaction) a mebibyte at a time.
WRITE_BYTES = 1 << 20
EXPANSION = 1024


class ChargingWriter:
    """The Sealer's ``out``. Each batch of ciphertext goes straight to the file, after the
    upload's row in the ledger was charged for it (which checks the budget, its shares and
    the disk reserve). Charges come in steps of up to WRITE_BYTES (one database transaction
    each), ahead of the writes but never beyond what the body bytes received so far
    (``received``) seal to, unless the ciphertext itself is: a post reserves no more than it
    sends. What is charged but not written is given back when the upload is published or
    forgotten.

    The file's times are set to the hour after every write, and the kernel is asked to start
    writing back as the file grows (crypto/writeback.py): the disk works while the rest
    arrives, and the fsync of the publish has little left to wait for."""

    def __init__(
        self, out: BinaryIO, store: Store, upload_id: str, received: Callable[[], int]
    ) -> None:
        self._fd = out.fileno()
        self._store = store
        self._upload_id = upload_id
        self._received = received
        self._kicker = WritebackKicker(self._fd)
        self.charged = 0
        self.written = 0

    def write(self, data: bytes | memoryview) -> int:
        n = len(data)
        if self.written + n > self.charged:
            needed = self.written + n - self.charged
            # What the bytes received so far seal to: each 64 KiB chunk adds a 16-byte tag
            # and a 5-byte record head, less than 1/1024 (the padding is charged as written).
            received = self._received()
            ceiling = received + received // EXPANSION
            step = max(needed, min(WRITE_BYTES, ceiling - self.charged))
            self._store.charge(self._upload_id, step, small=False)
            self.charged += step
        write_all(self._fd, data)
        self.written += n
        blur_time(self._fd)
        self._kicker.wrote(n)
        return n
