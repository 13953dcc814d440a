"""The storage ledger: one row (``storage_ledger``, id 1) that every byte is charged to
before it is written, by one conditional UPDATE (atomic across threads, processes and
instances). The budget's shares (docs/UPLOAD.md, "Fair shares"):

    stored + unfinished_large + unfinished_small <= STORAGE_BUDGET_BYTES      (small ones)
    ... <= the budget less SMALL_RESERVE_BYTES, and
    unfinished_large <= UNFINISHED_SHARE_PERCENT of that                     (large ones)
    unfinished_small <= half of SMALL_RESERVE_BYTES                         (small, in pieces)

A small envelope sent whole (a no-JS text, a JS upload in one PUT) never holds anything
unfinished: it is charged to ``stored`` in the transaction that registers it. So what
unfinished uploads hold, and how many there are, never refuses a text.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, Engine, column, delete, func, select, table, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from .config import Settings
from .db import Ledger, Submission, Upload
from .errors import IntakeError, busy_uploads, storage_full

LEDGER = update(Ledger).where(Ledger.id == 1)
# Replies and staff events the team imports are stored ciphertext too (issue 17, G9): charged
# to ``stored`` like submissions, within the budget less the slice kept for texts.
STAFF_TABLES = (table("replies", column("size")), table("staff_events", column("size")))


def read(engine: Engine) -> Ledger:
    with Session(engine) as session:
        row = session.get(Ledger, 1)
        if row is None:
            raise IntakeError("busy")  # the database is not migrated: init was not run
        session.expunge(row)
        return row


def check_disk(settings: Settings, needed: int, small: bool = True) -> None:
    """Raises storage-full unless ``needed`` more bytes leave the disk reserve free (and,
    for a large submission without a budget, the slice kept for small ones too)."""
    keep = settings.disk_reserve_bytes
    if not small and settings.storage_budget_bytes is None:
        keep += settings.small_reserve_bytes
    if shutil.disk_usage(settings.data_dir).free - needed < keep:
        raise storage_full()


def whole_room(settings: Settings, n: int | BindParameter[int]) -> list:  # type: ignore[type-arg]
    """Conditions under which a small envelope of ``n`` bytes, sent whole, fits."""
    if settings.storage_budget_bytes is None:
        return []
    total = Ledger.stored + Ledger.unfinished_large + Ledger.unfinished_small + n
    return [total <= settings.storage_budget_bytes]


def unfinished_room(settings: Settings, n: int | BindParameter[int], small: bool) -> list:  # type: ignore[type-arg]
    """Conditions under which ``n`` more bytes of an upload in progress fit."""
    if settings.storage_budget_bytes is None:
        return []
    total = Ledger.stored + Ledger.unfinished_large + Ledger.unfinished_small + n
    if small:
        return [
            total <= settings.storage_budget_bytes,
            Ledger.unfinished_small + n <= settings.small_reserve_bytes // 2,
        ]
    return [
        total <= settings.general_limit,
        Ledger.unfinished_large + n <= settings.unfinished_limit,
    ]


def refusal(connection: Connection, settings: Settings, n: int, small: bool) -> IntakeError:
    """Why ``n`` bytes did not fit: full if finished submissions fill the space, busy if
    unfinished uploads hold it (they finish or expire)."""
    row = connection.execute(select(Ledger).where(Ledger.id == 1)).one()
    return refusal_for(row.stored, settings, n, small)


def refusal_for(stored: int, settings: Settings, n: int, small: bool) -> IntakeError:
    """``refusal`` given what the ledger says is stored."""
    limit = settings.storage_budget_bytes if small else settings.general_limit
    if limit is None or stored + n > limit:
        return storage_full()
    return busy_uploads()


def reserve_staff(engine: Engine, settings: Settings, n: int) -> bool:
    """Charges ``n`` bytes of replies and staff events about to be imported, if they fit
    beside everything else within the budget less the slice kept for texts."""
    conditions = []
    if settings.general_limit is not None:
        total = Ledger.stored + Ledger.unfinished_large + Ledger.unfinished_small + n
        conditions.append(total <= settings.general_limit)
    with engine.begin() as connection:
        return bool(
            connection.execute(LEDGER.where(*conditions).values(stored=Ledger.stored + n)).rowcount
        )


@contextlib.contextmanager
def quick(engine: Engine) -> Iterator[Connection]:
    """A transaction whose commit does not wait for the disk (SQLite: an engine made by
    db.make_engine with durable=False; PostgreSQL: synchronous_commit off for it), for the
    charges of uploads in progress, whose bytes are not durable either until they are
    published (that commit is). A crash may lose one; the ledger is then recounted from the
    rows (``recount``) and the upload resumes from what its file holds."""
    with engine.begin() as connection:
        if engine.dialect.name != "sqlite":
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO off")
        yield connection


def recount(engine: Engine) -> None:
    """Sets the ledger from the rows it sums (after a crash, or an upgrade). The ledger row
    is locked first and the sums read after: a charge under way then either is in the
    sums (committed) or adds itself after (it waits for the lock), never both or neither."""
    with engine.begin() as connection:
        connection.execute(LEDGER.values(stored=Ledger.stored))  # takes the row lock
        received = func.coalesce(func.sum(Upload.received), 0)
        stored = connection.scalar(select(func.coalesce(func.sum(Submission.size), 0)))
        for staff in STAFF_TABLES:
            stored += connection.scalar(select(func.coalesce(func.sum(staff.c.size), 0)))
        large = connection.scalar(select(received).where(Upload.small.is_(False)))
        small = connection.scalar(select(received).where(Upload.small.is_(True)))
        count = connection.scalar(select(func.count()).select_from(Upload))
        connection.execute(
            LEDGER.values(
                stored=stored,
                unfinished_large=large,
                unfinished_small=small,
                unfinished_count=count,
            )
        )


def forget_uploads(connection: Connection, upload_ids: Sequence[str]) -> set[str]:
    """Deletes uploads' rows, then gives their charges back to the ledger (one UPDATE): the
    order every transaction takes rows in (uploads, then the ledger). Returns the ids that
    were still there."""
    if not upload_ids:
        return set()
    rows = connection.execute(
        delete(Upload)
        .where(Upload.id.in_(sorted(upload_ids)))
        .returning(Upload.id, Upload.received, Upload.small)
    ).all()
    if rows:
        small = sum(row.received for row in rows if row.small)
        large = sum(row.received for row in rows if not row.small)
        connection.execute(
            LEDGER.values(
                unfinished_small=Ledger.unfinished_small - small,
                unfinished_large=Ledger.unfinished_large - large,
                unfinished_count=Ledger.unfinished_count - len(rows),
            )
        )
    return {row.id for row in rows}
