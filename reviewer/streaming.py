"""Opening a large envelope in one pass on two threads: read and hash, then decrypt and write.

CheckedReader hashes what it reads; libsodium, hashlib and file I/O all release the GIL, so
reading-and-hashing in a second thread (Prefetcher) runs beside the decryption instead of
taking turns with it. The reading thread also cuts the bytes where the envelope's own
structure does (the header, then sealed chunks), so the decrypting thread receives each chunk
as one ready object. Memory stays bounded by the queue (about ``DEPTH`` MiB).

VerifiedSink commits the DirectorySink only once the FINAL chunk verified (open_envelope calls
commit only then) and the envelope's bytes matched the manifest's hash. (Writing from a third
thread as well was measured: more CPU, no gain in time on this two-core machine.)
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable

from crypto import Contents, DirectorySink, PartInfo
from crypto.bundle import CheckedReader
from crypto.envelope import MAX_RECIPIENTS, SEALED_CHUNK_SIZE, header_length

BLOCK = 16 * SEALED_CHUNK_SIZE  # about 1 MiB
DEPTH = 8
_COUNT_AT = 9  # the header's recipient count byte (docs/FORMAT.md, 3.1)


class Prefetcher:
    def __init__(self, reader: CheckedReader, advance: Callable[[int], None]) -> None:
        self._reader = reader
        self._advance = advance
        self._queue: queue.Queue[list[bytes] | BaseException] = queue.Queue(maxsize=DEPTH)
        self._stop = threading.Event()
        self._pieces: deque[bytes] = deque()
        self._ended = False
        self.count = 0
        self.reported = 0
        self._thread = threading.Thread(target=self._produce, name="sealdrop-prefetch")
        self._thread.daemon = True
        self._thread.start()

    # --- the reading thread -----------------------------------------------------------

    def _produce(self) -> None:
        try:
            first = self._reader.read(BLOCK)
            cut = len(first)
            if len(first) > _COUNT_AT and 1 <= first[_COUNT_AT] <= MAX_RECIPIENTS:
                cut = min(cut, header_length(first[_COUNT_AT]))
            pieces = [first[:cut]] if cut else []
            rest = first[cut:]
            while not self._stop.is_set():
                block = self._reader.read(BLOCK - len(rest))
                if rest:  # once, to align the blocks on the chunks after the header
                    block, rest = rest + block, b""
                if not block:
                    self._queue.put([*pieces, b""])
                    return
                step = SEALED_CHUNK_SIZE
                pieces += [block[i : i + step] for i in range(0, len(block), step)]
                self._queue.put(pieces)
                pieces = []
        except BaseException as exc:  # handed to the decrypting thread, which re-raises it
            self._queue.put(exc)

    # --- the decrypting thread --------------------------------------------------------

    def read(self, n: int = -1) -> bytes:
        while not self._pieces:
            if self._ended:
                return b""
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._ended = True
                raise item
            if item and item[-1] == b"":
                self._ended = True
                item.pop()
            self._pieces.extend(item)
        piece = self._pieces[0]
        if 0 <= n < len(piece):
            self._pieces[0] = piece[n:]
            piece = piece[:n]
        else:
            self._pieces.popleft()
        self.count += len(piece)
        if self.count - self.reported >= BLOCK:  # a progress bar needs no more than this
            self._advance(self.count - self.reported)
            self.reported = self.count
        return piece

    def check(self) -> None:
        """Reads to the end of the envelope, then checks its hash (CheckedReader.check)."""
        while self.read():
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


class VerifiedSink:
    """A DirectorySink committed only if the envelope's bytes also match the manifest."""

    def __init__(self, inner: DirectorySink, source: Prefetcher) -> None:
        self._inner = inner
        self._source = source

    def begin_part(self, info: PartInfo) -> None:
        self._inner.begin_part(info)

    def write(self, data: memoryview) -> None:
        self._inner.write(data)

    def end_part(self, size: int) -> None:
        self._inner.end_part(size)

    def commit(self, contents: Contents) -> None:
        self._source.check()
        self._inner.commit(contents)

    def discard(self) -> None:
        self._inner.discard()
