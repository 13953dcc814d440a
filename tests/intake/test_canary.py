"""Invariants 1 and 3: no plaintext and nothing identifying ever reaches the server's disk or
logs, by either path. A unique canary goes in the message, a file name and a file body; an
address and a user agent go in the request; afterwards every byte the server could have
written (data directory with database and blobs, temp directory, logs) is searched."""

from __future__ import annotations

import http.client
import os
import secrets
from pathlib import Path

import pytest

from intake.storage import UploadToken

from .conftest import Intake
from .helpers import post_form, seal, upload

ADDRESS = "198.51.100.231"
AGENT = "Mozilla/5.0 canary-agent-7f3e"


def canaries() -> dict[str, str]:
    token = secrets.token_hex(8)
    return {
        "message": f"message-canary-{token}",
        "filename": f"name-canary-{token}.txt",
        "body": f"body-canary-{token}",
    }


def needles(marks: dict[str, str]) -> list[bytes]:
    found = [value.encode() for value in marks.values()]
    return [*found, ADDRESS.encode(), AGENT.encode()]


def leaks(intake: Intake, search: list[bytes]) -> list[tuple[str, bytes]]:
    hits = []
    for root in (intake.settings.data_dir, intake.tmp_dir):
        for path in Path(root).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                hits += [(str(path), needle) for needle in search if needle in data]
    logged = intake.log.getvalue().encode()
    hits += [("log", needle) for needle in search if needle in logged]
    return hits


def submit_both_paths(intake: Intake, marks: dict[str, str]) -> None:
    environ = {"REMOTE_ADDR": ADDRESS}
    headers = {"User-Agent": AGENT, "X-Forwarded-For": ADDRESS}
    # A body large enough to cross many chunks, with the canary at both ends.
    body = (marks["body"] + "x" * 200_000 + marks["body"]).encode()
    files = [(marks["filename"], "text/plain", body)]
    response = post_form(
        intake.client, marks["message"], files, environ_base=environ, headers=headers
    )
    assert response.status_code == 200
    envelope = seal([intake.public_key], marks["message"], files)
    assert upload(intake.client, envelope).status_code == 201
    assert intake.counts() == (2, 0)


def test_no_plaintext_or_identifying_data_anywhere(intake: Intake) -> None:
    marks = canaries()
    submit_both_paths(intake, marks)
    # Errors must not leak either: a no-JS post cut off mid-file, and an upload cut short.
    boundary = "cutboundary"
    truncated = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n'
        f"{marks['message']}\r\n--{boundary}\r\nContent-Disposition: form-data; "
        f'name="attachments"; filename="{marks["filename"]}"\r\n\r\n{marks["body"]}'
    ).encode()
    cut = intake.client.post(
        "/submit",
        data=truncated,
        content_type=f"multipart/form-data; boundary={boundary}",
        environ_base={"REMOTE_ADDR": ADDRESS},
    )
    assert cut.status_code == 400
    envelope = seal([intake.public_key], marks["message"])
    created = intake.client.post("/api/v1/uploads", json={"size": len(envelope)})
    upload_id = created.json["id"]
    intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope[:500])
    assert intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code == 400
    assert intake.counts() == (2, 0)
    assert leaks(intake, needles(marks)) == []


def test_the_search_finds_a_deliberate_leak(intake: Intake) -> None:
    marks = canaries()
    submit_both_paths(intake, marks)
    (intake.settings.blob_dir / "leak.sdenv").write_bytes(b"..." + marks["body"].encode())
    (intake.tmp_dir / "spool").write_bytes(marks["filename"].encode())
    intake.app.logger.warning("request from %s", ADDRESS)
    found = {needle for _, needle in leaks(intake, needles(marks))}
    assert found == {marks["body"].encode(), marks["filename"].encode(), ADDRESS.encode()}


def test_no_leak_over_a_real_socket_with_a_chunked_body(
    intake: Intake, live: tuple[str, int]
) -> None:
    """Through a real server, with no Content-Length (chunked): nothing spooled anywhere."""
    marks = canaries()
    boundary = "canaryboundary" + secrets.token_hex(4)
    big = (marks["body"] + "y" * 1_000_000).encode()
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n'
            f"{marks['message']}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="{marks["filename"]}"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection(*live, timeout=30)
    connection.putrequest("POST", "/submit?lang=en")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("User-Agent", AGENT)
    connection.endheaders()
    for start in range(0, len(body), 65_000):
        piece = body[start : start + 65_000]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 200
    assert "Server" not in response.headers
    connection.close()
    assert intake.counts() == (1, 0)
    assert leaks(intake, needles(marks)) == []
    assert os.listdir(intake.tmp_dir) == []
    # The development server's request log (which names the client) is off.
    logged = intake.log.getvalue()
    assert "127.0.0.1" not in logged and "/submit" not in logged


def test_werkzeug_form_parser_is_never_used(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Werkzeug's parser spools large files to temporary files: it must never run."""
    from werkzeug import formparser

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("werkzeug's form parser was used")

    monkeypatch.setattr(formparser.FormDataParser, "parse", refuse)
    monkeypatch.setattr(formparser.MultiPartParser, "parse", refuse)
    big = [("f.bin", "application/octet-stream", os.urandom(600_000))]
    assert post_form(intake.client, "hello", big).status_code == 200
    assert intake.counts() == (1, 0)


def exact_times(start: int, end: int) -> list[bytes]:
    """Every second of the test, as text and as SQLite stores an integer (4 bytes, big-endian,
    for today's times)."""
    seconds = range(start - 1, end + 2)
    return [str(t).encode() for t in seconds] + [t.to_bytes(4, "big") for t in seconds]


def test_no_exact_time_and_no_link_between_upload_and_submission_on_disk(intake: Intake) -> None:
    import time

    from sqlalchemy import MetaData, select

    start = int(time.time())
    marks = canaries()
    submit_both_paths(intake, marks)  # two stored, one of them through the upload API
    envelope = seal([intake.public_key], marks["message"])
    created = intake.client.post("/api/v1/uploads", json={"size": len(envelope)})
    unfinished = created.json["id"]
    intake.client.put(f"/api/v1/uploads/{unfinished}?offset=0", data=envelope[:300])
    end = int(time.time())

    data_dir = intake.settings.data_dir
    # File and directory times: hours only (the SQLite shared-memory index is mapped into
    # memory and rewritten by the kernel; it is deleted when the last connection closes).
    for path in [data_dir, *data_dir.rglob("*")]:
        if not path.name.endswith("-shm"):
            assert path.stat().st_mtime % 3600 == 0, path
    # The database: no row holds a time finer than the hour, nor a finished upload's size.
    engine = intake.app.extensions["sealdrop"].engine
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                numbers = [v for v in row if isinstance(v, int) and not isinstance(v, bool)]
                assert not [n for n in numbers if start - 1 <= n <= end + 1], (table, row)
        uploads = list(connection.execute(select(metadata.tables["uploads"])))
    # Only the unfinished upload has a row; the finished one left none, nor any file.
    row_id = UploadToken.parse(unfinished).row_id  # the id's random part, not its size
    assert [row.id for row in uploads] == [row_id]
    assert [p.name for p in intake.files("uploads")] == [f"{row_id}.part"]
    # The raw database files, write-ahead log included, hold no exact time either.
    raw = b"".join(
        p.read_bytes() for p in data_dir.glob("sealdrop.db*") if not p.name.endswith("-shm")
    )
    assert not [t for t in exact_times(start, end) if t in raw]
    for path in data_dir.rglob("*"):
        if path.is_file() and path.suffix not in (".sdenv", ".part"):  # ciphertext is random
            data = path.read_bytes()
            assert not [t for t in exact_times(start, end)[: end - start + 3] if t in data], path
    assert intake.counts() == (2, 1)
