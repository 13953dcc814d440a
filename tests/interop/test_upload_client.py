"""The browser's upload client (upload.js), run in Node against the real intake app with
faults injected: conflicts, lost answers, dropped connections, a server that stays busy.
The browser tests cover the same client in real browsers on the happy and retry paths."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from intake.export import export_bundle
from tests.browser.harness import Fault, Server, running_intake
from tests.intake.helpers import open_bundle

HERE = Path(__file__).resolve().parent
MIB = 1 << 20
UPLOADS = "/api/v1/uploads/"


@pytest.fixture
def server(tmp_path: Path):
    with running_intake(tmp_path) as running:
        yield running


def conflict(received: int) -> dict:
    return {"error": "conflict", "received": received, "message": "injected by the test"}


def upload(node: str, tmp_path: Path, server: Server, data: bytes, **options) -> dict:
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    spec = {
        "url": server.url,
        "lang": "en",
        "recipients": [server.identity.public_key.line],
        "message": "через API",
        "files": [{"path": str(path), "name": "file.bin", "type": "application/x-test"}],
        "chunk_bytes": MIB,
        "backoff_ms": 5,
        "max_attempts": 8,
        **options,
    }
    spec_path = tmp_path / "upload.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "upload.js"), str(spec_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def stored(server: Server, tmp_path: Path) -> list:
    bundle_path = tmp_path / "export.tar"
    export_bundle(server.app, bundle_path)
    return open_bundle(bundle_path, server.identity, max_bytes=16 << 20)


def check_stored(server: Server, tmp_path: Path, data: bytes) -> None:
    [contents] = stored(server, tmp_path)
    assert contents.message.data == "через API".encode()
    assert [(p.info.name, p.data) for p in contents.files] == [("file.bin", data)]


def test_plain_upload(node, tmp_path, server):
    data = os.urandom(2 * MIB + 12345)
    report = upload(node, tmp_path, server, data)
    assert report["ok"], report
    assert server.recorder.put_offsets() == [0, MIB, 2 * MIB]
    check_stored(server, tmp_path, data)


def test_conflict_ahead_is_corrected_by_the_servers_own_conflict(node, tmp_path, server):
    """A 409 claiming more than the server holds sends the client ahead; the server's real
    409 then brings it back to where the server is, and nothing is lost."""
    claimed = MIB + 1000
    server.recorder.faults = [
        Fault(
            "PUT",
            UPLOADS,
            f"offset={MIB}&",
            409,
            "before",
            {"error": "conflict", "received": claimed},
        ),
    ]
    data = os.urandom(2 * MIB + 12345)
    report = upload(node, tmp_path, server, data)
    assert report["ok"], report
    assert server.recorder.put_offsets() == [0, MIB, claimed, MIB, 2 * MIB]
    check_stored(server, tmp_path, data)


def test_conflict_behind_what_was_sent_is_reported_broken(node, tmp_path, server):
    """The server says it lost bytes the client has already dropped: the client cannot send
    them again (an envelope is sealed once), so it stops with error_broken."""
    server.recorder.faults = [
        Fault(
            "PUT", UPLOADS, f"offset={MIB}&", 409, "before", {"error": "conflict", "received": 10}
        ),
    ]
    report = upload(node, tmp_path, server, os.urandom(2 * MIB))
    assert report["ok"] is False
    assert report["code"] == "broken"
    assert stored(server, tmp_path) == []


def test_dropped_connection_after_storing_asks_the_server_and_moves_on(node, tmp_path, server):
    server.recorder.faults = [Fault("PUT", UPLOADS, f"offset={MIB}&", 0, "drop-after")]
    data = os.urandom(2 * MIB + 1)
    report = upload(node, tmp_path, server, data)
    assert report["ok"], report
    assert server.recorder.faults[0].fired
    assert "retrying" in report["statuses"]
    assert server.recorder.put_offsets() == [0, MIB, 2 * MIB]  # chunk 1 was not sent again
    assert len([p for p in server.recorder.paths("GET") if p.startswith(UPLOADS)]) == 1
    check_stored(server, tmp_path, data)


def test_a_server_that_stays_busy_ends_in_its_message(node, tmp_path, server):
    server.recorder.faults = [Fault("PUT", UPLOADS, "offset=0&", 503, "before") for _ in range(5)]
    report = upload(node, tmp_path, server, os.urandom(1000), max_attempts=3)
    assert report["ok"] is False
    assert report["code"] == "busy"
    assert report["message"] == "injected by the test"
    assert len(server.recorder.put_offsets()) == 4  # the first try and three retries


def test_refusal_carries_the_servers_translated_message(node, tmp_path):
    with running_intake(tmp_path, MAX_SUBMISSION_BYTES=5000) as small:
        report = upload(node, tmp_path, small, os.urandom(10_000), lang="ru")
        assert report["ok"] is False
        assert report["code"] == "too-large"
        assert any("а" <= char <= "я" for char in report["message"])
        assert small.recorder.put_offsets() == []
