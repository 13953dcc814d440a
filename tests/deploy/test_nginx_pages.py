"""nginx's own refusals (deploy/nginx/snippets/sealdrop-errors.conf), from the shipped files
with no app behind them: a page a person reads on a phone, in the language of the page they
came from (?lang=) with the other beneath, the security headers, a link back, never nginx's
name; and whatever happens, nothing about a request in nginx's logs (issue 17, G6: the socket
missing used to log every request line at crit)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake.web import HEADERS
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

MAILBOX = "mailboxcanaryabcdefghijklm"


@dataclass
class Front:
    root: Path
    proxy_port: int

    def get(self, circuit: int, method: str, path: str, body: bytes = b"", **headers: str):
        client = CircuitClient(
            "127.0.0.1", self.proxy_port, timeout=10, circuit=circuit_id(circuit)
        )
        return client.request(method, path, body or None, headers)

    def raw(self, request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.proxy_port), timeout=10) as sock:
            sock.sendall(proxy_line(circuit_id(0xBAD)) + request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return answer

    def logged(self) -> bytes:
        return b"".join(p.read_bytes() for p in (self.root / "logs").glob("sealdrop-error*"))


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """nginx whose app socket does not exist (gunicorn never started, or its socket gone)."""
    root = tmp_path_factory.mktemp("pages") / "nginx"
    proxy_port, plain_port = free_port(), free_port()
    main = write_nginx_config(root, proxy_port, plain_port, root / "missing.sock")
    nginx = subprocess.Popen(
        [NGINX, "-p", str(root), "-c", str(main), "-e", "stderr"], stderr=subprocess.DEVNULL
    )
    try:
        _wait(lambda: _accepts_tcp(proxy_port) and _accepts_tcp(plain_port), [nginx], "nginx")
        yield Front(root, proxy_port)
    finally:
        _stop(nginx)


def readable_page(body: str, lang: str) -> None:
    assert body.startswith("<!doctype html>\n<html lang=") and f'<html lang="{lang}">' in body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert "nginx" not in body.lower()
    other = "ru" if lang == "en" else "en"
    assert f'<section lang="{other}">' in body  # the other language beneath
    assert body.index(f'href="/?lang={lang}"') < body.index(f'href="/?lang={other}"')


def test_the_app_unreachable_is_a_busy_page_in_the_persons_language(front: Front) -> None:
    reply = front.get(1, "GET", f"/api/v1/mailboxes/{MAILBOX}/replies?lang=ru")
    assert reply.status == 502
    body = reply.body.decode()
    readable_page(body, "ru")
    assert "Сервис занят или перезапускается" in body and "Busy or restarting" in body
    assert reply.headers["Retry-After"] == "60"
    for name, value in HEADERS.items():
        assert reply.headers[name] == value, name
    assert "Server" not in reply.headers
    assert "did not arrive" not in body  # a page load, not a form


def test_a_refused_post_says_what_became_of_the_form(front: Front) -> None:
    text, content_type = multipart({"message": "a text"}, [])
    reply = front.get(2, "POST", "/submit?lang=en", text, **{"Content-Type": content_type})
    assert reply.status == 502
    body = reply.body.decode()
    readable_page(body, "en")
    assert "did not arrive, and your browser does not keep this site's forms" in body
    assert "если вернуться назад, форма будет пустой" in body


def test_too_large_names_what_to_do(front: Front) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = front.get(3, "POST", "/replies?lang=ru", b"x" * 20_000, **form)
    assert reply.status == 413
    body = reply.body.decode()
    readable_page(body, "ru")
    assert "без самых больших файлов" in body and "without the largest files" in body
    assert reply.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]


def test_too_many_requests_links_back_to_the_replies_page(front: Front) -> None:
    statuses = [front.get(4, "GET", "/replies?lang=ru").status for _ in range(60)]
    assert 429 in statuses
    reply = front.get(4, "GET", "/replies?lang=ru")
    assert reply.status == 429 and reply.headers["Retry-After"] == "60"
    body = reply.body.decode()
    readable_page(body, "ru")
    assert '<a href="/replies?lang=ru">Назад к проверке ответов</a>' in body
    assert '<a href="/replies?lang=en">Back to checking for replies</a>' in body


@pytest.mark.parametrize(
    ("request_bytes", "status", "title"),
    [
        (
            b"GET /\x01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
            "The request could not be read",
        ),
        (
            b"GET /sealdrop-held/submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            404,
            "Nothing at this",
        ),
        (
            b"TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            405,
            "Not possible at this address",
        ),
        (
            b"GET /?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            414,
            "too long",
        ),
    ],
)
def test_nginxs_other_refusals_are_pages_too(
    front: Front, request_bytes: bytes, status: int, title: str
) -> None:
    answer = front.raw(request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert b"\r\nContent-Security-Policy: " in head and b"nginx" not in answer.lower()
    readable_page(body.decode(), "en")
    assert title in body.decode()


@pytest.mark.parametrize(
    ("request_bytes", "status", "closes"),
    [
        (
            b"POST /sealdrop-held/submit HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n",
            404,
            True,
        ),
        (
            b"PUT /api/v1/uploads/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\n",
            413,
            True,
        ),
        # Refused only once nginx finds no app behind it: a client that also closed its side
        # may be seen gone first, and then nginx rightly answers nobody (it did so 4 runs in
        # 6). So this one stops sending and stays, as a stalled sender does.
        (b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n", 502, False),
    ],
)
def test_a_refusal_after_the_client_stopped_sending_is_a_page_too(
    front: Front, request_bytes: bytes, status: int, closes: bool
) -> None:
    """Issue 17 (informational): a client that declares a body larger than the server's 8k,
    then stops sending, got nginx's built-in page (naming nginx) from the error page's own
    size check; every error page now takes any declared size."""
    with socket.create_connection(("127.0.0.1", front.proxy_port), timeout=10) as sock:
        sock.sendall(proxy_line(circuit_id(0xBAD)) + request_bytes + b"Connection: close\r\n\r\n")
        if closes:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert b"nginx" not in answer.lower()
    readable_page(body.decode(), "en")


def test_nothing_about_any_request_is_logged(front: Front) -> None:
    """Run after the others (file order): every refusal above, the missing socket included,
    left no trace of a request in the error log."""
    front.get(9, "GET", f"/api/v1/mailboxes/{MAILBOX}/replies/replyidcanary?lang=ru")
    logged = front.logged()
    for needle in (MAILBOX.encode(), b"replyidcanary", b"lang=", b"request:", b"dead:beef"):
        assert needle not in logged, logged[-2000:]
