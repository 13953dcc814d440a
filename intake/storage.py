"""The blob store: ciphertext files in the data directory, published atomically.

    DATA_DIR/tmp/*.partial     envelopes being sealed (no-JS path), locked while written
    DATA_DIR/uploads/<id>.part resumable uploads in progress (rows in `uploads`)
    DATA_DIR/blobs/<id>.sdenv  stored submissions (rows in `submissions`)

A blob is fsynced and renamed into blobs/ before its row commits, while its writer holds an
flock on it; cleanup takes the same lock before deciding a blob is an orphan. So a crash leaves
at worst an orphan blob or temp file (deleted by cleanup), never a row without its ciphertext
or a half-written blob with a row.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from .config import Settings
from .db import Submission, Upload, this_hour
from .errors import storage_full

BLOB_SUFFIX = ".sdenv"
UPLOAD_SUFFIX = ".part"
TEMP_SUFFIX = ".partial"


def new_id() -> str:
    """128 random bits, lowercase base32 without padding (26 characters)."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def try_lock(handle: BinaryIO) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def open_new(path: Path) -> BinaryIO:
    """Creates a private file (0600) that must not exist yet, and locks it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    handle = os.fdopen(fd, "r+b", buffering=0)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return handle


class Store:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    def blob_path(self, submission_id: str) -> Path:
        return self.settings.blob_dir / f"{submission_id}{BLOB_SUFFIX}"

    def upload_path(self, upload_id: str) -> Path:
        return self.settings.upload_dir / f"{upload_id}{UPLOAD_SUFFIX}"

    # space

    def used_bytes(self, session: Session) -> int:
        stored = session.scalar(select(func.coalesce(func.sum(Submission.size), 0)))
        reserved = session.scalar(select(func.coalesce(func.sum(Upload.size), 0)))
        return int(stored or 0) + int(reserved or 0)

    def check_space(self, session: Session, needed: int, *, already_reserved: bool = False) -> None:
        """Raises storage-full unless `needed` more bytes fit the budget and the disk."""
        budget = self.settings.storage_budget_bytes
        if budget is not None:
            used = self.used_bytes(session) - (needed if already_reserved else 0)
            if used + needed > budget:
                raise storage_full()
        self.check_disk(needed)

    def check_disk(self, needed: int) -> None:
        free = shutil.disk_usage(self.settings.data_dir).free
        if free - needed < self.settings.disk_reserve_bytes:
            raise storage_full()

    # publishing

    @contextlib.contextmanager
    def new_temp(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A locked temp file for an envelope; removed on leaving unless published."""
        path = self.settings.tmp_dir / f"{new_id()}{TEMP_SUFFIX}"
        handle = open_new(path)
        try:
            yield path, handle
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            handle.close()

    def publish(
        self, source: Path, handle: BinaryIO, size: int, *, upload_id: str | None = None
    ) -> str:
        """fsyncs the locked file ``source``, renames it into the blob store and commits its
        row (deleting the upload's row in the same transaction). Returns the new id."""
        os.fsync(handle.fileno())
        submission_id = new_id()
        target = self.blob_path(submission_id)
        hour = this_hour()
        os.utime(handle.fileno(), (hour, hour))  # no more precise time on disk than in the DB
        os.rename(source, target)
        fsync_dir(self.settings.blob_dir)
        if source.parent != target.parent:
            fsync_dir(source.parent)
        try:
            with Session(self.engine) as session, session.begin():
                session.add(Submission(id=submission_id, received_hour=hour, size=size))
                if upload_id is not None:
                    session.execute(delete(Upload).where(Upload.id == upload_id))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            raise
        return submission_id

    # cleanup

    def cleanup(self, now: float | None = None) -> dict[str, int]:
        """Deletes expired uploads, stale temp files and blobs or upload files without rows."""
        counts = {"expired_uploads": self.cleanup_expired_uploads(now)}
        counts.update(temp_files=0, orphan_blobs=0, orphan_uploads=0)
        for path in self.settings.tmp_dir.glob(f"*{TEMP_SUFFIX}"):
            counts["temp_files"] += self._remove_unlocked(path)
        for path in self.settings.blob_dir.glob(f"*{BLOB_SUFFIX}"):
            counts["orphan_blobs"] += self._remove_orphan(path, Submission)
        for path in self.settings.upload_dir.glob(f"*{UPLOAD_SUFFIX}"):
            counts["orphan_uploads"] += self._remove_orphan(path, Upload)
        return counts

    def cleanup_expired_uploads(self, now: float | None = None) -> int:
        """Deletes uploads started more than UPLOAD_TTL_HOURS ago (to the hour)."""
        cutoff = this_hour(now) - self.settings.upload_ttl_hours * 3600
        with Session(self.engine) as session:
            expired = list(session.scalars(select(Upload.id).where(Upload.created_hour <= cutoff)))
        for upload_id in expired:
            self._remove_unlocked(self.upload_path(upload_id), wait=True)
            with Session(self.engine) as session, session.begin():
                session.execute(delete(Upload).where(Upload.id == upload_id))
        return len(expired)

    def _remove_unlocked(self, path: Path, *, wait: bool = False) -> int:
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return 0
        with handle:
            if wait:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            elif not try_lock(handle):
                return 0
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return 1

    def _remove_orphan(self, path: Path, model: type[Submission] | type[Upload]) -> int:
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return 0
        with handle:
            if not try_lock(handle):
                return 0
            # Decided only under the lock: a writer commits its row before unlocking.
            with Session(self.engine) as session:
                if session.get(model, path.name.split(".")[0]) is not None:
                    return 0
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return 1
