"""What the server keeps cannot link one submitter's messages, and no reply text or codename
ever reaches its disk."""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import MetaData, select

from crypto.codename import Codename
from intake.export import export_bundle
from intake.replies import import_replies

from ..intake.helpers import open_bundle, upload
from .conftest import check, codename_of, reply_bundle, salt_of, submit

REPLY_CANARY = "reply-canary-5e1f0a93"


def dump_database(intake) -> str:
    """Every row of every table, as text."""
    engine = intake.app.extensions["sealdrop"].engine
    metadata = MetaData()
    metadata.reflect(engine)
    lines = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                lines.append(f"{table.name} {tuple(row)!r}")
    return "\n".join(lines)


def secrets_of(codename: Codename, salt: bytes) -> list[bytes]:
    keys = codename.derive(salt)
    public = keys.public_key
    return [
        str(codename).encode(),
        *(word.encode() for word in codename.words if len(word) > 5),
        *(mailbox.encode() for mailbox in keys.mailboxes),
        public.line.encode(),
        public.raw,
        public.key_id,
        public.key_id_hex.encode(),
    ]


def test_the_database_cannot_link_two_submissions_of_one_submitter(intake, tmp_path):
    first = submit(intake.client, "first message")
    codename = Codename.parse(codename_of(first))
    submit(intake.client, "second message", codename=str(codename))
    # A third from the browser path, whose trailer the browser sealed itself.
    keys = codename.derive(salt_of(intake))
    from crypto import seal_bytes

    envelope = seal_bytes(
        [intake.public_key],
        "third",
        trailer={"reply_key": keys.public_key.line, "mailbox": keys.mailbox},
    )
    assert upload(intake.client, envelope).status_code == 201
    submit(intake.client, "someone else entirely")

    dump = dump_database(intake).encode()
    assert dump.count(b"submissions (") == 4
    blobs = [p.read_bytes() for p in intake.files("blobs")]
    assert len(blobs) == 4
    for secret in secrets_of(codename, salt_of(intake)):
        assert secret not in dump, secret
        for blob in blobs:
            assert secret not in blob, secret  # only ciphertext is stored
    for path in intake.settings.data_dir.rglob("*"):
        if path.is_file():
            for secret in secrets_of(codename, salt_of(intake)):
                assert secret not in path.read_bytes(), (path, secret)

    # The link exists, but only inside the envelopes, for the reviewers.
    export_bundle(intake.app, tmp_path / "b.tar")
    trailers = [c.trailer for c in open_bundle(tmp_path / "b.tar", intake.identity)]
    assert sorted(t.get("mailbox") == keys.mailbox for t in trailers) == [False, True, True, True]


def test_reply_text_and_codename_never_reach_the_servers_disk(intake, tmp_path):
    codename = Codename.parse(codename_of(submit(intake.client, "asking for help")))
    bundle = reply_bundle(
        tmp_path / "r.tar",
        codename,
        f"We can help. {REPLY_CANARY}",
        files=[("note.txt", "text/plain", REPLY_CANARY.encode() * 3)],
    )
    import_replies(intake.app, bundle)
    page = check(intake.client, str(codename))
    assert REPLY_CANARY in page.get_data(as_text=True)
    download = intake.client.post(
        "/replies/file",
        data={"codename": str(codename), "reply": "r1", "part": "0"},
        content_type="application/x-www-form-urlencoded",
    )
    assert REPLY_CANARY.encode() in download.data
    assert submit(intake.client, "thanks", codename=str(codename)).status_code == 200

    marks = [REPLY_CANARY.encode(), str(codename).encode(), " ".join(codename.words[:3]).encode()]
    places = [intake.settings.data_dir, intake.tmp_dir]
    for place in places:
        for path in place.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                for mark in marks:
                    assert mark not in content, (path, mark)
    log = intake.log.getvalue().encode()
    for mark in marks:
        assert mark not in log
    # The stored reply is ciphertext that the codename's key opens.
    stored = (intake.settings.data_dir / "replies" / "r1.sdenv").read_bytes()
    from crypto import MemorySink, open_envelope

    opened = open_envelope(io.BytesIO(stored), [codename.derive().identity], MemorySink())
    assert REPLY_CANARY in opened.message.data.decode()


def raw_database_bytes(intake) -> bytes:
    """The SQLite files as a seizer would image them, write-ahead log included."""
    database = intake.settings.data_dir / "sealdrop.db"
    return b"".join(
        path.read_bytes()
        for path in (database, database.with_name("sealdrop.db-wal"))
        if path.exists()
    )


def test_deleted_reply_ids_and_mailboxes_leave_no_trace_in_the_database_files(intake, tmp_path):
    if intake.app.extensions["sealdrop"].engine.dialect.name != "sqlite":
        pytest.skip("reads SQLite's files; PostgreSQL keeps dead rows until (auto)vacuum")
    codename = Codename.generate()
    mailbox = codename.derive().mailbox
    reply_ids = ["deletedreplyid7f3a9c1e", "expiredreplyid2b8d4e6f"]
    for n, reply_id in enumerate(reply_ids):
        import_replies(intake.app, reply_bundle(tmp_path / f"{n}.tar", codename, "hi", reply_id))
    assert mailbox.encode() in raw_database_bytes(intake)  # the search finds them while kept
    deleted = intake.client.delete(f"/api/v1/mailboxes/{mailbox}/replies/{reply_ids[0]}")
    assert deleted.status_code == 200
    replies = intake.app.extensions["sealdrop_replies"]
    assert replies.cleanup(now=time.time() + 400 * 86400)["expired_replies"] == 1
    raw = raw_database_bytes(intake)
    for secret in (mailbox, *reply_ids):
        assert secret.encode() not in raw, secret


def test_a_reader_holding_the_log_delays_its_truncation_not_the_request(intake, tmp_path):
    """A long reader keeps SQLite from truncating its log: the delete answers anyway, and the
    log is emptied in the background once the reader is gone."""
    import sqlite3

    if intake.app.extensions["sealdrop"].engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write-ahead log only")
    codename = Codename.generate()
    mailbox = codename.derive().mailbox
    import_replies(intake.app, reply_bundle(tmp_path / "r.tar", codename, "hi", "heldreply1"))
    database = intake.settings.data_dir / "sealdrop.db"
    reader = sqlite3.connect(database)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM replies").fetchall()  # holds a snapshot open
        started = time.monotonic()
        deleted = intake.client.delete(f"/api/v1/mailboxes/{mailbox}/replies/heldreply1")
        assert deleted.status_code == 200
        assert time.monotonic() - started < 5  # not the 10 s database timeout
        assert database.with_name("sealdrop.db-wal").stat().st_size > 0  # held by the reader
    finally:
        reader.close()
    wal = database.with_name("sealdrop.db-wal")
    deadline = time.monotonic() + 20
    while wal.exists() and wal.stat().st_size > 0:
        assert time.monotonic() < deadline, "the log was never truncated"
        time.sleep(0.05)  # waiting for the background retry, not standing in for it
    assert mailbox.encode() not in raw_database_bytes(intake)
