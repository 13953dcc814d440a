"""The metadata database: which submissions exist, and whether they were exported.

It never holds content or anything about the submitter; times are rounded to the hour.
SQLite (WAL) by default, PostgreSQL by URL; the SQL stays portable.
"""

from __future__ import annotations

import os
import time

from sqlalchemy import BigInteger, Engine, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Submission(Base):
    """A stored envelope: its ciphertext is blobs/<id>.sdenv in the data directory."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_hour: Mapped[int] = mapped_column(BigInteger)  # epoch seconds, a whole hour
    size: Mapped[int] = mapped_column(BigInteger)
    exported_hour: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)


def this_hour(now: float | None = None) -> int:
    """The current time rounded down to the hour: the only precision sealdrop records."""
    now = time.time() if now is None else now
    return int(now) // 3600 * 3600


def make_engine(url: str) -> Engine:
    # Up to 32 connections per process (gunicorn's threads, deploy/gunicorn.conf.py), each
    # held only for a statement or a commit; waiting longer than 10 s is "busy".
    engine = create_engine(url, pool_size=5, max_overflow=27, pool_timeout=10)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

    # Connections must not cross a fork (gunicorn --preload); each child opens its own.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine
