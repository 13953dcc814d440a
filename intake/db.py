"""The metadata database: which submissions exist, and whether they were exported.

It never holds content or anything about the submitter; times are rounded to the hour.
SQLite (WAL) by default, PostgreSQL by URL; the SQL stays portable.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from sqlalchemy import BigInteger, Boolean, Engine, Integer, String, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

BUSY_TIMEOUT_MS = 10_000


class Base(DeclarativeBase):
    pass


class Submission(Base):
    """A stored envelope: its ciphertext is blobs/<id>.sdenv in the data directory."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_hour: Mapped[int] = mapped_column(BigInteger)  # epoch seconds, a whole hour
    size: Mapped[int] = mapped_column(BigInteger)
    exported_hour: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)
    # The order it was published in (the ledger's counter): no time, only "after the one
    # before", so that the export lists one hour's submissions in the order they were sent.
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Upload(Base):
    """An upload in progress: a JS chunk upload (uploads/<id>.part) or a no-JS post being
    sealed (tmp/<id>.partial). Charged for the bytes received so far. Deleted when it is
    stored, discarded or expires: nothing here outlives it, and nothing here is a time finer
    than the hour but ``idle_tick``, a counter of half-idle-timeouts (docs/UPLOAD.md)."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nojs: Mapped[bool] = mapped_column(Boolean)
    small: Mapped[bool] = mapped_column(Boolean)  # envelope up to SMALL_ENVELOPE_BYTES
    size: Mapped[int | None] = mapped_column(BigInteger)  # declared (JS); None without JS
    received: Mapped[int] = mapped_column(BigInteger)
    created_hour: Mapped[int] = mapped_column(BigInteger, index=True)
    idle_tick: Mapped[int] = mapped_column(BigInteger, index=True)


class FinishedUpload(Base):
    """An upload id that was stored, so that a finish retried after a lost answer still hears
    "stored". Holds no size and nothing that names the submission it became."""

    __tablename__ = "finished_uploads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_hour: Mapped[int] = mapped_column(BigInteger, index=True)


class Ledger(Base):
    """One row (id 1): bytes stored and held by unfinished uploads, for every instance. Each
    charge is one conditional UPDATE of this row, so reservations are atomic across threads,
    processes and instances sharing the database."""

    __tablename__ = "storage_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stored: Mapped[int] = mapped_column(BigInteger)
    unfinished_large: Mapped[int] = mapped_column(BigInteger)
    unfinished_small: Mapped[int] = mapped_column(BigInteger)
    unfinished_count: Mapped[int] = mapped_column(BigInteger)
    published: Mapped[int] = mapped_column(BigInteger, server_default="0")  # submissions' seq


def this_hour(now: float | None = None) -> int:
    """The current time rounded down to the hour: the only precision sealdrop records."""
    now = time.time() if now is None else now
    return int(now) // 3600 * 3600


def make_engine(url: str, durable: bool = True) -> Engine:
    """``durable=False`` (SQLite only): commits do not wait for the disk (synchronous=NORMAL),
    for the charges of uploads in progress only; such connections touch a few rows, so they
    keep a small page cache."""
    # Up to 32 connections per process (gunicorn's threads, deploy/gunicorn.conf.py), each
    # held only for a statement or a commit; waiting longer than 10 s is "busy".
    args = (
        {}
        if durable or not url.startswith("postgresql")
        else {"options": "-c synchronous_commit=off"}
    )
    engine = create_engine(url, pool_size=5, max_overflow=27, pool_timeout=10, connect_args=args)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            if not durable:
                cursor.execute("PRAGMA cache_size=-256")
            # Deleted rows (reply ids, mailboxes, finished uploads) are zeroed in the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        path = engine.url.database
        if path and path != ":memory:":
            _blur_sqlite_times(engine, Path(path))

    # Connections must not cross a fork (gunicorn --preload); each child opens its own.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def _blur_sqlite_times(engine: Engine, database: Path) -> None:
    """Every write sets the database files' (and their directory's) times to now; each
    connection, back in the pool after its work, sets them to the hour again. (The lock
    files beside them are never written: their times are set once, as they are made.)"""
    names = (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm")))
    files = [os.fspath(path) for path in (*names, database.parent)]

    @event.listens_for(engine, "checkin")
    def _blur(_dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        hour = this_hour()
        for path in files:
            with contextlib.suppress(OSError):  # not there (yet), or not ours
                os.utime(path, (hour, hour))


def forget_deleted(engine: Engine) -> None:
    """After deleting rows: SQLite's write-ahead log still holds their old pages, so it is
    checkpointed into the database (whose freed cells secure_delete zeroes) and truncated.
    That waits for readers and writers to step aside: a request waits at most a moment, then
    a background thread retries until it succeeds. PostgreSQL's dead rows go with
    (auto)vacuum."""
    if engine.dialect.name != "sqlite":
        return
    if not _checkpoint(engine, busy_ms=200):
        _retry_in_background(engine)


def _checkpoint(engine: Engine, busy_ms: int) -> bool:
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
            try:
                row = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except OperationalError:
        return False
    return row[0] == 0  # not blocked: every frame is in the database and the log is empty


_retrying: set[int] = set()
_retrying_lock = threading.Lock()


def _retry_in_background(engine: Engine) -> None:
    with _retrying_lock:
        if id(engine) in _retrying:
            return
        _retrying.add(id(engine))

    def retry() -> None:
        try:
            while True:
                time.sleep(1)
                if _checkpoint(engine, busy_ms=2000):
                    return
        finally:
            with _retrying_lock:
                _retrying.discard(id(engine))

    threading.Thread(target=retry, name="sealdrop-forget", daemon=True).start()
