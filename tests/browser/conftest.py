"""A real intake app on 127.0.0.1 for the browser tests, with a request log.

The server is intake.create_app on a temporary data directory and a fresh reviewer key,
served by werkzeug in a thread. A thin WSGI wrapper records each request's method and path
(so a test can tell the JS upload API from the no-JS form post) and adds a CSP report-uri,
so a violation anywhere (page or worker) reaches the test; enforcement is unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.public
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from crypto import Identity

ROOT = Path(__file__).resolve().parents[2]
STATIC_JS = ROOT / "intake" / "static" / "js"
CSP_REPORT_PATH = "/__test-csp-report"


@dataclass
class Fault:
    """Answers the first request matching method, path prefix and query with a failure:
    ``before`` instead of the app, or ``after`` the app has handled it (a lost answer)."""

    method: str
    path_prefix: str
    query: str
    status: int
    when: str  # "before" or "after"
    fired: bool = False


@dataclass
class Recorder:
    requests: list[tuple[str, str]] = field(default_factory=list)
    csp_reports: list[bytes] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, method: str) -> list[str]:
        with self.lock:
            return [path for m, path in self.requests if m == method]

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


def _fail(start_response: Any, status: int) -> list[bytes]:
    body = json.dumps({"error": "busy", "message": "injected by the test"}).encode()
    start_response(f"{status} Injected", [("Content-Type", "application/json")])
    return [body]


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
            recorder.requests.append((method, path))
        fault = recorder.take_fault(method, path, environ.get("QUERY_STRING", ""))
        if fault is not None and fault.when == "before":
            return _fail(start_response, fault.status)
        if fault is not None:
            for _ in app(environ, lambda *args: None):
                pass
            return _fail(start_response, fault.status)

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


@pytest.fixture
def start_intake(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Starts the real intake app; keyword arguments override its configuration."""
    from intake import create_app
    from intake.setup import init_data_dir

    if not (STATIC_JS / "app.js").is_file() or not (STATIC_JS / "sodium.js").is_file():
        pytest.fail("the browser bundle is not built; run `make js` (npm ci && npm run build)")
    servers: list[tuple[Any, threading.Thread]] = []

    def start(**overrides: Any) -> Server:
        identity = Identity(bytes(nacl.public.PrivateKey.generate()))
        key_file = tmp_path / "reviewer.pub"
        key_file.write_text(f"# test reviewer\n{identity.public_key.line}\n", encoding="utf-8")
        config = {
            "DATA_DIR": str(tmp_path / "data"),
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
        servers.append((server, thread))
        url = f"http://127.0.0.1:{server.server_port}"
        return Server(url, app, identity, recorder, Path(config["DATA_DIR"]))

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def intake_server(start_intake: Callable[..., Server]) -> Server:
    return start_intake()


def require_executable(path: str, package: str) -> str:
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"{path} is missing: install the Debian package {package} "
            "(tests/install-system-deps.sh does, and `make test` runs it)"
        )
    return path


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed; the browser tests drive browsers from Node.js")
    if not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("node_modules is missing; run `make js` (npm ci) before the tests")
    return path
