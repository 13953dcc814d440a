"""The blob store: ciphertext files in the data directory, published atomically, each charged
against the storage budget (intake/ledger.py) before it is accepted.

    DATA_DIR/blobs/<id>.partial  a small envelope being stored (locked), renamed when whole,
                                 where the file system has no unnamed files (O_TMPFILE)
    DATA_DIR/blobs/<id>.sdenv    stored submissions (rows in `submissions`)
    DATA_DIR/tmp/<id>.partial    large no-JS envelopes being sealed, locked while written
    DATA_DIR/uploads/<id>.part   JS uploads that have received bytes: the ciphertext so far
    DATA_DIR/creation.lock       held shared while an upload's file is created, exclusively
                                 by cleanup
    DATA_DIR/commit.lock         SQLite: the processes' group commits take turns on it
    table `uploads`              uploads in progress that hold bytes: how many are charged
    table `finished_uploads`     upload ids stored in the last UPLOAD_TTL_HOURS, so that a
                                 finish retried after a lost answer still hears "stored"

A small envelope (a text, up to SMALL_ENVELOPE_BYTES) is held in memory, written to its own
unnamed file, fsynced and only then given its name; then ONE transaction charges the budget
and registers it, shared with whatever else is being stored at that moment
(intake/groupcommit.py): the blob directory's fsync and the commit's are paid once per batch.
A starting JS upload is only a name (``UploadToken``): nothing is written until its first
bytes arrive, and its one PUT, if it carries a whole text, reads nothing from the database.

A blob is durable (file and name) before its row commits, and its writer holds an flock on
it until then; cleanup takes the same lock before deciding a blob is an orphan. So a crash
leaves at worst an orphan blob or temp file (deleted by cleanup), never a row without its
ciphertext or a half-written blob with a row. If a refused or crashed charge leaves the
ledger off, cleanup recounts it from the rows.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.orm import Session

from crypto.writeback import write_all

from . import ledger, statements
from .cleanup import IDLE_TICKS, Cleanup
from .config import SMALL_ENVELOPE_BYTES, Settings
from .db import (
    Ledger,
    Upload,
    forget_deleted,
    make_engine,
    this_hour,
)
from .errors import IntakeError, busy_uploads, storage_full
from .files import (
    BLOB_SUFFIX,
    COMMIT_LOCK,
    TEMP_SUFFIX,
    UPLOAD_SUFFIX,
    blur_time,
    link,
    new_id,
    open_new,
    open_unnamed,
    remove_unlocked,
)
from .groupcommit import GroupCommit
from .registrar import Duplicate, Entry, Registrar
from .statements import Charges
from .uploadids import UploadInfo, UploadToken

__all__ = [
    "BLOB_SUFFIX",
    "Duplicate",
    "Store",
    "UploadInfo",
    "blur_time",
    "new_id",
    "remove_unlocked",
]


class Store(Cleanup):
    def __init__(
        self, settings: Settings, engine: Engine, clock: Callable[[], float] | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock or (lambda: time.time())  # tests inject their own
        self._next_expiry_check = 0.0
        self._blob_dir = -1
        self.commits: GroupCommit[Entry, BaseException | None] = GroupCommit(self._register)
        self._quick_engine: Engine | None = None
        self._commit_lock = (0, -1)  # (pid, fd): see _taking_turns
        self._charges = Charges(settings)
        self._registrar = Registrar(engine, settings, self._charges)

    @property
    def quick_engine(self) -> Engine:
        """The same database, for charges of uploads in progress (ledger.quick); made on
        first use, so a command that charges nothing opens no second pool."""
        if self.engine.dialect.name != "sqlite":
            return self.engine  # PostgreSQL relaxes it per transaction (ledger.quick)
        if self._quick_engine is None:
            self._quick_engine = make_engine(self.settings.database_url, durable=False)
        return self._quick_engine

    @contextlib.contextmanager
    def _taking_turns(self) -> Iterator[None]:
        """SQLite: the group commits of every process on this data directory take turns on
        an flock (DATA_DIR/commit.lock), each woken the moment it is free. Met on SQLite's
        write lock instead, a waiter polls with sleeps of up to 100 ms while its batch waits.
        PostgreSQL's row locks wake their waiters themselves."""
        if self.engine.dialect.name != "sqlite":
            yield
            return
        pid = os.getpid()
        if self._commit_lock[0] != pid:  # flock belongs to an open file, which a fork shares
            path = self.settings.data_dir / COMMIT_LOCK
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
            blur_time(fd)
            blur_time(self.settings.data_dir)
            self._commit_lock = (pid, fd)
        fd = self._commit_lock[1]
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

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
        return ledger.read(self.engine)

    def used_bytes(self) -> int:
        """Stored ciphertext not yet purged, plus what uploads in progress have received."""
        row = self.ledger()
        return row.stored + row.unfinished_large + row.unfinished_small

    def check_disk(self, needed: int, small: bool = True) -> None:
        ledger.check_disk(self.settings, needed, small)

    def charge(self, upload_id: str, n: int, small: bool) -> None:
        """Charges ``n`` bytes about to be written to an upload in progress (and marks it as
        making progress), or refuses: busy (unfinished uploads hold the space; try again),
        storage-full, or not-found (it expired). Not waiting for the disk: see ledger.quick."""
        self.check_disk(n, small)
        with ledger.quick(self.quick_engine) as connection:
            if not statements.CHARGE_UPLOAD(
                connection, id=upload_id, n=n, tick=self._tick()
            ).rowcount:
                raise IntakeError("not-found")
            if not self._charges.unfinished[small](connection, n=n).rowcount:
                raise ledger.refusal(connection, self.settings, n, small)

    def uncharge(self, upload_id: str, n: int, small: bool) -> None:
        """Gives back a charge whose bytes were not written after all."""
        column = Ledger.unfinished_small if small else Ledger.unfinished_large
        with ledger.quick(self.quick_engine) as connection:
            hit = connection.execute(
                update(Upload).where(Upload.id == upload_id).values(received=Upload.received - n)
            ).rowcount
            if hit:
                connection.execute(ledger.LEDGER.values({column: column - n}))

    def release_stored(self, connection: Connection, n: int) -> None:
        """Purged submissions give their bytes back (inside the caller's transaction)."""
        connection.execute(ledger.LEDGER.values(stored=Ledger.stored - n))

    # uploads in progress

    def uploads(self) -> list[UploadInfo]:
        with Session(self.engine) as session:
            return [_info(row) for row in session.scalars(select(Upload))]

    def _start(self, upload_id: str, size: int | None, small: bool, nojs: bool) -> None:
        """Registers an upload that is about to receive its first bytes, unless too many
        hold bytes already or its class has no room. Never for a text sent whole."""
        settings = self.settings
        conditions = [Ledger.id == 1, Ledger.unfinished_count < settings.max_unfinished_uploads]
        if settings.storage_budget_bytes is not None and not small:
            conditions += [
                Ledger.stored + (size or 0) <= settings.general_limit,
                Ledger.unfinished_large < settings.unfinished_limit,
            ]
        with ledger.quick(self.quick_engine) as connection:
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
        """Starts a JS upload of ``size`` declared bytes: a token, nothing stored. Refused
        only if the size cannot fit beside what is stored (or, for a large one, while
        unfinished uploads hold their share): read, never written."""
        small = size <= SMALL_ENVELOPE_BYTES
        self.check_disk(size, small)
        settings = self.settings
        if settings.storage_budget_bytes is not None:
            row = self.ledger()
            limit = settings.storage_budget_bytes if small else settings.general_limit
            if row.stored + size > (limit or 0):
                raise storage_full()
            if not small and row.unfinished_large >= (settings.unfinished_limit or 0):
                raise busy_uploads()
        return str(UploadToken.new(size, self._tick()))

    def begin_upload(self, upload: UploadInfo) -> None:
        """Its first bytes have come: the upload gets its file and row (charged as they are
        written). Another request of the same upload may have begun it meanwhile."""
        small = (upload.size or 0) <= SMALL_ENVELOPE_BYTES
        self.check_disk(upload.size or 0, small)
        path = self.upload_path(upload.id)
        # The data file exists (locked) before its row, so cleanup never takes the fresh file
        # for an orphan (it holds the creation lock exclusively while it looks).
        with self._creating():
            try:
                handle = open_new(path)
            except FileExistsError:
                return  # begun by a request of the same upload
            with handle:
                blur_time(handle.fileno())
                try:
                    self._start(upload.id, upload.size, small, nojs=False)
                except BaseException:
                    path.unlink()
                    raise
                finally:
                    blur_time(self.settings.upload_dir)

    def find_upload(self, upload_id: str, now: float | None = None) -> UploadInfo | None:
        """The upload, unless it is unknown, finished or expired (one connection, at most
        two primary-key reads)."""
        token = UploadToken.parse(upload_id)
        if token is None:
            return None
        now = self.clock() if now is None else now
        row_id = token.row_id
        with self.engine.connect() as connection:
            row = statements.FIND_UPLOAD(connection, id=row_id).first()
            if row is not None:
                upload = Upload(**row._asdict())
                upload.nojs, upload.small = bool(upload.nojs), bool(upload.small)
                if upload.nojs or upload.size != token.size or self._expired(upload, now):
                    return None
                return _info(upload)
            if not self._fresh(token, now):
                return None
            if statements.IS_FINISHED(connection, id=row_id).first() is not None:
                return None
        small = token.size <= SMALL_ENVELOPE_BYTES
        return UploadInfo(row_id, token.size, 0, small, False, this_hour(now), False)

    def _fresh(self, token: UploadToken, now: float) -> bool:
        """Whether a token with no row was started recently enough to begin now. (A tick
        ahead is another instance's clock a moment ahead of ours.)"""
        return self._tick(now) - IDLE_TICKS < token.tick <= self._tick(now) + 1

    def unbegun_text(self, upload_id: str, length: int | None) -> UploadInfo | None:
        """The upload, if its one PUT of ``length`` bytes carries all of a small envelope and
        it has not begun, known without asking the database: a begun upload's file exists
        before its row and goes with it (stored, discarded or expired). Not a retry of one
        stored already either, as far as the caller knows: that one is found out when it is
        registered (Duplicate). None: look it up (find_upload)."""
        token = UploadToken.parse(upload_id)
        now = self.clock()
        if (
            token is None
            or token.size != length
            or token.size > SMALL_ENVELOPE_BYTES
            or not self._fresh(token, now)
            or os.path.lexists(self.upload_path(token.row_id))
        ):
            return None
        return UploadInfo(token.row_id, token.size, 0, True, False, this_hour(now), False)

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
            ledger.forget_uploads(connection, [upload_id])
        forget_deleted(self.engine)

    # the no-JS path (large posts: small ones are sealed in memory and stored whole)

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
                forgot = ledger.forget_uploads(connection, [upload_id])
            if forgot:
                forget_deleted(self.engine)

    # publishing

    def store_whole(self, envelope: bytes | bytearray, *, finished: str | None = None) -> str:
        """Stores a small envelope held in memory: its own file, written and fsynced before
        its name appears (or renamed into place where the file system has no unnamed files),
        then charged and registered in one (shared) transaction. Refused (budget, busy
        database) it is removed again. ``finished``: the JS upload it is. Raises Duplicate if
        that upload was stored meanwhile."""
        size = len(envelope)
        self.check_disk(size, small=True)
        submission_id = new_id()
        partial = self.settings.blob_dir / f"{submission_id}{TEMP_SUFFIX}"
        target = self.blob_path(submission_id)
        hour = this_hour(self.clock())
        unnamed = open_unnamed(self.settings.blob_dir)
        with unnamed or open_new(partial) as handle:
            try:
                write_all(handle.fileno(), envelope)
                os.utime(handle.fileno(), (hour, hour))
                os.fsync(handle.fileno())
                if unnamed is not None:
                    link(unnamed, target, self._blob_dir_fd())
                else:
                    try:
                        os.rename(partial, target)
                    except FileNotFoundError:  # cleanup took it before it was locked
                        raise IntakeError("busy") from None
                error = self.commits.submit(Entry(submission_id, size, hour, finished=finished))
                if error is not None:
                    raise error
            except BaseException as error:
                for path in (target, partial):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                blur_time(self.settings.blob_dir)  # the unlink set its time to now
                if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise storage_full() from None
                raise
        return submission_id

    def publish(
        self, source: Path, handle: BinaryIO, size: int, *, upload_id: str | None = None
    ) -> str:
        """fsyncs the locked file ``source`` of an upload in progress, renames it into the
        blob store and registers it (one shared transaction that also forgets the upload).
        Returns the new submission's id."""
        os.fsync(handle.fileno())
        submission_id = new_id()
        target = self.blob_path(submission_id)
        hour = this_hour(self.clock())
        os.utime(handle.fileno(), (hour, hour))  # no more precise time on disk than in the DB
        js = upload_id is not None and source.parent == self.settings.upload_dir
        # Under the creation lock (shared), so that cleanup in another process, which holds
        # it exclusively, never sees the upload's row without its file in between.
        with self._creating():
            os.rename(source, target)
            try:
                entry = Entry(submission_id, size, hour, upload_id, upload_id if js else None)
                error = self.commits.submit(entry)
                if error is not None:
                    raise error
            except BaseException:
                # Back where it was: the temp file is then removed by its owner, and an upload
                # can be finished again once the database answers.
                os.rename(target, source)
                raise
        blur_time(source.parent)
        if upload_id is not None:
            forget_deleted(self.engine)
        return submission_id

    def _register(self, batch: Sequence[Entry]) -> list[BaseException | None]:
        """One transaction for a batch of blobs already written and named: their names are
        made durable (one fsync of the directory), then each is charged and its row added
        (intake/registrar.py)."""
        hour = max(entry.hour for entry in batch)
        os.utime(self._blob_dir_fd(), (hour, hour))
        os.fsync(self._blob_dir_fd())
        with self._taking_turns():
            return self._registrar(batch)

    def is_finished(self, upload_id: str) -> bool:
        token = UploadToken.parse(upload_id)
        if token is None:
            return False
        with self.engine.connect() as connection:
            return statements.IS_FINISHED(connection, id=token.row_id).first() is not None


def _info(row: Upload) -> UploadInfo:
    return UploadInfo(row.id, row.size, row.received, row.small, row.nojs, row.created_hour)
