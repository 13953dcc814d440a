"""Invariant 4: bad input is refused with a clear message, and nothing half-stored remains."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.serving import make_server

from crypto import Identity
from intake.serve import QuietHandler

from .conftest import Intake
from .helpers import post_form, seal

BOUNDARY = "b0undary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, value: str, filename: str | None = None) -> str:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n"


def assert_page(response, status: int, text: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert text in response.get_data(as_text=True)


# --- without JavaScript -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "message=hello"),
        ("multipart/form-data", part("message", "no boundary parameter")),
        (MULTIPART, "this is not multipart at all"),
        (MULTIPART, part("message", "cut off") + f"--{BOUNDARY}\r\nContent-Dispo"),
        (MULTIPART, part("message", "x") + part("attachments", "cut in the middle", "a.txt")[:-8]),
        (MULTIPART, f"--{BOUNDARY}\r\nX-No-Disposition: 1\r\n\r\nhi\r\n--{BOUNDARY}--\r\n"),
    ],
    ids=["urlencoded", "no-boundary", "garbage", "cut-in-headers", "truncated-file", "no-cd"],
)
def test_malformed_forms_are_refused(intake: Intake, content_type: str, body: str) -> None:
    response = intake.client.post("/submit?lang=en", data=body, content_type=content_type)
    assert_page(response, 400, "was not sent")
    intake.assert_nothing_stored()


def test_empty_submission_is_refused(intake: Intake) -> None:
    response = post_form(intake.client, "", [("", "application/octet-stream", b"")])
    assert_page(response, 400, "There was nothing to send")
    intake.assert_nothing_stored()


def test_oversized_form_with_content_length_gets_a_page_in_russian(intake: Intake) -> None:
    big = b"z" * (intake.settings.max_submission_bytes + 1)
    response = post_form(intake.client, "m", [("big.bin", "application/octet-stream", big)], "ru")
    assert_page(response, 413, "Это слишком много для одной отправки")
    assert "4 МБ" in response.get_data(as_text=True)
    intake.assert_nothing_stored()


def test_oversized_chunked_form_is_read_to_the_end_and_answered(
    intake: Intake, live: tuple[str, int]
) -> None:
    """No Content-Length: the limit is found mid-stream; the browser still gets the page."""
    body = (part("message", "m") + part("attachments", "q" * (5 << 20), "big.bin")).encode()
    body += f"--{BOUNDARY}--\r\n".encode()
    connection = http.client.HTTPConnection(*live, timeout=30)
    connection.putrequest("POST", "/submit?lang=en")
    connection.putheader("Content-Type", MULTIPART)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), 60_000):
        piece = body[start : start + 60_000]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 413
    assert b"too large to send" in response.read()
    connection.close()
    intake.assert_nothing_stored()


# --- the upload API ---------------------------------------------------------------------


def create(intake: Intake, size: int) -> str:
    response = intake.client.post("/api/v1/uploads", json={"size": size})
    assert response.status_code == 201, response.json
    return response.json["id"]


def put(intake: Intake, upload_id: str, offset: int, data: bytes, lang: str = "en"):  # type: ignore[no-untyped-def]
    return intake.client.put(
        f"/api/v1/uploads/{upload_id}?offset={offset}&lang={lang}",
        data=data,
        content_type="application/octet-stream",
    )


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"] == code
    assert len(response.json["message"]) > 20


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"size": 10 << 20}, 413, "too-large"),
        ({"size": 1000}, 400, "malformed"),  # no envelope for one recipient has this length
        ({"size": -5}, 400, "malformed"),
        ({"size": "2300"}, 400, "malformed"),
        ({"length": 2300}, 400, "malformed"),
        ([2300], 400, "malformed"),
    ],
)
def test_create_refuses_bad_sizes(intake: Intake, body: object, status: int, code: str) -> None:
    assert_error(intake.client.post("/api/v1/uploads", json=body), status, code)
    intake.assert_nothing_stored()


def test_create_refuses_non_json(intake: Intake) -> None:
    response = intake.client.post("/api/v1/uploads", data=b"\xff{", content_type="application/json")
    assert_error(response, 400, "malformed")
    # text/plain is what a page on another site can send without asking: refused unread.
    response = intake.client.post("/api/v1/uploads", data=b'{"size": 5}', content_type="text/plain")
    assert_error(response, 415, "wrong-type")
    intake.assert_nothing_stored()


def tampered(envelope: bytes, position: int, value: int) -> bytes:
    return envelope[:position] + bytes([value]) + envelope[position + 1 :]


@pytest.mark.parametrize("where", ["magic", "version", "count", "stranger", "extra-key"])
def test_wrong_headers_are_refused_as_soon_as_they_arrive(intake: Intake, where: str) -> None:
    envelope = seal([intake.public_key], "hello")
    if where == "magic":
        envelope = b"NOTSEAL!" + envelope[8:]
    elif where == "version":
        envelope = tampered(envelope, 8, 3)
    elif where == "count":
        envelope = tampered(envelope, 9, 2)
    elif where == "stranger":
        envelope = seal([Identity.generate().public_key], "hello")
    upload_id = create(intake, len(envelope))
    first = envelope[:9] if where == "version" else envelope[:200]
    if where == "extra-key":
        first = envelope[:40]
        # Header bytes may arrive a few at a time; the stranger's key id is caught at the end.
        other = seal([Identity.generate().public_key], "hello")
        assert put(intake, upload_id, 0, other[:40]).status_code == 200
        response = put(intake, upload_id, 40, other[40:200], lang="ru")
    else:
        response = put(intake, upload_id, 0, first, lang="ru")
    assert_error(response, 400, "malformed")
    # Nothing of it is kept: the id names no bytes (it may start again from the beginning).
    status = intake.client.get(f"/api/v1/uploads/{upload_id}")
    assert status.status_code == 404 or status.json["received"] == 0
    assert intake.files("uploads") == []
    intake.assert_nothing_stored()


def test_header_arriving_in_small_pieces_is_accepted(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    upload_id = create(intake, len(envelope))
    for offset in range(0, 130, 5):
        assert put(intake, upload_id, offset, envelope[offset : offset + 5]).status_code == 200
    assert put(intake, upload_id, 130, envelope[130:]).json == {"received": len(envelope)}
    finish = intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={})
    assert finish.status_code == 201
    assert intake.counts() == (1, 0)


def test_chunk_sequence_rules(intake: Intake) -> None:
    envelope = seal([intake.public_key], "x" * 300_000)
    upload_id = create(intake, len(envelope))
    assert put(intake, upload_id, 0, envelope[:1000]).json == {"received": 1000}
    # A retry of what already arrived is harmless.
    assert put(intake, upload_id, 0, envelope[:1000]).json == {"received": 1000}
    assert put(intake, upload_id, 500, envelope[500:1000]).json == {"received": 1000}
    # A gap, or an overlap running past what arrived, is a conflict naming where to resume.
    gap = put(intake, upload_id, 2000, envelope[2000:3000])
    assert_error(gap, 409, "conflict")
    assert gap.json["received"] == 1000
    assert_error(put(intake, upload_id, 900, envelope[900:1100]), 409, "conflict")
    assert_error(put(intake, upload_id, -1, b"x"), 400, "malformed")
    too_big = b"x" * (intake.settings.chunk_bytes + 1)
    assert_error(put(intake, upload_id, 1000, too_big), 400, "malformed")
    status = intake.client.get(f"/api/v1/uploads/{upload_id}")
    assert status.json == {"received": 1000, "size": len(envelope)}


def test_finishing_early_deletes_the_upload(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    upload_id = create(intake, len(envelope))
    put(intake, upload_id, 0, envelope[:-1])
    finish = intake.client.post(f"/api/v1/uploads/{upload_id}/finish?lang=ru", json={})
    assert_error(finish, 400, "malformed")
    assert "Отправка прервалась" in finish.json["message"]
    intake.assert_nothing_stored()


def test_going_past_the_declared_size_deletes_the_upload(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    upload_id = create(intake, len(envelope))
    assert_error(put(intake, upload_id, 0, envelope + b"extra"), 400, "malformed")
    intake.assert_nothing_stored()


def test_unknown_uploads(intake: Intake) -> None:
    for path in ("aaaa", "UPPER", "a" * 65, "..%2f..%2fetc"):
        assert_error(intake.client.get(f"/api/v1/uploads/{path}"), 404, "not-found")
        assert_error(put(intake, path, 0, b"x"), 404, "not-found")
        finish = intake.client.post(f"/api/v1/uploads/{path}/finish", json={})
        assert_error(finish, 404, "not-found")


def test_concurrent_retries_of_the_same_chunk_store_it_once(
    intake: Intake, live: tuple[str, int]
) -> None:
    """Two tabs, or a retry racing the original: the upload's lock keeps the file consistent."""
    envelope = seal([intake.public_key], "r" * 500_000)
    upload_id = create(intake, len(envelope))
    chunk = envelope[:200_000]

    def send(_: int) -> tuple[int, int]:
        connection = http.client.HTTPConnection(*live, timeout=30)
        try:
            connection.request("PUT", f"/api/v1/uploads/{upload_id}?offset=0", body=chunk)
            response = connection.getresponse()
            answer = json.loads(response.read())
            assert "received" in answer, (response.status, answer)
            return response.status, answer["received"]
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(16)))
    assert results == [(200, 200_000)] * 16
    assert put(intake, upload_id, 200_000, envelope[200_000:]).status_code == 200
    assert intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code == 201
    [blob] = intake.files("blobs")
    assert blob.read_bytes() == envelope


def test_a_finish_retried_after_a_lost_answer_still_hears_stored(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    upload_id = create(intake, len(envelope))
    put(intake, upload_id, 0, envelope)
    for _ in range(2):
        finish = intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={})
        assert finish.status_code == 201 and finish.json == {"status": "stored"}
    assert intake.counts() == (1, 0)
    # Only until uploads expire; then the id is unknown like any other.
    intake.app.extensions["sealdrop"].cleanup(now=time.time() + 25 * 3600)
    assert intake.files("uploads") == []
    gone = intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={})
    assert_error(gone, 404, "not-found")
    assert intake.counts() == (1, 0)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_connection_lost_mid_form_keeps_nothing(intake: Intake, chunked: bool) -> None:
    """Tor circuits drop: the half-sent form is thrown away and the server carries on."""
    finished = threading.Event()
    statuses: list[str] = []

    def watched(environ, start_response):  # type: ignore[no-untyped-def]
        def start(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            statuses.append(status)
            return start_response(status, headers, exc_info)

        try:
            return list(intake.app(environ, start))
        finally:
            finished.set()

    server = make_server("127.0.0.1", 0, watched, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        head = part("message", "lost") + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
            'filename="a.bin"\r\n\r\n'
        )
        sent = head.encode() + b"x" * 300_000
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        connection.putrequest("POST", "/submit")
        connection.putheader("Content-Type", MULTIPART)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(len(sent) * 2))
        connection.endheaders()
        for start in range(0, len(sent), 50_000):
            piece = sent[start : start + 50_000]
            connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
        connection.sock.shutdown(socket.SHUT_RDWR)
        connection.close()
        assert finished.wait(30)
    finally:
        server.shutdown()
        thread.join()
    assert statuses and statuses[0].startswith("400")
    intake.assert_nothing_stored()
    assert "Traceback" not in intake.log.getvalue()
