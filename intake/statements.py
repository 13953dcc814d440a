"""The statements that storing a submission or a chunk runs, each compiled once
(intake/prepared.py): the ones of every Store here, those that depend on its budget in
``Charges``."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, text, update

from . import ledger
from .config import Settings
from .db import FinishedUpload, Ledger, Submission, Upload
from .prepared import Prepared

FIND_UPLOAD = Prepared(select(Upload.__table__).where(Upload.id == bindparam("id")))
IS_FINISHED = Prepared(select(FinishedUpload.id).where(FinishedUpload.id == bindparam("id")))
# Records a finished JS upload; no row if it was recorded already (SQLite and PostgreSQL
# spell it alike).
INSERT_FINISHED = Prepared(
    text(
        "INSERT INTO finished_uploads (id, expires_hour) VALUES (:id, :expires_hour) "
        "ON CONFLICT (id) DO NOTHING"
    )
)
INSERT_SUBMISSION = Prepared(
    insert(Submission).values(
        id=bindparam("id"),
        received_hour=bindparam("hour"),
        size=bindparam("size"),
        seq=bindparam("seq"),
    )
)
CHARGE_UPLOAD = Prepared(
    update(Upload)
    .where(Upload.id == bindparam("id"))
    .values(received=Upload.received + bindparam("n"), idle_tick=bindparam("tick"))
)
UNCHARGE_STORED = Prepared(ledger.LEDGER.values(stored=Ledger.stored - bindparam("n")))


class Charges:
    """Charges to the ledger under one Store's budget (its conditions are fixed SQL)."""

    def __init__(self, settings: Settings) -> None:
        # Charges a publish and gives it its place in the order of publishing (FORMAT.md
        # §4.4) from the ledger's counter: no time, only "after the last". A text sent whole
        # is charged only if it fits the budget (no row back: refused).
        n = bindparam("n")
        charged = ledger.LEDGER.values(stored=Ledger.stored + n, published=Ledger.published + 1)
        self.upload = Prepared(charged.returning(Ledger.published))
        self.whole = Prepared(
            charged.where(*ledger.whole_room(settings, n)).returning(Ledger.published)
        )
        self.unfinished = {
            small: Prepared(
                ledger.LEDGER.where(*ledger.unfinished_room(settings, n, small)).values(
                    {column: column + n}
                )
            )
            for small, column in ((True, Ledger.unfinished_small), (False, Ledger.unfinished_large))
        }
