"""The contract between nginx and the app (both branches rely on it), seen from the app's side
of the unix socket: nginx sets X-Sealdrop-Circuit to the circuit from tor's PROXY line, or to
`local` on the plain listener, whatever the client sent; X-Sealdrop-Buffered is `1` only on a
body under 64,000 bytes that nginx read whole; nothing about the client that the app does not
need."""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest

from tests.support.stack import (
    NGINX,
    CircuitClient,
    _accepts_tcp,
    _stop,
    _wait,
    circuit_id,
    proxy_line,
    write_nginx_config,
)

from .helpers import free_port, multipart


class _Echo(BaseHTTPRequestHandler):
    """Answers with the request line, headers and body length it received, as JSON."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        seen = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": len(body),
        }
        data = json.dumps(seen).encode()
        self.send_response(200)
        # as pages are (the no-JS confirmation, with a codename): nginx must not gzip them
        html = self.path.startswith("/submit")
        self.send_header("Content-Type", "text/html; charset=utf-8" if html else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@dataclass
class Front:
    proxy_port: int
    plain_port: int

    def seen(self, circuit: str | None, method: str, path: str, body: bytes = b"", **headers):
        port = self.plain_port if circuit is None else self.proxy_port
        client = CircuitClient("127.0.0.1", port, timeout=10, circuit=circuit)
        reply = client.request(method, path, body or None, headers)
        assert reply.status == 200, reply.body
        return json.loads(reply.body)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    root = tmp_path_factory.mktemp("front")
    socket_path = root / "app.sock"
    server = _UnixServer(str(socket_path), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    socket_path.chmod(0o666)
    proxy_port, plain_port = free_port(), free_port()
    main = write_nginx_config(root / "nginx", proxy_port, plain_port, socket_path)
    nginx = subprocess.Popen(
        [NGINX, "-p", str(root / "nginx"), "-c", str(main), "-e", "stderr"],
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: _accepts_tcp(proxy_port) and _accepts_tcp(plain_port), [nginx], "nginx")
        yield Front(proxy_port, plain_port)
    finally:
        _stop(nginx)
        server.shutdown()
        server.server_close()


def test_the_circuit_is_the_one_tor_named_whatever_the_client_says(front: Front) -> None:
    circuit = circuit_id(0x1234ABCD)
    seen = front.seen(circuit, "GET", "/?lang=en", **{"X-Sealdrop-Circuit": "someone-else"})
    assert seen["headers"]["x-sealdrop-circuit"] == circuit
    seen = front.seen(None, "GET", "/", **{"X-Sealdrop-Circuit": circuit})
    assert seen["headers"]["x-sealdrop-circuit"] == "local"


def test_nothing_about_the_client_reaches_the_app(front: Front) -> None:
    seen = front.seen(
        circuit_id(7),
        "GET",
        "/",
        **{
            "User-Agent": "Mozilla/5.0 canary-agent",
            "X-Forwarded-For": "198.51.100.7",
            "X-Real-IP": "198.51.100.7",
            "Forwarded": "for=198.51.100.7",
            "Accept-Language": "ru",
        },
    )
    headers = seen["headers"]
    for name in ("user-agent", "x-forwarded-for", "x-real-ip", "forwarded"):
        assert name not in headers, name
    assert headers["accept-language"] == "ru"  # the page's language is the client's choice
    assert headers["host"].startswith("127.0.0.1:")  # for the app's same-origin check


def test_only_a_text_sized_body_is_marked_as_read_whole(front: Front) -> None:
    """Under 64,000 bytes, a no-JS post, an upload's chunk or its finish call is held by
    nginx and marked; anything larger streams, and a client's own mark never gets through."""
    circuit = circuit_id(8)
    small, content_type = multipart({"message": "a text"}, [])
    seen = front.seen(circuit, "POST", "/submit?lang=ru", small, **{"Content-Type": content_type})
    assert seen["path"] == "/submit?lang=ru" and seen["body"] == len(small)
    assert seen["headers"]["x-sealdrop-buffered"] == "1"
    large, content_type = multipart({"message": "x"}, [("a.bin", "x/y", bytes(1_200_000))])
    forged = {"Content-Type": content_type, "X-Sealdrop-Buffered": "1"}
    seen = front.seen(circuit, "POST", "/submit?lang=en", large, **forged)
    assert seen["path"] == "/submit?lang=en" and seen["body"] == len(large)
    assert "x-sealdrop-buffered" not in seen["headers"]  # streamed: the client's claim is gone
    for size, held in ((1000, True), (63_999, True), (64_000, False), (1 << 20, False)):
        seen = front.seen(circuit, "PUT", "/api/v1/uploads/abc?offset=0", b"x" * size, **forged)
        assert seen["path"] == "/api/v1/uploads/abc?offset=0" and seen["body"] == size
        assert (seen["headers"].get("x-sealdrop-buffered") == "1") is held, size
    seen = front.seen(circuit, "POST", "/api/v1/uploads/abc/finish", b"{}", **forged)
    assert seen["path"] == "/api/v1/uploads/abc/finish"
    assert seen["headers"]["x-sealdrop-buffered"] == "1"


def test_a_held_body_that_stops_arriving_is_dropped_after_10_s(front: Front) -> None:
    """Issue 17: nginx holds a text's body in memory until it is whole, and nginx 1.22 has no
    minimum body rate. A held body that pauses 10 s is dropped (not the 30 s streamed bodies
    get), so holding one costs a byte every 10 s; and nothing of it reaches the app."""
    head = (
        b"POST /submit?lang=en HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\nmessage=held"
    )
    with socket.create_connection(("127.0.0.1", front.proxy_port), timeout=40) as sock:
        sock.sendall(proxy_line(circuit_id(9), sock.getsockname()[1]) + head)
        started = time.monotonic()
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while block := sock.recv(65536):
                answer += block
        waited = time.monotonic() - started
    assert 9 <= waited < 20, waited
    assert b"application/json" not in answer  # the echo app never answered it


def test_nginx_compresses_no_page_whatever_its_defaults(front: Front) -> None:
    """Debian's nginx.conf (like the test's) turns gzip on for text/html; the site turns it
    off, so a page carrying a codename or the person's words is never compressed (BREACH;
    intake/compress.py gzips only what is the same for everyone)."""
    client = CircuitClient("127.0.0.1", front.proxy_port, timeout=10, circuit=circuit_id(9))
    body, content_type = multipart({"message": "a text " * 50}, [])
    headers = {"Content-Type": content_type, "Accept-Encoding": "gzip, deflate"}
    reply = client.request("POST", "/submit?lang=ru", body, headers)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert reply.headers.get("Content-Encoding") is None
    assert json.loads(reply.body)["path"] == "/submit?lang=ru"
