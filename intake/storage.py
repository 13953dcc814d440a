"""The blob store: ciphertext files in the data directory, published atomically, and the
ledger that charges them against the storage budget.

    DATA_DIR/tmp/<id>.partial    envelopes being sealed (no-JS path), locked while written
    DATA_DIR/uploads/<id>.part   resumable uploads in progress: the ciphertext so far
    DATA_DIR/blobs/<id>.sdenv    stored submissions (rows in `submissions`)
    DATA_DIR/creation.lock       held shared while a file is created, exclusively by cleanup
    table `uploads`              every upload in progress (both paths): bytes received so far
    table `finished_uploads`     upload ids stored in the last UPLOAD_TTL_HOURS, so that a
                                 finish retried after a lost answer still hears "stored"
    table `storage_ledger`       bytes stored and held by unfinished uploads (one row)

Every byte written is charged first, by one conditional UPDATE of the ledger row (atomic
across threads, processes and instances); an upload pays for what it sent, never for what it
declared. Files carry hour-rounded times only; a finished upload leaves no row or file that
names its size or the submission it became.

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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from .config import SMALL_ENVELOPE_BYTES, Settings
from .db import FinishedUpload, Ledger, Submission, Upload, forget_deleted, this_hour
from .errors import IntakeError, busy_uploads, storage_full

BLOB_SUFFIX = ".sdenv"
UPLOAD_SUFFIX = ".part"
# Left by versions that kept upload state in files; cleanup deletes them.
OLD_SUFFIXES = (".meta", ".done")
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


def blur_time(path: Path | int, now: float | None = None) -> None:
    """Sets a file's (or an open descriptor's) times to the hour: the only precision kept."""
    hour = this_hour(now)
    with contextlib.suppress(FileNotFoundError):
        os.utime(path, (hour, hour))


@dataclass(frozen=True)
class UploadInfo:
    id: str
    size: int | None
    received: int
    small: bool
    nojs: bool
    created_hour: int


# An upload's idle tick counts half idle-timeouts; it expires once this many have begun since
# its last progress, i.e. after between 1 and 1.5 idle timeouts without a byte.
IDLE_TICKS = 3


class Store:
    def __init__(
        self, settings: Settings, engine: Engine, clock: Callable[[], float] | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock or (lambda: time.time())  # tests inject their own
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

    def temp_path(self, upload_id: str) -> Path:
        return self.settings.tmp_dir / f"{upload_id}{TEMP_SUFFIX}"

    # space

    def ledger(self) -> Ledger:
        with Session(self.engine) as session:
            row = session.get(Ledger, 1)
            if row is None:
                raise IntakeError("busy")  # the database is not migrated: init was not run
            session.expunge(row)
            return row

    def used_bytes(self) -> int:
        """Stored ciphertext not yet purged, plus what uploads in progress have received."""
        row = self.ledger()
        return row.stored + row.unfinished_large + row.unfinished_small

    def check_disk(self, needed: int, small: bool = True) -> None:
        """Raises storage-full unless ``needed`` more bytes leave the disk reserve free (and,
        for a large submission without a budget, the slice kept for small ones too)."""
        keep = self.settings.disk_reserve_bytes
        if not small and self.settings.storage_budget_bytes is None:
            keep += self.settings.small_reserve_bytes
        if shutil.disk_usage(self.settings.data_dir).free - needed < keep:
            raise storage_full()

    def charge(self, upload_id: str, n: int) -> None:
        """Charges ``n`` bytes about to be written to an upload in progress (and marks it as
        making progress), or refuses: busy (unfinished uploads hold the space; try again),
        storage-full, or not-found (it expired)."""
        upload = self._row(upload_id)
        self.check_disk(n, upload.small)
        with self.engine.begin() as connection:
            hit = connection.execute(
                update(Upload)
                .where(Upload.id == upload_id)
                .values(received=Upload.received + n, idle_tick=self._tick())
            ).rowcount
            if not hit:
                raise IntakeError("not-found")
            column = Ledger.unfinished_small if upload.small else Ledger.unfinished_large
            conditions = [Ledger.id == 1, *self._room(n, upload.small)]
            taken = connection.execute(
                update(Ledger).where(*conditions).values({column: column + n})
            ).rowcount
            if not taken:
                raise self._refusal(connection, n, upload.small)

    def uncharge(self, upload_id: str, n: int) -> None:
        """Gives back a charge whose bytes were not written after all."""
        upload = self._row(upload_id)
        column = Ledger.unfinished_small if upload.small else Ledger.unfinished_large
        with self.engine.begin() as connection:
            hit = connection.execute(
                update(Upload).where(Upload.id == upload_id).values(received=Upload.received - n)
            ).rowcount
            if hit:
                ledger = update(Ledger).where(Ledger.id == 1)
                connection.execute(ledger.values({column: column - n}))

    def _room(self, n: int, small: bool) -> list:  # type: ignore[type-arg]
        """The ledger conditions under which ``n`` more bytes of this class fit."""
        settings = self.settings
        if settings.storage_budget_bytes is None:
            return []
        total = Ledger.stored + Ledger.unfinished_large + Ledger.unfinished_small + n
        if small:
            return [total <= settings.storage_budget_bytes]
        return [
            total <= settings.general_limit,
            Ledger.unfinished_large + n <= settings.unfinished_limit,
        ]

    def _refusal(self, connection: Connection, n: int, small: bool) -> IntakeError:
        """Why ``n`` bytes did not fit: full if finished submissions fill the space, busy if
        unfinished uploads hold it (they finish or expire)."""
        row = connection.execute(select(Ledger).where(Ledger.id == 1)).one()
        settings = self.settings
        limit = settings.storage_budget_bytes if small else settings.general_limit
        if not small and row.unfinished_large + n > (settings.unfinished_limit or 0):
            return busy_uploads()
        if limit is None or row.stored + n > limit:
            return storage_full()
        return busy_uploads()

    def release_stored(self, connection: Connection, n: int) -> None:
        """Purged submissions give their bytes back (inside the caller's transaction)."""
        connection.execute(update(Ledger).where(Ledger.id == 1).values(stored=Ledger.stored - n))

    # uploads in progress

    def _tick(self, now: float | None = None) -> int:
        now = self.clock() if now is None else now
        return int(now // (self.settings.upload_idle_minutes * 30))

    def _row(self, upload_id: str) -> Upload:
        with Session(self.engine) as session:
            row = session.get(Upload, upload_id)
            if row is None:
                raise IntakeError("not-found")
            session.expunge(row)
            return row

    def uploads(self) -> list[UploadInfo]:
        with Session(self.engine) as session:
            return [_info(row) for row in session.scalars(select(Upload))]

    def _start(self, upload_id: str, size: int | None, small: bool, nojs: bool) -> None:
        """Registers an upload, unless too many are under way or its class has no room."""
        settings = self.settings
        conditions = [Ledger.id == 1, Ledger.unfinished_count < settings.max_unfinished_uploads]
        if settings.storage_budget_bytes is not None:
            declared = size or 0
            if small:
                conditions.append(Ledger.stored + declared <= settings.storage_budget_bytes)
            else:
                conditions += [
                    Ledger.stored + declared <= settings.general_limit,
                    Ledger.unfinished_large < settings.unfinished_limit,
                ]
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(Ledger)
                .where(*conditions)
                .values(unfinished_count=Ledger.unfinished_count + 1)
            ).rowcount
            if not taken:
                raise self._start_refusal(connection, size or 0, small)
            connection.execute(
                insert(Upload).values(
                    id=upload_id,
                    nojs=nojs,
                    small=small,
                    size=size,
                    received=0,
                    created_hour=this_hour(self.clock()),
                    idle_tick=self._tick(),
                )
            )

    def _start_refusal(self, connection: Connection, declared: int, small: bool) -> IntakeError:
        row = connection.execute(select(Ledger).where(Ledger.id == 1)).one()
        settings = self.settings
        limit = settings.storage_budget_bytes if small else settings.general_limit
        if limit is not None and row.stored + declared > limit:
            return storage_full()
        return busy_uploads()

    def create_upload(self, size: int) -> str:
        """Starts a JS upload of ``size`` declared bytes: nothing is charged until bytes come."""
        small = size <= SMALL_ENVELOPE_BYTES
        self.check_disk(size, small)
        upload_id = new_id()
        path = self.upload_path(upload_id)
        # The data file exists (locked) before its row, so cleanup never takes the fresh file
        # for an orphan (it holds the creation lock exclusively while it looks).
        with self._creating(), open_new(path) as handle:
            blur_time(handle.fileno())
            try:
                self._start(upload_id, size, small, nojs=False)
            except BaseException:
                path.unlink()
                raise
            finally:
                blur_time(self.settings.upload_dir)
        return upload_id

    def find_upload(self, upload_id: str, now: float | None = None) -> UploadInfo | None:
        """The upload, unless it is unknown or expired."""
        with Session(self.engine) as session:
            row = session.get(Upload, upload_id)
            if row is None or row.nojs or self._expired(row, now):
                return None
            return _info(row)

    def _expired(self, row: Upload, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        return row.idle_tick <= self._tick(now) - IDLE_TICKS or row.created_hour <= self._cutoff(
            now
        )

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
            # Expiry, a discard or a finish may have removed it while we waited.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                raise IntakeError("not-found")
            yield handle

    def discard_upload(self, upload_id: str) -> None:
        """Deletes an upload and gives back its charge; the caller holds its lock (or it is
        already gone)."""
        for path in (self.upload_path(upload_id), self.temp_path(upload_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        blur_time(self.settings.upload_dir)
        with self.engine.begin() as connection:
            _forget_upload(connection, upload_id)
        forget_deleted(self.engine)

    def _cutoff(self, now: float | None) -> int:
        return this_hour(now) - self.settings.upload_ttl_hours * 3600

    # the no-JS path

    @contextlib.contextmanager
    def new_temp(
        self, upload_id: str | None = None, register: Callable[[], None] | None = None
    ) -> Iterator[tuple[Path, BinaryIO]]:
        """A locked temp file for an envelope; removed on leaving unless published.
        ``register`` runs once it exists, still under the creation lock."""
        path = self.temp_path(upload_id or new_id())
        with self._creating():
            handle = open_new(path)
            try:
                if register is not None:
                    register()
            except BaseException:
                path.unlink()
                handle.close()
                raise
        blur_time(handle.fileno())
        try:
            yield path, handle
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            handle.close()
            blur_time(self.settings.tmp_dir)

    @contextlib.contextmanager
    def nojs_upload(
        self, small: bool, declared: int | None = None
    ) -> Iterator[tuple[str, Path, BinaryIO]]:
        """A no-JS post being sealed: a row charged as it is written, and its temp file. Both
        are gone on leaving unless published."""
        upload_id = new_id()

        def register() -> None:
            self._start(upload_id, declared, small, nojs=True)

        try:
            with self.new_temp(upload_id, register) as (path, handle):
                yield upload_id, path, handle
        finally:
            with self.engine.begin() as connection:
                forgot = _forget_upload(connection, upload_id)
            if forgot:
                forget_deleted(self.engine)

    # publishing

    def publish(
        self, source: Path, handle: BinaryIO, size: int, *, upload_id: str | None = None
    ) -> str:
        """fsyncs the locked file ``source``, renames it into the blob store and commits its
        row, then forgets the upload it came from. Returns the new submission's id."""
        os.fsync(handle.fileno())
        submission_id = new_id()
        target = self.blob_path(submission_id)
        hour = this_hour(self.clock())
        os.utime(handle.fileno(), (hour, hour))  # no more precise time on disk than in the DB
        # Under the creation lock (shared), so that cleanup in another process, which holds
        # it exclusively, never sees the upload's row without its file in between.
        with self._creating():
            os.rename(source, target)
            os.utime(self._blob_dir_fd(), (hour, hour))
            os.fsync(self._blob_dir_fd())
            try:
                with self.engine.begin() as connection:
                    # The upload's row before the ledger, as every transaction takes them:
                    # the other order deadlocks against one forgetting the same upload.
                    row = None if upload_id is None else _forget_upload(connection, upload_id)
                    seq = connection.scalar(
                        update(Ledger)
                        .where(Ledger.id == 1)
                        .values(stored=Ledger.stored + size, published=Ledger.published + 1)
                        .returning(Ledger.published)
                    )
                    connection.execute(
                        insert(Submission).values(
                            id=submission_id, received_hour=hour, size=size, seq=seq
                        )
                    )
                    if row is not None and not row.nojs:
                        connection.execute(
                            insert(FinishedUpload).values(
                                id=upload_id,
                                expires_hour=hour + self.settings.upload_ttl_hours * 3600,
                            )
                        )
            except BaseException:
                # Back where it was: the temp file is then removed by its owner, and an upload
                # can be finished again once the database answers.
                os.rename(target, source)
                raise
        blur_time(source.parent)
        if upload_id is not None:
            forget_deleted(self.engine)
        return submission_id

    def is_finished(self, upload_id: str) -> bool:
        with Session(self.engine) as session:
            return session.get(FinishedUpload, upload_id) is not None

    # cleanup

    def cleanup(self, now: float | None = None) -> dict[str, int]:
        """Deletes expired uploads, stale temp files and blobs or upload files without rows,
        then recounts the ledger from the rows."""
        counts = {"expired_uploads": self.cleanup_expired_uploads(now)}
        counts.update(temp_files=0, orphan_blobs=0, orphan_uploads=0)
        with Session(self.engine) as session:
            known = set(session.scalars(select(Submission.id)))
        for path in self.settings.blob_dir.glob(f"*{BLOB_SUFFIX}"):
            if path.name.removesuffix(BLOB_SUFFIX) not in known:
                counts["orphan_blobs"] += self._remove_orphan_blob(path)
        # A file just created is not locked yet, nor has its upload its row: creators hold
        # the creation lock (shared) over that moment, this pass holds it exclusively.
        with self._creating(exclusive=True):
            for path in self.settings.tmp_dir.glob(f"*{TEMP_SUFFIX}"):
                if remove_unlocked(path):
                    counts["temp_files"] += 1
                    with self.engine.begin() as connection:  # its writer died
                        _forget_upload(connection, path.name.removesuffix(TEMP_SUFFIX))
            with Session(self.engine) as session:
                rows = session.execute(select(Upload.id, Upload.nojs)).all()
            uploading = {upload_id for upload_id, _ in rows}
            for upload_id, nojs in rows:  # a row whose file is gone (a crash while finishing)
                if not (
                    self.temp_path(upload_id) if nojs else self.upload_path(upload_id)
                ).exists():
                    with self.engine.begin() as connection:
                        _forget_upload(connection, upload_id)
            for path in self.settings.upload_dir.glob(f"*{UPLOAD_SUFFIX}"):
                if path.name.removesuffix(UPLOAD_SUFFIX) not in uploading:
                    counts["orphan_uploads"] += remove_unlocked(path)
            for suffix in OLD_SUFFIXES:
                for path in self.settings.upload_dir.glob(f"*{suffix}"):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
        self.recount()
        for directory in (self.settings.upload_dir, self.settings.tmp_dir):
            blur_time(directory)
        forget_deleted(self.engine)
        return counts

    def recount(self) -> None:
        """Sets the ledger from the rows it sums (after a crash, or an upgrade). The ledger row
        is locked first and the sums read after: a charge under way then either is in the
        sums (committed) or adds itself after (it waits for the lock), never both or neither."""
        ledger = update(Ledger).where(Ledger.id == 1)
        with self.engine.begin() as connection:
            connection.execute(ledger.values(stored=Ledger.stored))  # takes the row lock
            received = func.coalesce(func.sum(Upload.received), 0)
            stored = connection.scalar(select(func.coalesce(func.sum(Submission.size), 0)))
            large = connection.scalar(select(received).where(Upload.small.is_(False)))
            small = connection.scalar(select(received).where(Upload.small.is_(True)))
            count = connection.scalar(select(func.count()).select_from(Upload))
            connection.execute(
                ledger.values(
                    stored=stored,
                    unfinished_large=large,
                    unfinished_small=small,
                    unfinished_count=count,
                )
            )

    @contextlib.contextmanager
    def _creating(self, *, exclusive: bool = False) -> Iterator[None]:
        """The creation lock. Its own descriptor each time: flock locks belong to an open
        file, so threads sharing one descriptor would not exclude each other."""
        path = self.settings.data_dir / CREATION_LOCK
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
            blur_time(fd)
            blur_time(self.settings.data_dir)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def maybe_cleanup_expired_uploads(self) -> None:
        """Expiry runs when uploads start (both paths), but at most once a minute per
        process: it is counted in quarter hours and hours."""
        now = time.monotonic()
        if now >= self._next_expiry_check:
            self._next_expiry_check = now + 60
            self.cleanup_expired_uploads()

    def cleanup_expired_uploads(self, now: float | None = None) -> int:
        """Deletes uploads without progress for UPLOAD_IDLE_MINUTES (give or take half) or
        started more than UPLOAD_TTL_HOURS ago (to the hour), and finished ids as old."""
        now = self.clock() if now is None else now
        with self.engine.begin() as connection:
            connection.execute(
                delete(FinishedUpload).where(FinishedUpload.expires_hour <= this_hour(now))
            )
            stale = connection.execute(
                select(Upload.id, Upload.nojs)
                .where(
                    (Upload.idle_tick <= self._tick(now) - IDLE_TICKS)
                    | (Upload.created_hour <= self._cutoff(now))
                )
                .limit(1000)
            ).all()
        count = 0
        for upload_id, nojs in stale:
            path = self.temp_path(upload_id) if nojs else self.upload_path(upload_id)
            try:
                handle = open(path, "rb")
            except FileNotFoundError:
                handle = None
            with handle or contextlib.nullcontext():
                if handle is not None:
                    if not try_lock(handle):
                        continue  # its writer is at work right now: not idle after all
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                with self.engine.begin() as connection:
                    if _forget_upload(connection, upload_id) is not None:
                        count += 1
        if stale:
            blur_time(self.settings.upload_dir)
        forget_deleted(self.engine)
        return count

    def _remove_orphan_blob(self, path: Path) -> int:
        def has_row(blob_id: str) -> bool:
            with Session(self.engine) as session:
                return session.get(Submission, blob_id) is not None

        return remove_unlocked(path, keep=has_row)


def _info(row: Upload) -> UploadInfo:
    return UploadInfo(row.id, row.size, row.received, row.small, row.nojs, row.created_hour)


def _forget_upload(connection: Connection, upload_id: str) -> Upload | None:
    """Deletes an upload's row and gives its charge back to the ledger; None if it was gone."""
    row = connection.execute(
        delete(Upload)
        .where(Upload.id == upload_id)
        .returning(Upload.received, Upload.small, Upload.nojs)
    ).one_or_none()
    if row is None:
        return None
    column = Ledger.unfinished_small if row.small else Ledger.unfinished_large
    connection.execute(
        update(Ledger)
        .where(Ledger.id == 1)
        .values({column: column - row.received, "unfinished_count": Ledger.unfinished_count - 1})
    )
    return row  # type: ignore[return-value]
