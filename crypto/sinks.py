"""Where opened plaintext goes. Each sink keeps nothing visible until ``commit``."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SealdropError
from .writeback import WritebackKicker, write_all

if TYPE_CHECKING:  # annotations only: fsync_dir's users need not load the formats
    from .envelope import Contents
    from .framing import PartInfo


class ContentTooLarge(SealdropError):
    pass


class NullSink:
    """Verifies an envelope and keeps nothing (benchmarks, integrity checks)."""

    def begin_part(self, info: PartInfo) -> None:
        pass

    def write(self, data: memoryview) -> None:
        pass

    def end_part(self, size: int) -> None:
        pass

    def commit(self, contents: Contents) -> None:
        pass

    def discard(self) -> None:
        pass


class MemorySink:
    """Collects small envelopes in memory, refusing more than ``max_bytes`` of content."""

    def __init__(self, max_bytes: int = 16 << 20) -> None:
        self._max = max_bytes
        self._total = 0
        self._current = bytearray()
        self._done: list[bytes] = []

    def begin_part(self, info: PartInfo) -> None:
        self._current = bytearray()

    def write(self, data: memoryview) -> None:
        self._total += len(data)
        if self._total > self._max:
            raise ContentTooLarge(f"the envelope holds more than {self._max} bytes")
        self._current += data

    def end_part(self, size: int) -> None:
        self._done.append(bytes(self._current))

    def commit(self, contents: Contents) -> None:
        for part, data in zip(contents.parts, self._done, strict=True):
            part.data = data

    def discard(self) -> None:
        self._current = bytearray()
        self._done.clear()


WRITE_BYTES = 1 << 20
SMALL_BUFFER_BYTES = 64 << 10
WRITER_BUFFERS = 3  # one being filled, two with the writing thread: 3 MiB at most


class _PartWriter:
    """Writes one large part's whole MiBs from a thread of its own, so that the thread that
    decrypts never waits for the kernel. os.write and posix_fadvise release the GIL, so on two
    cores this runs beside decryption and hashing; the buffers come back to the filling thread
    once written (at most WRITER_BUFFERS MiB in flight).

    As the file grows, its writeback is started (crypto/writeback.py), so the disk works
    while the next chunks decrypt and the one fsync at the end has little left. A failed
    write (a full disk) is raised in the filling thread at its next hand-over, or by
    ``finish``."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._full: queue.SimpleQueue[tuple[memoryview, int] | None] = queue.SimpleQueue()
        self._free: queue.SimpleQueue[memoryview] = queue.SimpleQueue()
        for _ in range(WRITER_BUFFERS - 1):  # and the one the filling thread hands over first
            self._free.put(memoryview(bytearray(WRITE_BYTES)))
        self._error: BaseException | None = None
        self._kicker = WritebackKicker(fd)
        self._thread = threading.Thread(target=self._run, name="sealdrop-writer", daemon=True)
        self._thread.start()

    def buffer(self) -> memoryview:
        """An empty MiB to fill (waits while every buffer is with the writing thread)."""
        buffer = self._free.get()
        if self._error is not None:
            raise self._error
        return buffer

    def submit(self, buffer: memoryview, fill: int) -> None:
        self._full.put((buffer, fill))

    def finish(self) -> None:
        """Waits until everything submitted is written; raises what a write raised."""
        self._full.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._full.get()) is not None:
            buffer, fill = item
            try:
                if self._error is None:
                    write_all(self._fd, buffer[:fill])
                    self._kicker.wrote(fill)
            except BaseException as exc:  # raised again in the filling thread
                self._error = exc
            finally:
                self._free.put(buffer)


class DirectorySink:
    """Writes each part to a private temporary directory beside ``destination`` and renames it
    into place only on commit, so a failed envelope leaves nothing behind.

    The result: ``destination/part-000``, ``part-001``, … (mode 0600) and ``contents.json``.
    Each file is fsynced once. What arrives (pieces of chunks, cut wherever records are) is
    gathered and handed to the kernel in whole MiBs at MiB offsets: the kernel's page cache
    does much less work per byte for large aligned writes than for two unaligned ones per
    chunk. A part of a MiB or more is written by a _PartWriter, beside the decryption; a
    smaller one with one write at its end.
    """

    def __init__(self, destination: str | Path) -> None:
        self.destination = Path(destination)
        if self.destination.exists():
            raise FileExistsError(f"{self.destination} already exists")
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self._workdir = Path(
            tempfile.mkdtemp(
                prefix=f".{self.destination.name}.partial-", dir=self.destination.parent
            )
        )
        self._fd: int | None = None
        # small to start with: a vault of many small submissions makes a sink for each
        self._buffer = memoryview(bytearray(SMALL_BUFFER_BYTES))
        self._fill = 0
        self._count = 0
        self._writer: _PartWriter | None = None

    def begin_part(self, info: PartInfo) -> None:
        path = self._workdir / f"part-{self._count:03d}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._fill = 0

    def write(self, data: memoryview) -> None:
        size, fill = len(data), self._fill
        if fill + size < len(self._buffer):
            self._buffer[fill : fill + size] = data
            self._fill = fill + size
            return
        if len(self._buffer) < WRITE_BYTES:  # a larger part after all: gather whole MiBs
            larger = memoryview(bytearray(WRITE_BYTES))
            larger[:fill] = self._buffer[:fill]
            self._buffer = larger
        view = memoryview(data)
        while view:
            take = min(len(view), WRITE_BYTES - self._fill)
            self._buffer[self._fill : self._fill + take] = view[:take]
            self._fill += take
            view = view[take:]
            if self._fill == WRITE_BYTES:
                self._hand_over()

    def _hand_over(self) -> None:
        """A full MiB goes to the part's writing thread, started with the first one: a part
        under a MiB is written at end_part, with no thread."""
        if self._writer is None:
            assert self._fd is not None
            self._writer = _PartWriter(self._fd)
        self._writer.submit(self._buffer, self._fill)
        self._buffer, self._fill = self._writer.buffer(), 0

    def end_part(self, size: int) -> None:
        assert self._fd is not None
        if self._writer is not None:
            self._writer.submit(self._buffer, self._fill)
            writer, self._writer = self._writer, None
            self._buffer = memoryview(bytearray(SMALL_BUFFER_BYTES))
            writer.finish()
        else:
            write_all(self._fd, self._buffer[: self._fill])
        self._fill = 0
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        self._count += 1

    def commit(self, contents: Contents) -> None:
        for index, part in enumerate(contents.parts):
            part.path = str(self.destination / f"part-{index:03d}")
        listing = {
            "key_ids": contents.key_ids,
            "trailer": contents.trailer,
            "header_hash": contents.header_hash.hex(),
            "parts": [
                {
                    "file": f"part-{index:03d}",
                    "kind": part.info.kind,
                    "name": part.info.name,
                    "type": part.info.media_type,
                    "size": part.size,
                }
                for index, part in enumerate(contents.parts)
            ],
        }
        manifest = self._workdir / "contents.json"
        fd = os.open(manifest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(listing, out, ensure_ascii=False, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.rename(self._workdir, self.destination)
        fsync_dir(self.destination.parent)

    def discard(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):  # the envelope failed: nothing of it is kept
                writer.finish()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        shutil.rmtree(self._workdir, ignore_errors=True)


def fsync_dir(path: Path) -> None:
    """Makes a rename or a new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
