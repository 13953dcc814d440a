"""The production stack (`make stack`: nginx in front of gunicorn on a unix socket, from the
shipped configs): the canary test again, through nginx, searching also everything nginx could
have written; each circuit limited on its own; nginx's own refusals carry the headers."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.web import HEADERS
from tests.support.stack import Stack, circuit_id, proxy_line, running_stack

from .helpers import multipart, seal


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def written_anywhere(stack: Stack, needles: list[bytes]) -> list[tuple[str, bytes]]:
    """Every file the stack could have written: data dir, nginx's temp dirs and logs,
    gunicorn's log."""
    data_dir = Path(stack.deployment.env["SEALDROP_DATA_DIR"])
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    files += [*stack.written_by_nginx(), stack.gunicorn_log]
    hits = []
    for path in files:
        content = path.read_bytes()
        hits += [(str(path), needle) for needle in needles if needle in content]
    return hits


def chunked_post(stack: Stack, circuit: str, path: str, content_type: str, body: bytes) -> int:
    connection = stack.client(circuit).connection()
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", content_type)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), 50_000):
        piece = body[start : start + 50_000]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    status = connection.getresponse().status
    connection.close()
    return status


def test_no_plaintext_or_circuit_reaches_any_disk_through_nginx(stack: Stack) -> None:
    token = secrets.token_hex(8)
    marks = [f"message-canary-{token}", f"name-canary-{token}.txt", f"body-canary-{token}"]
    circuit = circuit_id(0x5EA1D00D)
    big = (marks[2] + "x" * 3_000_000 + marks[2]).encode()  # far beyond any nginx buffer
    files = [(marks[1], "text/plain", big)]
    client = stack.client(circuit)
    # No JavaScript, with a Content-Length, then chunked; the JS path through the chunk API.
    reply = client.submit_nojs(marks[0], files)
    assert reply.status in (200, 303), reply.body[:300]
    # Just under 1,000,000 bytes: nginx reads this one whole, in memory, before passing it on.
    small = [(marks[1], "text/plain", (marks[2] + "s" * 990_000).encode())]
    assert len(multipart({"message": marks[0]}, small)[0]) < 1_000_000
    assert client.submit_nojs(marks[0], small).status == 200
    body, content_type = multipart({"message": marks[0]}, files)
    assert chunked_post(stack, circuit, "/submit?lang=en", content_type, body) in (200, 303)
    envelope = seal(stack.deployment.identity, marks[0], files)
    assert client.upload_envelope(envelope).status == 201
    # A reply check whose codename is a canary, in a small chunked body nginx holds in memory.
    form = f"codename={marks[0]}+{'a' * 3000}".encode()
    status = chunked_post(
        stack, circuit, "/replies?lang=en", "application/x-www-form-urlencoded", form
    )
    assert status == 200
    needles = [m.encode() for m in marks] + [circuit.encode(), b"5ea1:d00d"]
    assert written_anywhere(stack, needles) == []
    assert stack.temp_files() == []
    for log in stack.written_by_nginx():
        assert log.read_bytes() == b"", log  # no access log, and no error worth crit


def test_one_circuit_is_limited_while_another_is_served(stack: Stack) -> None:
    greedy, other = circuit_id(0xA), circuit_id(0xB)
    statuses = [stack.client(greedy).request("GET", "/?lang=en").status for _ in range(80)]
    assert statuses.count(200) >= 40 and statuses.count(429) >= 10, statuses
    assert stack.client(other).request("GET", "/?lang=en").status == 200
    refused = stack.client(greedy).request("GET", "/?lang=en")
    assert refused.status == 429
    assert "Wait a minute" in refused.body.decode()
    assert '<a href="/replies?lang=en">' in refused.body.decode()
    assert refused.headers["Retry-After"] == "60"
    for name, value in HEADERS.items():
        assert refused.headers[name] == value, name
    assert "Server" not in refused.headers
    # The local listener has no circuit and no per-circuit limit.
    assert stack.client().request("GET", "/?lang=en").status == 200


def test_a_connection_without_tors_proxy_line_is_refused_on_tors_listener(stack: Stack) -> None:
    with socket.create_connection(("127.0.0.1", stack.proxy_port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536) == b""  # closed without an answer
    with socket.create_connection(("127.0.0.1", stack.proxy_port), timeout=10) as sock:
        sock.sendall(proxy_line(circuit_id(0xC)) + b"GET /?lang=en HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")


def test_bodies_beyond_the_apps_limits_are_refused_by_nginx_with_the_headers(
    stack: Stack,
) -> None:
    reply = stack.client(circuit_id(0xD)).request(
        "POST",
        "/replies?lang=en",
        os.urandom(20_000),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 413
    assert "larger than the server accepts" in reply.body.decode()
    assert reply.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]
    assert stack.temp_files() == []


def test_gunicorn_listens_on_a_socket_only_its_group_may_use(stack: Stack) -> None:
    assert stack.socket_path.is_socket()
    assert stack.socket_path.stat().st_mode & 0o777 == 0o660


def test_a_large_body_refused_by_a_limit_hears_the_limit_not_too_large(stack: Stack) -> None:
    """nginx checks client_max_body_size again in the location of its error page (8 KiB at the
    server level): a 1 MiB chunk or post refused by a per-circuit limit (or a 502) was
    answered with nginx's bare 413 page instead, which upload.js and a person read as "too
    large" for good, not "wait"."""
    circuit = circuit_id(0x1A46E)
    client = stack.client(circuit)
    small = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(40):  # the posts limit: 20 a minute, bursts of 10
        if client.request("POST", "/submit?lang=en", b"message=", small).status == 429:
            break
    else:
        pytest.fail("the posts limit never answered 429")
    body, content_type = multipart({"message": "x"}, [("big.bin", "x/y", bytes(1 << 20))])
    refused = client.request("POST", "/submit?lang=en", body, {"Content-Type": content_type})
    assert refused.status == 429, refused.body[:300]
    assert "Wait a minute" in refused.body.decode()
    assert b"nginx" not in refused.body
