"""A real intake app on 127.0.0.1 for tests that drive it over HTTP (browsers, the JS upload
client), with a request log, injected faults, and a CSP report collector.

The server is intake.create_app on a temporary data directory and a fresh reviewer key,
served by werkzeug in a thread. A thin WSGI wrapper records each request's method and path
(so a test can tell the JS upload API from the no-JS form post), can answer chosen requests
with failures, and adds a CSP report-uri so that a violation anywhere (page or worker)
reaches the test; enforcement is unchanged.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import nacl.public
from werkzeug.serving import WSGIRequestHandler, make_server

from crypto import Identity

CSP_REPORT_PATH = "/__test-csp-report"


@dataclass
class Fault:
    """Answers the first request matching method, path prefix and query with a failure:
    ``before`` instead of the app, or ``after`` the app has handled it (a lost answer)."""

    method: str
    path_prefix: str
    query: str
    status: int
    when: str  # "before", "after", or "drop-after" (no answer at all)
    body: dict[str, Any] | None = None
    fired: bool = False


@dataclass
class Recorder:
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, query
    csp_reports: list[bytes] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # A slow link: upload bodies (PUT) are read at this many bytes a second (0: no limit).
    upload_bytes_per_second: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, method: str) -> list[str]:
        with self.lock:
            return [path for m, path, _ in self.requests if m == method]

    def put_offsets(self) -> list[int]:
        with self.lock:
            queries = [query for m, _, query in self.requests if m == "PUT"]
        return [int(parse_qs(query)["offset"][0]) for query in queries]

    def take_fault(self, method: str, path: str, query: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (
                    not fault.fired
                    and fault.method == method
                    and path.startswith(fault.path_prefix)
                    and fault.query in query
                ):
                    fault.fired = True
                    return fault
        return None


def _fail(start_response: Any, fault: Fault) -> list[bytes]:
    body = fault.body or {"error": "busy", "message": "injected by the test"}
    start_response(f"{fault.status} Injected", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def recording(app: Any, recorder: Recorder) -> Any:
    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == CSP_REPORT_PATH:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            with recorder.lock:
                recorder.csp_reports.append(environ["wsgi.input"].read(length))
            start_response("204 No Content", [])
            return [b""]
        with recorder.lock:
            recorder.requests.append((method, path, environ.get("QUERY_STRING", "")))
        if method == "PUT" and recorder.upload_bytes_per_second:
            environ["wsgi.input"] = SlowReader(
                environ["wsgi.input"], recorder.upload_bytes_per_second
            )
        fault = recorder.take_fault(method, path, environ.get("QUERY_STRING", ""))
        if fault is not None and fault.when == "before":
            return _fail(start_response, fault)
        if fault is not None:
            for _ in app(environ, lambda *args: None):
                pass
            if fault.when == "drop-after":
                # The request was handled, then the connection dies before any answer.
                environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return _fail(start_response, fault)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [
                (name, f"{value}; report-uri {CSP_REPORT_PATH}")
                if name.lower() == "content-security-policy"
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped


class SlowReader:
    """A request body arriving over a slow link: each read takes as long as its bytes would
    at ``rate`` bytes a second (the test stands in for Tor, as the fault injection does)."""

    def __init__(self, stream: Any, rate: int) -> None:
        self.stream = stream
        self.rate = rate

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(min(size, 16 * 1024) if size and size > 0 else 16 * 1024)
        time.sleep(len(data) / self.rate)
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.stream.readline(size)


class QuietHandler(WSGIRequestHandler):
    """Writes no access log: sealdrop keeps none, and neither do its tests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Server:
    url: str
    app: Any
    identity: Identity
    recorder: Recorder
    data_dir: Path


@contextlib.contextmanager
def running_intake(directory: Path, **overrides: Any) -> Iterator[Server]:
    """Serves the real intake app until the block ends; keyword arguments override its
    configuration (MAX_SUBMISSION_BYTES, STORAGE_BUDGET_BYTES, ...)."""
    from intake import create_app
    from intake.setup import init_data_dir

    identity = Identity(bytes(nacl.public.PrivateKey.generate()))
    key_file = directory / "reviewer.pub"
    key_file.write_text(f"# test reviewer\n{identity.public_key.line}\n", encoding="utf-8")
    config = {
        "DATA_DIR": str(directory / "data"),
        "RECIPIENTS": [str(key_file)],
        "MAX_SUBMISSION_BYTES": 64 << 20,
        **overrides,
    }
    init_data_dir(config)
    app = create_app(config)
    recorder = Recorder()
    server = make_server(
        "127.0.0.1", 0, recording(app, recorder), threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        yield Server(url, app, identity, recorder, Path(config["DATA_DIR"]))
    finally:
        server.shutdown()
        thread.join(timeout=10)
