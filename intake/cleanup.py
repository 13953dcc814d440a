"""Cleanup: expired uploads, files a crash left behind, and the ledger recounted from the rows.

Expiry takes every expired upload in one pass (each file under its writer's lock, then one
transaction for all their rows), so an attacker's abandoned uploads cost one statement per
pass, not one per upload; it runs at most once a minute per process as uploads start and
send, at every app start and in `sealdrop-intake cleanup`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, delete, select, true
from sqlalchemy.orm import Session

from . import ledger
from .config import Settings
from .db import FinishedUpload, Submission, Upload, forget_deleted, this_hour
from .files import (
    BLOB_SUFFIX,
    TEMP_SUFFIX,
    UPLOAD_SUFFIX,
    blur_time,
    creation_lock,
    remove_unlocked,
    try_lock,
)

# Left by versions that kept upload state in files; cleanup deletes them.
OLD_SUFFIXES = (".meta", ".done")
# Rows looked at per round of expiry (as many rounds as it takes).
EXPIRY_BATCH = 5000


# An upload's idle tick counts half idle-timeouts; it expires once this many have begun since
# its last progress, i.e. after between 1 and 1.5 idle timeouts without a byte.
IDLE_TICKS = 3


class Cleanup:
    """Expiry and cleanup, as the Store (intake/storage.py) does them."""

    settings: Settings
    engine: Engine
    clock: Callable[[], float]
    _next_expiry_check: float

    def temp_path(self, upload_id: str) -> Path:
        raise NotImplementedError

    def upload_path(self, upload_id: str) -> Path:
        raise NotImplementedError

    def _tick(self, now: float | None = None) -> int:
        now = self.clock() if now is None else now
        return int(now // (self.settings.upload_idle_minutes * 30))

    def _cutoff(self, now: float | None) -> int:
        return this_hour(now) - self.settings.upload_ttl_hours * 3600

    def _expired(self, row: Upload, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        idle = row.idle_tick <= self._tick(now) - IDLE_TICKS
        return idle or row.created_hour <= self._cutoff(now)

    def _creating(self, *, exclusive: bool = False) -> contextlib.AbstractContextManager[None]:
        return creation_lock(self.settings.data_dir, exclusive=exclusive)

    def recount(self) -> None:
        ledger.recount(self.engine)

    def maybe_cleanup_expired_uploads(self) -> None:
        """Expiry runs as uploads start and send (both paths), but at most once a minute per
        process: it is counted in quarter hours and hours."""
        now = time.monotonic()
        if now >= self._next_expiry_check:
            self._next_expiry_check = now + 60
            self.cleanup_expired_uploads()

    def cleanup(self, now: float | None = None) -> dict[str, int]:
        """Deletes expired uploads, stale temp files and blobs or upload files without rows,
        then recounts the ledger from the rows."""
        settings = self.settings
        counts = {"expired_uploads": self.cleanup_expired_uploads(now)}
        counts.update(temp_files=0, orphan_blobs=0, orphan_uploads=0)
        with Session(self.engine) as session:
            known = set(session.scalars(select(Submission.id)))

        def has_row(blob_id: str) -> bool:
            with Session(self.engine) as session:
                return session.get(Submission, blob_id) is not None

        for path in settings.blob_dir.glob(f"*{BLOB_SUFFIX}"):
            if path.name.removesuffix(BLOB_SUFFIX) not in known:
                counts["orphan_blobs"] += remove_unlocked(path, keep=has_row)
        # A small envelope not yet renamed (its writer died, or is at work: then it is locked).
        for path in settings.blob_dir.glob(f"*{TEMP_SUFFIX}"):
            counts["temp_files"] += remove_unlocked(path)
        # A file just created is not locked yet, nor has its upload its row: creators hold
        # the creation lock (shared) over that moment, this pass holds it exclusively.
        with self._creating(exclusive=True):
            for path in settings.tmp_dir.glob(f"*{TEMP_SUFFIX}"):
                if remove_unlocked(path):
                    counts["temp_files"] += 1
                    with self.engine.begin() as connection:  # its writer died
                        ledger.forget_uploads(connection, [path.name.removesuffix(TEMP_SUFFIX)])
            with Session(self.engine) as session:
                rows = session.execute(select(Upload.id, Upload.nojs)).all()
            uploading = {upload_id for upload_id, _ in rows}
            gone = [  # a row whose file is gone (a crash while finishing)
                upload_id
                for upload_id, nojs in rows
                if not (self.temp_path(upload_id) if nojs else self.upload_path(upload_id)).exists()
            ]
            with self.engine.begin() as connection:
                ledger.forget_uploads(connection, gone)
            for path in settings.upload_dir.glob(f"*{UPLOAD_SUFFIX}"):
                if path.name.removesuffix(UPLOAD_SUFFIX) not in uploading:
                    counts["orphan_uploads"] += remove_unlocked(path)
            for suffix in OLD_SUFFIXES:
                for path in settings.upload_dir.glob(f"*{suffix}"):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
        self.recount()
        for directory in (settings.upload_dir, settings.tmp_dir, settings.blob_dir):
            blur_time(directory)
        forget_deleted(self.engine)
        return counts

    def cleanup_expired_uploads(self, now: float | None = None) -> int:
        """Deletes uploads without progress for UPLOAD_IDLE_MINUTES (give or take half) or
        started more than UPLOAD_TTL_HOURS ago (to the hour), and finished ids as old."""
        now = self.clock() if now is None else now
        stale_when = (Upload.idle_tick <= self._tick(now) - IDLE_TICKS) | (
            Upload.created_hour <= self._cutoff(now)
        )
        with self.engine.begin() as connection:
            connection.execute(
                delete(FinishedUpload).where(FinishedUpload.expires_hour <= this_hour(now))
            )
        count = 0
        skipped: set[str] = set()
        while True:
            with Session(self.engine) as session:
                stale = session.execute(
                    select(Upload.id, Upload.nojs)
                    .where(stale_when, Upload.id.not_in(skipped) if skipped else true())
                    .limit(EXPIRY_BATCH)
                ).all()
            if not stale:
                break
            taken = []
            for upload_id, nojs in stale:
                path = self.temp_path(upload_id) if nojs else self.upload_path(upload_id)
                try:
                    handle = open(path, "rb")
                except FileNotFoundError:
                    taken.append(upload_id)
                    continue
                with handle:
                    if not try_lock(handle):
                        skipped.add(upload_id)  # its writer is at work right now: not idle
                        continue
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    taken.append(upload_id)
            with self.engine.begin() as connection:
                count += len(ledger.forget_uploads(connection, taken))
            if len(stale) < EXPIRY_BATCH:
                break
        if count:
            blur_time(self.settings.upload_dir)
        forget_deleted(self.engine)
        return count
