"""The app under gunicorn with deploy/gunicorn.conf.py: no Server header, no access log, no
request details in the error log, no control socket, loopback only."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake.check_gunicorn import load_gunicorn_settings

from .helpers import GUNICORN_CONF, Client, Deployment, gunicorn, make_deployment


@dataclass
class Served:
    deployment: Deployment
    client: Client
    port: int
    log: Path
    home: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("gunicorn")
    deployment = make_deployment(root / "site")
    home = root / "home"
    home.mkdir()
    log = root / "gunicorn.log"
    env = {**deployment.env, "HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run")}
    with gunicorn(env, log) as port:
        yield Served(deployment, Client("127.0.0.1", port), port, log, home)


def raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_no_response_names_the_server_software(served: Served) -> None:
    for path in ("/?lang=en", "/no-such-page", "/static/css/style.css"):
        reply = served.client.request("GET", path)
        assert reply.status in (200, 404)
        assert "Server" not in reply.headers, path
    # A request gunicorn itself refuses, before the app sees it.
    answer = raw_exchange(served.port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 400")
    assert b"\r\nserver:" not in head


def test_the_logs_say_nothing_about_requests(served: Served) -> None:
    served.client.submit_nojs("a canary: 7f3e9c1d", [("canary.txt", "text/plain", b"7f3e9c1d")])
    raw_exchange(served.port, b"GET /secret-path-4711 HTTP/1.1\r\nHost: x\r\nNo Colon\r\n\r\n")
    log = served.log.read_text(errors="replace")
    for trace in ("7f3e9c1d", "secret-path-4711", "No Colon", "GET ", "POST ", "127.0.0.1"):
        assert trace not in log
    assert "refused a malformed HTTP request" in log  # the fact is kept, the details are not


def test_gunicorn_opens_no_control_socket(served: Served) -> None:
    assert list(served.home.rglob("*")) == []


def test_the_deploy_config_binds_a_unix_socket_with_threaded_workers_and_no_access_log() -> None:
    settings = load_gunicorn_settings(GUNICORN_CONF)
    assert settings["bind"] == ["unix:/run/sealdrop/gunicorn.sock"]
    assert settings["worker_class"] == "gthread" and settings["threads"] >= 8
    assert settings["accesslog"] is None
    assert settings["wsgi_app"] == "intake:create_app()"


def test_a_stalled_upload_is_cut_off_and_pages_are_served_meanwhile(tmp_path: Path) -> None:
    """Under gunicorn, a body that stops arriving is closed by the app's watchdog once it
    falls below the minimum rate (here: a 1 s grace, then 100 kB/s), freeing its thread."""
    import time

    deployment = make_deployment(tmp_path / "site")
    env = {
        **deployment.env,
        "SEALDROP_STREAM_GRACE_SECONDS": "1",
        "SEALDROP_STREAM_MIN_BYTES_PER_SECOND": "100000",
    }
    with gunicorn(env, tmp_path / "gunicorn.log") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as stalled:
            stalled.sendall(
                b"POST /submit HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 100000\r\n\r\n--b\r\n"
            )
            started = time.monotonic()
            assert Client("127.0.0.1", port).request("GET", "/").status == 200
            answer = b""
            while block := stalled.recv(65536):
                answer += block
            waited = time.monotonic() - started
        assert waited < 20  # not held until a timeout of ours: the server ended it
        assert answer == b"" or answer.startswith(b"HTTP/1.1 ")
    assert list((Path(deployment.env["SEALDROP_DATA_DIR"]) / "blobs").iterdir()) == []
