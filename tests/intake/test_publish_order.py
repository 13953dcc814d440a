"""The export lists one hour's submissions in the order they were published (FORMAT.md §4,
"Order"), whatever their random ids, and keeps no time finer than the hour to do it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.bundle import Bundle
from intake.db import Submission
from intake.export import export_bundle

from .conftest import Intake
from .helpers import open_bundle, parts_of, post_form


def test_one_hours_submissions_are_exported_in_the_order_sent(intake: Intake, tmp_path: Path):
    texts = [f"message {n}" for n in range(12)]
    for text in texts:
        assert post_form(intake.client, text).status_code == 200
    with Session(intake.app.extensions["sealdrop"].engine) as session:
        rows = session.execute(select(Submission.id, Submission.seq, Submission.received_hour))
        rows = sorted(rows.all(), key=lambda row: row.seq)
    assert [row.seq for row in rows] == list(range(1, 13))  # a counter, not a time
    assert len({row.received_hour for row in rows}) == 1  # one hour: only the order tells
    assert sorted(r.id for r in rows) != [r.id for r in rows]  # ids alone would scramble it

    exported = export_bundle(intake.app, tmp_path / "week.tar")
    assert exported == [row.id for row in rows]
    with Bundle(tmp_path / "week.tar") as bundle:
        assert [entry.id for entry in bundle.entries] == exported
    opened = open_bundle(tmp_path / "week.tar", intake.identity)
    assert [parts_of(c)[0][3].decode() for c in opened] == texts
