"""The blob store: ciphertext files in the data directory, published atomically.

    DATA_DIR/tmp/*.partial       envelopes being sealed (no-JS path), locked while written
    DATA_DIR/uploads/<id>.part   resumable uploads in progress: the ciphertext so far
    DATA_DIR/uploads/<id>.meta   ... and their declared size and creation hour
    DATA_DIR/uploads/<id>.done   the metadata of a finished upload, so that a finish retried
                                 after a lost answer still hears "stored" (until it expires)
    DATA_DIR/blobs/<id>.sdenv    stored submissions (rows in `submissions`)
    DATA_DIR/creation.lock       held shared while a file is created, exclusively by cleanup

A blob is fsynced and renamed into blobs/ before its row commits, while its writer holds an
flock on it; cleanup takes the same lock before deciding a blob is an orphan. So a crash leaves
at worst an orphan blob or temp file (deleted by cleanup), never a row without its ciphertext
or a half-written blob with a row. Uploads in progress live only in files: losing one in a
crash costs the submitter a restart, never a stored submission, and keeps the database out of
the per-chunk path.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from .config import Settings
from .db import Submission, this_hour
from .errors import IntakeError, storage_full

BLOB_SUFFIX = ".sdenv"
UPLOAD_SUFFIX = ".part"
META_SUFFIX = ".meta"
DONE_SUFFIX = ".done"
TEMP_SUFFIX = ".partial"
CREATION_LOCK = "creation.lock"


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
    """Creates a private file (0600) that must not exist yet, and locks it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    handle = os.fdopen(fd, "r+b", buffering=0)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return handle


@dataclass(frozen=True)
class UploadInfo:
    id: str
    size: int
    created_hour: int


class Store:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._next_expiry_check = 0.0
        self._blob_dir = -1

    def _blob_dir_fd(self) -> int:
        """The blob directory, opened once per process for its fsyncs."""
        if self._blob_dir < 0:
            self._blob_dir = os.open(self.settings.blob_dir, os.O_RDONLY | os.O_DIRECTORY)
        return self._blob_dir

    def blob_path(self, submission_id: str) -> Path:
        return self.settings.blob_dir / f"{submission_id}{BLOB_SUFFIX}"

    def upload_path(self, upload_id: str) -> Path:
        return self.settings.upload_dir / f"{upload_id}{UPLOAD_SUFFIX}"

    def _meta_path(self, upload_id: str) -> Path:
        return self.settings.upload_dir / f"{upload_id}{META_SUFFIX}"

    # space

    def used_bytes(self) -> int:
        """Stored ciphertext not yet purged, plus the declared size of uploads in progress."""
        with Session(self.engine) as session:
            stored = session.scalar(select(func.coalesce(func.sum(Submission.size), 0)))
        return int(stored or 0) + sum(upload.size for upload in self.uploads())

    def headroom(self) -> int | None:
        budget = self.settings.storage_budget_bytes
        return None if budget is None else budget - self.used_bytes()

    def check_space(self, needed: int) -> None:
        """Raises storage-full unless `needed` more bytes fit the budget and the disk."""
        headroom = self.headroom()
        if headroom is not None and needed > headroom:
            raise storage_full()
        self.check_disk(needed)

    def check_disk(self, needed: int) -> None:
        free = shutil.disk_usage(self.settings.data_dir).free
        if free - needed < self.settings.disk_reserve_bytes:
            raise storage_full()

    # uploads in progress

    def uploads(self) -> list[UploadInfo]:
        found = []
        for path in self.settings.upload_dir.glob(f"*{META_SUFFIX}"):
            upload = self._read_meta(path.name.removesuffix(META_SUFFIX))
            if upload is not None:
                found.append(upload)
        return found

    def create_upload(self, size: int) -> str:
        self.check_space(size)
        # Uploads already under way will need their remaining bytes too.
        self.check_disk(size + self._outstanding_bytes())
        upload_id = new_id()
        # The data file exists (locked) before its metadata, so cleanup never sees metadata
        # without data, nor takes the fresh data file for an orphan.
        with self._creating(), open_new(self.upload_path(upload_id)):
            meta = json.dumps({"size": size, "created_hour": this_hour()}).encode()
            fd = os.open(self._meta_path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(meta)
        return upload_id

    def _outstanding_bytes(self) -> int:
        total = 0
        for upload in self.uploads():
            with contextlib.suppress(FileNotFoundError):
                total += max(upload.size - self.upload_path(upload.id).stat().st_size, 0)
        return total

    def find_upload(self, upload_id: str, now: float | None = None) -> UploadInfo | None:
        """The upload, unless it is unknown or expired."""
        upload = self._read_meta(upload_id)
        if upload is None or upload.created_hour <= self._cutoff(now):
            return None
        return upload

    @contextlib.contextmanager
    def locked_upload(self, upload_id: str) -> Iterator[BinaryIO]:
        """The upload's data file, locked; not-found if it went away meanwhile."""
        path = self.upload_path(upload_id)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            raise IntakeError("not-found") from None
        with os.fdopen(fd, "r+b", buffering=0) as handle:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # Cleanup, a discard or a finish may have removed it while we waited.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same or not self._meta_path(upload_id).exists():
                raise IntakeError("not-found")
            yield handle

    def discard_upload(self, upload_id: str) -> None:
        """Deletes an upload; the caller holds its lock (or it is already gone)."""
        for path in (self.upload_path(upload_id), self._meta_path(upload_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _read_meta(self, upload_id: str, suffix: str = META_SUFFIX) -> UploadInfo | None:
        try:
            data = json.loads((self.settings.upload_dir / f"{upload_id}{suffix}").read_bytes())
            return UploadInfo(upload_id, int(data["size"]), int(data["created_hour"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _cutoff(self, now: float | None) -> int:
        return this_hour(now) - self.settings.upload_ttl_hours * 3600

    # publishing

    @contextlib.contextmanager
    def new_temp(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A locked temp file for an envelope; removed on leaving unless published."""
        path = self.settings.tmp_dir / f"{new_id()}{TEMP_SUFFIX}"
        with self._creating():
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
        row, then forgets the upload it came from. Returns the new submission's id."""
        os.fsync(handle.fileno())
        submission_id = new_id()
        target = self.blob_path(submission_id)
        hour = this_hour()
        os.utime(handle.fileno(), (hour, hour))  # no more precise time on disk than in the DB
        os.rename(source, target)
        os.utime(self._blob_dir_fd(), (hour, hour))
        os.fsync(self._blob_dir_fd())
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(Submission).values(id=submission_id, received_hour=hour, size=size)
                )
        except BaseException:
            # Back where it was: the temp file is then removed by its owner, and an upload
            # can be finished again once the database answers.
            os.rename(target, source)
            raise
        if upload_id is not None:
            with contextlib.suppress(FileNotFoundError):
                os.rename(self._meta_path(upload_id), self._done_path(upload_id))
        return submission_id

    def is_finished(self, upload_id: str) -> bool:
        return self._done_path(upload_id).exists()

    def _done_path(self, upload_id: str) -> Path:
        return self.settings.upload_dir / f"{upload_id}{DONE_SUFFIX}"

    # cleanup

    def cleanup(self, now: float | None = None) -> dict[str, int]:
        """Deletes expired uploads, stale temp files and blobs or upload files without rows."""
        counts = {"expired_uploads": self.cleanup_expired_uploads(now)}
        counts.update(temp_files=0, orphan_blobs=0, orphan_uploads=0)
        with Session(self.engine) as session:
            known = set(session.scalars(select(Submission.id)))
        for path in self.settings.blob_dir.glob(f"*{BLOB_SUFFIX}"):
            if path.name.removesuffix(BLOB_SUFFIX) not in known:
                counts["orphan_blobs"] += self._remove_orphan_blob(path)
        # A file just created is not locked yet, nor has its upload its metadata: creators
        # hold the creation lock (shared) over that moment, this pass holds it exclusively.
        with self._creating(exclusive=True):
            for path in self.settings.tmp_dir.glob(f"*{TEMP_SUFFIX}"):
                counts["temp_files"] += remove_unlocked(path)
            for path in self.settings.upload_dir.glob(f"*{UPLOAD_SUFFIX}"):
                if not self._meta_path(path.name.removesuffix(UPLOAD_SUFFIX)).exists():
                    counts["orphan_uploads"] += remove_unlocked(path)
            for path in self.settings.upload_dir.glob(f"*{META_SUFFIX}"):
                if not self.upload_path(path.name.removesuffix(META_SUFFIX)).exists():
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()  # left by a crash after finishing or discarding
        return counts

    @contextlib.contextmanager
    def _creating(self, *, exclusive: bool = False) -> Iterator[None]:
        """The creation lock. Its own descriptor each time: flock locks belong to an open
        file, so threads sharing one descriptor would not exclude each other."""
        path = self.settings.data_dir / CREATION_LOCK
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def maybe_cleanup_expired_uploads(self) -> None:
        """Expiry runs on upload creation, but at most once a minute per process: expiry is
        counted in hours, and reading every upload's metadata on each creation is waste."""
        now = time.monotonic()
        if now >= self._next_expiry_check:
            self._next_expiry_check = now + 60
            self.cleanup_expired_uploads()

    def cleanup_expired_uploads(self, now: float | None = None) -> int:
        """Deletes uploads started more than UPLOAD_TTL_HOURS ago (to the hour)."""
        cutoff = self._cutoff(now)
        for path in self.settings.upload_dir.glob(f"*{DONE_SUFFIX}"):
            done = self._read_meta(path.name.removesuffix(DONE_SUFFIX), DONE_SUFFIX)
            if done is None or done.created_hour <= cutoff:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        count = 0
        for upload in self.uploads():
            if upload.created_hour <= cutoff:
                with contextlib.suppress(IntakeError), self.locked_upload(upload.id):
                    self.discard_upload(upload.id)
                    count += 1
        return count

    def _remove_orphan_blob(self, path: Path) -> int:
        def has_row(blob_id: str) -> bool:
            with Session(self.engine) as session:
                return session.get(Submission, blob_id) is not None

        return remove_unlocked(path, keep=has_row)
