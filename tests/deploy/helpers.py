"""Shared by tests/deploy and tests/tor: a deployment in a temp dir, the app under gunicorn
with deploy/gunicorn.conf.py, an HTTP client (direct or through a SOCKS port), and opening
an export bundle with the reviewer's key."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import socks

from crypto import Contents, Identity, Sealer

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
TORRC = DEPLOY / "torrc"
START_DEADLINE_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Deployment:
    """A data directory with one reviewer key, prepared like `sealdrop-intake init` does."""

    root: Path
    identity: Identity
    env: dict[str, str]

    @property
    def config(self) -> dict[str, object]:
        return {key.removeprefix("SEALDROP_"): value for key, value in self.env.items()}


def make_deployment(
    root: Path, database_url: str | None = None, data_dir: Path | None = None
) -> Deployment:
    from intake.setup import init_data_dir

    identity = Identity.generate()
    root.mkdir(parents=True, exist_ok=True)
    key_file = root / f"reviewer-{identity.public_key.key_id_hex}.pub"
    key_file.write_text(f"# test reviewer\n{identity.public_key.line}\n", encoding="utf-8")
    env = {
        "SEALDROP_DATA_DIR": str(data_dir or root / "data"),
        "SEALDROP_RECIPIENTS": str(key_file),
    }
    if database_url:
        env["SEALDROP_DATABASE_URL"] = database_url
    deployment = Deployment(root, identity, env)
    settings = init_data_dir(deployment.config)
    # Pinned, so that processes started from env use the very database init prepared.
    env["SEALDROP_DATABASE_URL"] = settings.database_url
    return deployment


@contextlib.contextmanager
def gunicorn(
    env: Mapping[str, str], log_path: Path, port: int | None = None, args: Sequence[str] = ()
) -> Iterator[int]:
    """Runs the intake app under gunicorn with deploy/gunicorn.conf.py on 127.0.0.1:<port>."""
    port = port or free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
    command += ["--bind", f"127.0.0.1:{port}", *args]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode} on start")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"gunicorn did not listen on 127.0.0.1:{port}")
        time.sleep(0.05)  # polling a starting server, bounded by the deadline


# --- HTTP --------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class _SocksConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, socks_port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._socks_port = socks_port
        # SOCKS credentials: tor puts streams with different ones on different circuits.
        self.credentials: tuple[str, str] = ("", "")

    def connect(self) -> None:
        username, password = self.credentials
        self.sock = socks.create_connection(
            (self.host, self.port),
            timeout=self.timeout,
            proxy_type=socks.SOCKS5,
            proxy_addr="127.0.0.1",
            proxy_port=self._socks_port,
            proxy_rdns=True,
            proxy_username=username or None,
            proxy_password=password or None,
        )


@dataclass
class Client:
    """One HTTP/1.1 connection at a time to host:port, directly or through Tor's SOCKS port."""

    host: str
    port: int
    socks_port: int | None = None
    timeout: float = 60

    def connection(self) -> http.client.HTTPConnection:
        if self.socks_port is None:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return _SocksConnection(self.host, self.port, self.socks_port, self.timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def submit_nojs(
        self, message: str, files: Sequence[tuple[str, str, bytes]], browser: bool = False
    ) -> Reply:
        """The plain HTML form's POST (no JavaScript): the server seals it as it streams in."""
        body, content_type = multipart({"message": message}, files, browser)
        return self.request("POST", "/submit?lang=en", body, {"Content-Type": content_type})

    def upload_envelope(self, envelope: bytes, chunk_bytes: int = 256 * 1024) -> Reply:
        """The JS path: create an upload, PUT the envelope in chunks, finish."""
        created = self.request(
            "POST",
            "/api/v1/uploads",
            f'{{"size": {len(envelope)}}}'.encode(),
            {"Content-Type": "application/json"},
        )
        assert created.status == 201, created.body
        upload_id = _json(created.body)["id"]
        for offset in range(0, len(envelope), chunk_bytes):
            put = self.request(
                "PUT",
                f"/api/v1/uploads/{upload_id}?offset={offset}",
                envelope[offset : offset + chunk_bytes],
                {"Content-Type": "application/octet-stream"},
            )
            assert put.status == 200, put.body
            assert _json(put.body)["received"] == min(offset + chunk_bytes, len(envelope))
        return self.request(
            "POST",
            f"/api/v1/uploads/{upload_id}/finish",
            b"{}",
            {"Content-Type": "application/json"},
        )


def _json(body: bytes) -> dict[str, object]:
    return json.loads(body)


def multipart(
    fields: Mapping[str, str], files: Sequence[tuple[str, str, bytes]], browser: bool = False
) -> tuple[bytes, str]:
    """A form post's body and type; ``browser``: with a boundary as Firefox makes it, so the
    server remembers the post against a resend (intake/resend.py)."""
    boundary = (
        "----geckoformboundary" + secrets.token_hex(16)
        if browser
        else "sealdrop-" + secrets.token_hex(12)
    )
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for filename, media_type, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="{filename}"\r\nContent-Type: {media_type}\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def seal(identity: Identity, message: str, files: Sequence[tuple[str, str, bytes]]) -> bytes:
    """An envelope as the browser's JS seals it."""
    out = io.BytesIO()
    sealer = Sealer(out, [identity.public_key])
    sealer.add_message(message)
    for name, media_type, data in files:
        sealer.add_file(name, media_type, data)
    sealer.close()
    return out.getvalue()


def as_submission(contents: Contents) -> tuple[str, list[tuple[str, bytes]]]:
    """(message, [(file name, bytes)]) — what a submitter sent, to compare with."""
    message = contents.message
    text = message.data.decode() if message is not None and message.data is not None else ""
    return text, [(part.info.name or "", part.data or b"") for part in contents.files]
