"""Moving submissions off the server: export bundles, then purging what was exported."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crypto.bundle import BundleError, BundleWriter, hour_stamp
from crypto.sinks import fsync_dir

from . import config as config_module
from . import team
from .config import Settings
from .db import Submission, make_engine, this_hour
from .storage import Store


class ExportError(Exception):
    """The export could not be written; nothing was marked exported."""


def _store(source: Flask | Store | Mapping[str, Any] | Settings | None) -> tuple[Store, bool]:
    if isinstance(source, Store):
        return source, False
    if isinstance(source, Flask):
        return source.extensions["sealdrop"], False
    settings = config_module.load(source)
    return Store(settings, make_engine(settings.database_url)), True


def export_bundle(
    source: Flask | Store | Mapping[str, Any] | Settings | None,
    out_path: str | Path,
    *,
    again_since: int | None = None,
    report: dict[str, int] | None = None,
) -> list[str]:
    """Writes every submission not yet exported into one bundle at ``out_path`` (which must
    not exist), fsyncs it, then marks them exported. Returns their ids. The staff events not
    yet exported go in the same bundle (their count in ``report``). With ``again_since`` (an
    epoch hour), it repeats instead what was exported since then and some reviewer has not
    yet confirmed (intake.team)."""
    store, owned = _store(source)
    try:
        return _export(store, Path(out_path), again_since, report)
    finally:
        if owned:
            store.engine.dispose()


def _export(
    store: Store, out_path: Path, again_since: int | None, report: dict[str, int] | None
) -> list[str]:
    if out_path.exists():
        raise ExportError(f"{out_path} already exists; choose a new file name")
    query = select(Submission.id, Submission.received_hour, Submission.size)
    if again_since is None:
        query = query.where(Submission.exported_hour.is_(None))
    else:
        query = query.where(Submission.exported_hour >= again_since)
    with Session(store.engine) as session:
        # In the order they were published (FORMAT.md §4.4); older rows have no seq.
        order = (Submission.received_hour, func.coalesce(Submission.seq, 0), Submission.id)
        rows = session.execute(query.order_by(*order)).all()
        if again_since is not None:
            pending = team.unconfirmed(store, session, [r[0] for r in rows])
            rows = [r for r in rows if r[0] in pending]
    events = team.events_to_export(store, again_since)
    partial = out_path.with_name(f".{out_path.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ExportError(f"cannot write next to {out_path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out, _Abandonable(out) as target:
            writer = BundleWriter(target)  # type: ignore[arg-type]
            for submission_id, received_hour, size in rows:
                try:
                    blob = open(store.blob_path(submission_id), "rb")
                except FileNotFoundError:
                    raise ExportError(
                        f"the ciphertext of submission {submission_id} is missing"
                    ) from None
                with blob:
                    writer.add(submission_id, hour_stamp(received_hour), blob, size)
            try:
                team.add_events(store, writer, events)
            except BundleError as exc:
                raise ExportError(str(exc)) from None
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.rename(partial, out_path)
        fsync_dir(out_path.parent)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if isinstance(exc, OSError):
            raise ExportError(f"writing the bundle failed: {exc.strerror or exc}") from None
        raise
    ids = [row[0] for row in rows]
    if again_since is None:
        with Session(store.engine) as session, session.begin():
            for start in range(0, len(ids), 500):
                session.execute(
                    update(Submission)
                    .where(Submission.id.in_(ids[start : start + 500]))
                    .values(exported_hour=this_hour())
                )
        team.mark_events_exported(store, [row[0] for row in events])
    if report is not None:
        report["events"] = len(events)
    return ids


class _Abandonable:
    """The bundle's output; after a failure it swallows what tarfile still flushes on
    garbage collection, instead of writing to a closed, deleted file."""

    def __init__(self, out: BinaryIO) -> None:
        self._out: BinaryIO | None = out

    def write(self, data: bytes) -> int:
        return self._out.write(data) if self._out is not None else len(data)

    def __enter__(self) -> _Abandonable:
        return self

    def __exit__(self, *exc: object) -> None:
        self._out = None


def purge(
    source: Flask | Store | Mapping[str, Any] | Settings | None,
    *,
    older_than_days: int | None = None,
    all_exported: bool = False,
    now: float | None = None,
    unconfirmed_too: bool = False,
) -> list[str]:
    """Deletes the ciphertext and rows of exported submissions: all of them, or those exported
    at least ``older_than_days`` days ago. Never touches a submission not yet exported. Once
    reviewers confirm what they open (a team, intake.team), it keeps what a current
    recipient has not confirmed, unless ``unconfirmed_too``; confirmed events go too."""
    if all_exported == (older_than_days is not None):
        raise ValueError("give either older_than_days or all_exported")
    store, owned = _store(source)
    try:
        query = select(Submission.id).where(Submission.exported_hour.is_not(None))
        if older_than_days is not None:
            cutoff = (time.time() if now is None else now) - older_than_days * 86400
            query = query.where(Submission.exported_hour <= cutoff)
        with Session(store.engine) as session, session.begin():
            ids = list(session.scalars(query))
            if not unconfirmed_too and team.confirmations_in_use(session):
                pending = team.unconfirmed(store, session, ids)
                ids = [i for i in ids if i not in pending]
            for start in range(0, len(ids), 500):
                batch = ids[start : start + 500]
                size = session.scalar(
                    select(func.coalesce(func.sum(Submission.size), 0)).where(
                        Submission.id.in_(batch)
                    )
                )
                session.execute(Submission.__table__.delete().where(Submission.id.in_(batch)))
                store.release_stored(session.connection(), int(size or 0))
        # Rows go first: a crash here leaves orphan blobs, which cleanup deletes.
        for submission_id in ids:
            with contextlib.suppress(FileNotFoundError):
                store.blob_path(submission_id).unlink()
        if ids:
            fsync_dir(store.settings.blob_dir)
        team.forget_confirmations(store, ids)
        team.purge_confirmed_events(store)
        return ids
    finally:
        if owned:
            store.engine.dispose()
