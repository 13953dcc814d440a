"""Writing a growing file so that its one fsync at the end has little left to wait for.

Every whole WRITEBACK_STEP bytes of the file, the kernel is asked to start writing them back
(posix_fadvise DONTNEED starts writeback without waiting for it, and lets the page cache drop
what is already on disk): the disk works while the rest arrives. It changes nothing about
what is durable when; only the fsync makes it so. Used by the reviewer's vault writer
(crypto/sinks.py) and by the server's large uploads (intake/).
"""

from __future__ import annotations

import os

WRITEBACK_STEP = 8 << 20
_START_WRITEBACK = getattr(os, "POSIX_FADV_DONTNEED", None)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """os.write until every byte is written (one call may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def start_writeback(fd: int, before: int, after: int) -> None:
    """A write took the file from ``before`` to ``after`` bytes: if that finished a stretch
    of WRITEBACK_STEP bytes (counted from the file's start), the kernel is asked to start
    writing the finished stretches back. Decided by the offsets alone, so writes by separate
    requests (chunks of an upload) kick the same stretches as one writer would."""
    done = after - after % WRITEBACK_STEP
    begun = before - before % WRITEBACK_STEP
    if done > begun and _START_WRITEBACK is not None:
        os.posix_fadvise(fd, begun, done - begun, _START_WRITEBACK)


class WritebackKicker:
    """``start_writeback`` for a writer that sees the file grow write by write."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._written = 0

    def wrote(self, n: int) -> None:
        start_writeback(self._fd, self._written, self._written + n)
        self._written += n
