"""Issue 18: what a text through the JS API costs the database and the disk. Its one PUT reads
nothing (a begun upload has its file, so the look-up is only for those) and registers it in
one transaction; its file gets its name only once its bytes are durable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from .conftest import Intake
from .helpers import seal


@contextmanager
def statements(intake: Intake) -> Iterator[list[str]]:
    """The SQL the store runs meanwhile (its engine's and the relaxed one's)."""
    store = intake.app.extensions["sealdrop"]
    seen: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(" ".join(sql.split()).upper())

    engines = {store.engine, store.quick_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def test_a_text_put_reads_nothing_and_commits_once(intake: Intake) -> None:
    store = intake.app.extensions["sealdrop"]
    envelope = seal([intake.public_key], "hello")
    upload_id = intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    linked = []
    real_link = os.link

    def watch_link(source: str, name: str, **kwargs: object) -> None:
        # The file's bytes are all there when its name appears.
        linked.append(os.stat(source).st_size)
        real_link(source, name, **kwargs)  # type: ignore[arg-type]

    batches = store.commits.batches
    os.link = watch_link  # type: ignore[assignment]
    try:
        with statements(intake) as seen:
            put = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
    finally:
        os.link = real_link
    assert put.json == {"received": len(envelope), "stored": True}
    assert linked == [len(envelope)]
    assert intake.files("blobs")[0].name.endswith(".sdenv") and len(intake.files("blobs")) == 1
    assert store.commits.batches - batches == 1
    assert seen and not [sql for sql in seen if sql.startswith("SELECT")]
    assert intake.counts() == (1, 0)


def test_a_text_sent_again_whole_after_a_lost_answer_is_stored_once(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    upload_id = intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    for _ in range(3):
        put = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
        assert put.json == {"received": len(envelope), "stored": True}
    assert intake.counts() == (1, 0)
    assert len(intake.files("blobs")) == 1  # the retries' files were removed again
    assert intake.app.extensions["sealdrop"].ledger().stored == len(envelope)


def test_an_upload_begun_in_pieces_is_looked_up_when_sent_again_whole(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    upload_id = intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    first = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope[:100])
    assert first.json == {"received": 100}
    again = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
    assert again.status_code == 409 and again.json["received"] == 100
    assert intake.counts() == (0, 1)
    rest = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=100", data=envelope[100:])
    assert rest.json == {"received": len(envelope)}
    assert intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code == 201
    assert intake.counts() == (1, 0)
