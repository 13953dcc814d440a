"""Registering a batch of stored blobs (one group commit, intake/groupcommit.py): texts sent
whole on the database driver's own connection, batches that finish uploads too through
SQLAlchemy.

A text's registration is a few statements on a few rows; through SQLAlchemy's Connection,
Transaction and Result objects they cost about as much CPU again as the database's own work
(issue 18), so the batch runs them on the pooled DBAPI connection (the pool's check-in still
blurs the database files' times, intake/db.py) and turns a driver error into SQLAlchemy's
(the error pages know those).

Per text, in the order every transaction takes rows (the ledger, then new rows), and a
refused text changes nothing:
  SQLite: charge the ledger (UPDATE ... RETURNING its seq), record the JS upload as finished,
  insert the submission's row: three statements in the process, no round trip.
  PostgreSQL: the same as ONE statement (data-modifying CTEs), for a text alone its own
  transaction: one round trip, where there were five.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Engine, String, bindparam, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError

from . import ledger, statements
from .config import Settings
from .db import FinishedUpload, Ledger, Submission
from .errors import IntakeError
from .prepared import Prepared


class Duplicate(Exception):
    """The same JS upload was stored by another request meanwhile."""


@dataclass
class Entry:
    """One submission to register in a group commit. ``upload`` names the upload row it
    finishes (charged already, as unfinished); without one it is a small envelope sent whole,
    charged here. ``finished`` is the JS upload id that a retried finish asks about."""

    submission_id: str
    size: int
    hour: int
    upload: str | None = None
    finished: str | None = None


class Registrar:
    """Registers batches for one Store; a refused entry changes nothing."""

    def __init__(self, engine: Engine, settings: Settings, charges: statements.Charges) -> None:
        self.engine = engine
        self.settings = settings
        self._charges = charges
        self._postgres = engine.dialect.name == "postgresql"
        if self._postgres:
            self._whole_pg = _postgres_statement(settings)

    def __call__(self, batch: Sequence[Entry]) -> list[BaseException | None]:
        if any(entry.upload for entry in batch):
            return self._with_uploads(batch)
        dialect = self.engine.dialect
        raw = self.engine.raw_connection()
        # One text alone on PostgreSQL: its one statement is its own transaction (no BEGIN
        # and COMMIT round trips); a batch of several is one transaction, as on SQLite.
        alone = self._postgres and len(batch) == 1
        try:
            if alone:
                raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            try:
                if self._postgres:
                    results = self._postgres_batch(raw, batch)
                else:
                    results = self._sqlite_batch(raw, batch)
                if not alone:
                    raw.commit()
            except dialect.loaded_dbapi.Error as error:
                if dialect.is_disconnect(error, raw.dbapi_connection, None):
                    alone = False
                    raw.invalidate(error)  # the pool opens a new one (as SQLAlchemy would)
                elif not alone:
                    raw.rollback()
                raise DBAPIError.instance(
                    None, None, error, dialect.loaded_dbapi.Error, dialect=dialect
                ) from error
            finally:
                if alone:  # (not for a connection just thrown away)
                    raw.driver_connection.autocommit = False  # type: ignore[union-attr]
        finally:
            raw.close()
        return results

    def _with_uploads(self, batch: Sequence[Entry]) -> list[BaseException | None]:
        """A batch that finishes uploads too (large ones, not a hot path) goes through
        SQLAlchemy. Rows are taken in the order every transaction takes them: upload rows
        (sorted), then the ledger, then new rows."""
        results: list[BaseException | None] = [None] * len(batch)
        with self.engine.begin() as connection:
            finishing = [entry.upload for entry in batch if entry.upload]
            forgot = ledger.forget_uploads(connection, finishing)
            for index, entry in enumerate(batch):
                if entry.upload and entry.upload not in forgot:
                    results[index] = IntakeError("not-found")
            for index, entry in enumerate(batch):
                if results[index] is not None:
                    continue
                charge = self._charges.upload if entry.upload else self._charges.whole
                seq = charge(connection, n=entry.size).scalar()
                if seq is None:
                    results[index] = ledger.refusal(connection, self.settings, entry.size, True)
                    continue
                if (
                    entry.finished is not None
                    and not statements.INSERT_FINISHED(
                        connection, id=entry.finished, expires_hour=self._ttl(entry)
                    ).rowcount
                ):
                    statements.UNCHARGE_STORED(connection, n=entry.size)  # (its seq stays unused)
                    results[index] = Duplicate()
                    continue
                statements.INSERT_SUBMISSION(
                    connection, id=entry.submission_id, hour=entry.hour, size=entry.size, seq=seq
                )
        return results

    def _sqlite_batch(self, raw: Any, batch: Sequence[Entry]) -> list[BaseException | None]:
        cursor = raw.cursor()
        try:
            return [self._one_sqlite(cursor, entry) for entry in batch]
        finally:
            cursor.close()

    def _postgres_batch(self, raw: Any, batch: Sequence[Entry]) -> list[BaseException | None]:
        """Several texts' statements go in one round trip (pipeline mode, their BEGIN with
        them), then each answer is read."""
        pipeline = raw.driver_connection.pipeline() if len(batch) > 1 else nullcontext()
        cursors: list[Any] = []
        try:
            with pipeline:
                for entry in batch:
                    cursors.append(raw.cursor())
                    self._send_pg(cursors[-1], entry)
                return [self._conclude_pg(c, e) for c, e in zip(cursors, batch, strict=True)]
        finally:
            for cursor in cursors:
                cursor.close()

    def _ttl(self, entry: Entry) -> int:
        return entry.hour + self.settings.upload_ttl_hours * 3600

    def _refusal(self, cursor: Any, size: int) -> IntakeError:
        cursor.execute("SELECT stored FROM storage_ledger WHERE id = 1")
        return ledger.refusal_for(cursor.fetchone()[0], self.settings, size, small=True)

    def _one_sqlite(self, cursor: Any, entry: Entry) -> BaseException | None:
        dialect = self.engine.dialect
        seq = self._charges.whole.run(cursor, dialect, n=entry.size).fetchone()
        if seq is None:
            return self._refusal(cursor, entry.size)
        if entry.finished is not None:
            statements.INSERT_FINISHED.run(
                cursor, dialect, id=entry.finished, expires_hour=self._ttl(entry)
            )
            if not cursor.rowcount:
                statements.UNCHARGE_STORED.run(cursor, dialect, n=entry.size)  # (seq unused)
                return Duplicate()
        statements.INSERT_SUBMISSION.run(
            cursor, dialect, id=entry.submission_id, hour=entry.hour, size=entry.size, seq=seq[0]
        )
        return None

    def _send_pg(self, cursor: Any, entry: Entry) -> None:
        self._whole_pg.run(
            cursor,
            self.engine.dialect,
            finished=entry.finished,
            expires_hour=self._ttl(entry),
            n=entry.size,
            id=entry.submission_id,
            hour=entry.hour,
        )

    def _conclude_pg(self, cursor: Any, entry: Entry) -> BaseException | None:
        charged, seq = cursor.fetchone()
        if seq is not None:
            return None
        if charged is None:
            return self._refusal(cursor, entry.size)
        # Charged, but the upload was recorded as finished meanwhile: give the charge back.
        # (Alone, that is a second transaction: a crash in between leaves the ledger high
        # until cleanup recounts it from the rows, as any crashed charge does.)
        statements.UNCHARGE_STORED.run(cursor, self.engine.dialect, n=entry.size)
        return Duplicate()


def _postgres_statement(settings: Settings) -> Prepared:
    """Charges the ledger if the text fits, then records the upload as finished (if there
    is one and it was not already: INSERT ... ON CONFLICT waits for a concurrent one), then
    inserts the text's row if both went through: (the charge's seq, the row's seq)."""
    finished = bindparam("finished", type_=String)
    n = bindparam("n", type_=BigInteger)
    charged = (
        update(Ledger)
        .where(Ledger.id == 1, *ledger.whole_room(settings, n))
        .values(stored=Ledger.stored + n, published=Ledger.published + 1)
        .returning(Ledger.published)
        .cte("charged")
    )
    fin = (
        pg_insert(FinishedUpload)
        .from_select(
            ["id", "expires_hour"],
            select(finished, bindparam("expires_hour", type_=BigInteger))
            .select_from(charged)
            .where(finished.is_not(None)),
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(FinishedUpload.id)
        .cte("fin")
    )
    row = (
        pg_insert(Submission)
        .from_select(
            ["id", "received_hour", "size", "seq"],
            select(
                bindparam("id", type_=String),
                bindparam("hour", type_=BigInteger),
                n,
                charged.c.published,
            ).where(finished.is_(None) | exists(select(fin.c.id))),
        )
        .returning(Submission.seq)
        .cte("row")
    )
    return Prepared(
        select(
            select(charged.c.published).scalar_subquery(),
            select(row.c.seq).scalar_subquery(),
        )
    )
