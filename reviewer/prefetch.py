"""Reading (and so hashing) a large envelope in a second thread while this one decrypts.

CheckedReader hashes what it reads; libsodium, hashlib and file I/O all release the GIL, so
moving the read-and-hash half of the single pass to another thread lets the two halves use
two cores. Memory stays bounded by the queue: at most ``DEPTH`` blocks of ``BLOCK`` bytes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable

from crypto.bundle import CheckedReader

BLOCK = 1 << 20
DEPTH = 8
_DONE = b""


class Prefetcher:
    def __init__(self, reader: CheckedReader, advance: Callable[[int], None]) -> None:
        self._reader = reader
        self._advance = advance
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=DEPTH)
        self._stop = threading.Event()
        self._block = b""
        self._offset = 0
        self._ended = False
        self.count = 0
        self._thread = threading.Thread(target=self._produce, name="sealdrop-prefetch")
        self._thread.daemon = True
        self._thread.start()

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                block = self._reader.read(BLOCK)
                self._queue.put(block)
                if not block:
                    return
        except BaseException as exc:  # handed to the reading thread, which re-raises it
            self._queue.put(exc)

    def read(self, n: int = -1) -> bytes:
        while self._offset >= len(self._block):
            if self._ended:
                return b""
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._ended = True
                raise item
            if item == _DONE:
                self._ended = True
                return b""
            self._block, self._offset = item, 0
        end = len(self._block) if n < 0 else self._offset + n
        data = self._block[self._offset : end]
        self._offset += len(data)
        self.count += len(data)
        self._advance(len(data))
        return data

    def check(self) -> None:
        """Reads to the end of the envelope, then checks its hash (CheckedReader.check)."""
        while self.read(BLOCK):
            pass
        self._thread.join()
        self._reader.check()

    def close(self) -> None:
        """Stops the reading thread early (after an error that ends the whole open)."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.1)  # unblocks a producer waiting for room
        self._thread.join()
