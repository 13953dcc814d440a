"""Files in the data directory: private, locked while written, hour-rounded times.

A writer holds an flock on every file it is still writing; cleanup takes the same lock before
it decides a file is left over, so it never deletes one in use.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .db import this_hour

BLOB_SUFFIX = ".sdenv"
UPLOAD_SUFFIX = ".part"
TEMP_SUFFIX = ".partial"
CREATION_LOCK = "creation.lock"
COMMIT_LOCK = "commit.lock"


def new_id() -> str:
    """128 random bits, lowercase base32 without padding (26 characters)."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def remove_unlocked(path: Path, keep: Callable[[str], bool] | None = None) -> int:
    """Deletes ``path`` (returning 1) unless a writer holds its lock or ``keep`` says its row
    exists. Decided only under the lock: a writer commits its row before unlocking."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return 0
    with handle:
        if not try_lock(handle):
            return 0
        if keep is not None and keep(path.name.removesuffix(BLOB_SUFFIX)):
            return 0
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return 1


def try_lock(handle: BinaryIO) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def open_new(path: Path) -> BinaryIO:
    """Creates a private file (0600) that must not exist yet, locked before its name appears:
    another request that opens the name (a retry of the same upload chunk) then waits for
    its creator to finish, instead of taking the lock first and finding no row for it."""
    handle = open_unnamed(path.parent)
    if handle is None:
        return _open_new_named(path)  # a file system without unnamed files
    try:
        link(handle, path)
    except BaseException:
        handle.close()
        raise
    return handle


def open_unnamed(directory: Path) -> BinaryIO | None:
    """A private file (0600) in ``directory`` without a name yet (O_TMPFILE), locked; None on
    a file system without unnamed files. Gone without a trace if it is never linked."""
    try:
        fd = os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o600)
    except OSError as error:
        if error.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "r+b", buffering=0)


def link(handle: BinaryIO, path: Path, directory: int | None = None) -> None:
    """Gives a file of ``open_unnamed`` its name ``path`` (FileExistsError if taken);
    ``directory``: its parent, open already."""
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY) if directory is None else directory
    try:
        # linkat with AT_SYMLINK_FOLLOW, as open(2) shows for O_TMPFILE (a dir fd makes
        # Python call linkat rather than link, which would not follow /proc's link).
        os.link(f"/proc/self/fd/{handle.fileno()}", path.name, dst_dir_fd=dir_fd)
    finally:
        if directory is None:
            os.close(dir_fd)


def _open_new_named(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    handle = os.fdopen(fd, "r+b", buffering=0)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return handle


def blur_time(path: Path | int, now: float | None = None) -> None:
    """Sets a file's (or an open descriptor's) times to the hour: the only precision kept."""
    hour = this_hour(now)
    with contextlib.suppress(FileNotFoundError):
        os.utime(path, (hour, hour))


@contextlib.contextmanager
def creation_lock(data_dir: Path, *, exclusive: bool = False) -> Iterator[None]:
    """Held shared while a file is created, exclusively by cleanup. Its own descriptor each
    time: flock locks belong to an open file, so threads sharing one would not exclude each
    other."""
    path = data_dir / CREATION_LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
        blur_time(fd)
        blur_time(data_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
