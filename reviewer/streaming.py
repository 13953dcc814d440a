"""Reading envelopes out of a bundle with as few copies as possible, and opening large ones
in one pass on two threads: read and hash, then decrypt and write.

SpanReader reads an envelope's bytes straight from the bundle file with ``os.pread``, each
read landing in one new bytes object; CheckedReader hashes them as they pass. For a large
envelope, Prefetcher does that reading and hashing in a second thread (libsodium, hashlib and
file I/O all release the GIL) and reads where the envelope's own structure is cut — the
header, then ``BATCH`` sealed chunks at a time, handed over cut into chunks — so the decrypting
thread gets every chunk ready to use. Memory stays bounded by the queue (about ``DEPTH`` MiB).

VerifiedSink commits the DirectorySink only once the FINAL chunk verified (open_envelope calls
commit only then) and the envelope's bytes matched the manifest's hash. The sink writes a
large part from a third thread (crypto/sinks.py), which mostly waits in the kernel.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections import deque
from collections.abc import Callable

from crypto import Contents, DirectorySink, PartInfo
from crypto.bundle import CheckedReader
from crypto.envelope import (
    MAGIC,
    PREAMBLE_BYTES,
    SEALED_CHUNK_SIZE,
    header_length_from,
    sealed_chunk_size,
)

BATCH = 16  # sealed chunks per hand-over between the threads: about 1 MiB
DEPTH = 8


class SpanReader:
    """Reads ``length`` bytes of an open file from ``offset`` on, as a file object would."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = fd
        self._position = offset
        self._end = offset + length

    def read(self, n: int = -1) -> bytes:
        left = self._end - self._position
        wanted = left if n < 0 else min(n, left)
        data = os.pread(self._fd, wanted, self._position) if wanted > 0 else b""
        self._position += len(data)
        return data


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
            pieces = [self._reader.read(PREAMBLE_BYTES)]
            header_bytes = header_length_from(pieces[0])
            chunk_bytes, version = SEALED_CHUNK_SIZE, 1
            if header_bytes > PREAMBLE_BYTES:
                pieces.append(self._reader.read(header_bytes - PREAMBLE_BYTES))
                version = pieces[0][len(MAGIC)]
                chunk_bytes = sealed_chunk_size(version)
            while not self._stop.is_set():
                # One read and one hash update per batch: each hands the GIL back and must
                # win it again from the decrypting thread, which per chunk cost more than
                # the reading and hashing. Version 2 takes views of the batch; libsodium
                # (version 1) takes only bytes, so there each chunk is its own copy.
                read = self._reader.read(chunk_bytes * BATCH)
                block = memoryview(read) if version == 2 else read
                pieces.extend(block[i : i + chunk_bytes] for i in range(0, len(read), chunk_bytes))
                if len(read) < chunk_bytes * BATCH:
                    self._queue.put([*pieces, b""])
                    return
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
            self._pieces.extend(piece for piece in item if piece)
        piece = self._pieces[0]
        if 0 <= n < len(piece):
            self._pieces[0] = piece[n:]
            piece = piece[:n]
        else:
            self._pieces.popleft()
        self.count += len(piece)
        if self.count - self.reported >= BATCH * SEALED_CHUNK_SIZE:  # enough for a progress bar
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
