"""Issue 18: what a text through the JS API costs the database and the disk. Its one PUT reads
nothing (a begun upload has its file, so the look-up is only for those) and registers it in
one transaction; its file gets its name only once its bytes are durable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.pool import NullPool

from intake.db import this_hour
from intake.registrar import Duplicate, Entry

from .conftest import Intake
from .helpers import seal


@contextmanager
def connections(intake: Intake) -> Iterator[list[str]]:
    """Each pool check-out of the store's engines meanwhile gives an entry; on SQLite the
    statements each check-out ran follow it (the driver's own trace: the store runs some
    on the DBAPI connection, which SQLAlchemy's events do not see)."""
    store = intake.app.extensions["sealdrop"]
    seen: list[str] = []

    def trace(sql: str) -> None:
        seen.append(" ".join(sql.split()).upper())

    def checkout(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        seen.append("CHECKOUT")
        if store.engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(trace)

    def checkin(dbapi_connection: Any, _record: object) -> None:
        if store.engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(None)

    engines = {store.engine, store.quick_engine}
    for engine in engines:
        event.listen(engine, "checkout", checkout)
        event.listen(engine, "checkin", checkin)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "checkout", checkout)
            event.remove(engine, "checkin", checkin)


def test_a_text_put_reads_nothing_and_commits_once(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = intake.app.extensions["sealdrop"]
    envelope = seal([intake.public_key], "hello")
    upload_id = intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    linked = []
    real_link = os.link

    def watch_link(source: str, name: str, **kwargs: object) -> None:
        # The file's bytes are all there when its name appears.
        linked.append(os.stat(source).st_size)
        real_link(source, name, **kwargs)  # type: ignore[arg-type]

    def no_look_up(*_args: object) -> None:
        raise AssertionError("looked up")

    monkeypatch.setattr(store, "find_upload", no_look_up)
    monkeypatch.setattr(store, "is_finished", no_look_up)
    batches = store.commits.batches
    monkeypatch.setattr(os, "link", watch_link)
    with connections(intake) as seen:
        put = intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
    monkeypatch.undo()
    assert put.json == {"received": len(envelope), "stored": True}
    assert linked == [len(envelope)]
    assert intake.files("blobs")[0].name.endswith(".sdenv") and len(intake.files("blobs")) == 1
    assert store.commits.batches - batches == 1 and seen.count("CHECKOUT") == 1
    if store.engine.dialect.name == "sqlite":
        assert seen[-1] == "COMMIT" and seen.count("COMMIT") == 1
        assert not [sql for sql in seen if sql.startswith("SELECT")]
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


def test_one_upload_twice_in_one_batch_is_stored_and_charged_once(intake: Intake) -> None:
    """Two PUTs of the same text registered together (on PostgreSQL one pipelined
    transaction): the second hears Duplicate, its charge given back, one row."""
    store = intake.app.extensions["sealdrop"]
    hour = this_hour()
    results = store._register(
        [
            Entry("a" * 26, 100, hour, finished="f" * 32),
            Entry("b" * 26, 100, hour, finished="f" * 32),
        ]
    )
    assert results[0] is None and isinstance(results[1], Duplicate)
    assert intake.counts() == (1, 0) and store.ledger().stored == 100


def test_a_text_gets_through_after_the_database_dropped_its_connections(intake: Intake) -> None:
    """PostgreSQL restarted (or its connections were cut): the pooled connection a text is
    registered on is thrown away, not handed out again, so the next text gets through."""
    store = intake.app.extensions["sealdrop"]
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no connections to lose")
    envelope = seal([intake.public_key], "hello")
    assert upload_whole(intake, envelope) == 200
    outside = create_engine(store.settings.database_url, poolclass=NullPool)
    with outside.connect() as connection:  # not one of the pool's
        connection.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    outside.dispose()
    statuses = [upload_whole(intake, envelope) for _ in range(3)]
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    assert intake.counts()[0] == 1 + statuses.count(200)


def upload_whole(intake: Intake, envelope: bytes) -> int:
    upload_id = intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    return intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope).status_code
