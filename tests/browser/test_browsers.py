"""Real browsers send a message with two attachments through the real intake app, at each of
Tor Browser's security levels (Firefox ESR with Tor Browser's preferences) and in Chromium.
The test then exports the bundle and opens it with the reviewer's key: every byte must match.

Standard, Safer and Chromium must take the JavaScript path (sealed in the browser, chunked
upload API); Safest (no JavaScript) must take the plain form post that the server seals.
Every path writes format v2, and the submission page never fetches libsodium.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crypto import MemorySink, open_envelope
from crypto.bundle import Bundle
from intake.export import export_bundle

from .conftest import require_executable
from .harness import Fault, Server

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
FIREFOX = "/usr/bin/firefox-esr"
CHROMIUM = "/usr/lib/chromium/chromium"
# Canaries: neither may ever appear in a file under the server's data directory.
MESSAGE_CANARY = "canary-message-7f3a9c2e"
FILE_CANARY = b"canary-file-4b81d0e6"
MESSAGE = f"Hello from the browser test. Привет! 😀 {MESSAGE_CANARY}"
# Over one upload chunk (1 MiB); the 50 MiB case is test_firefox_safer_sends_50_mib.
BIG_FILE_BYTES = 1_200_000
# Only the replies page may load libsodium (for a version 1 reply): never this page.
SODIUM = "/static/js/sodium.js"


def make_files(directory: Path) -> list[tuple[str, bytes]]:
    big = os.urandom(BIG_FILE_BYTES)
    small = "отчёт: ünïcode text\n".encode() * 50 + FILE_CANARY
    files = [("evidence.bin", big), ("отчёт.txt", small)]
    for name, data in files:
        (directory / name).write_bytes(data)
    return files


def drive(
    node: str,
    tmp_path: Path,
    server: Server,
    browser: str,
    level: str,
    files: list[tuple[str, bytes]] | None = None,
    **options,
) -> dict:
    files = make_files(tmp_path) if files is None else files
    spec = {
        "browser": browser,
        "level": level,
        "url": server.url,
        "message": MESSAGE,
        "files": [str(tmp_path / name) for name, _ in files],
        "timeout_ms": 90_000,
        **options,
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "drive.js"), str(spec_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"browser run failed:\n{result.stderr[-4000:]}"
    report = json.loads(result.stdout)
    report["files"] = files
    return report


def open_only_submission(server: Server, tmp_path: Path):
    bundle_path = tmp_path / "export.tar"
    ids = export_bundle(server.app, bundle_path)
    assert len(ids) == 1, f"expected exactly one stored submission, got {ids}"
    with Bundle(bundle_path) as bundle:
        [(_entry, reader)] = list(bundle.envelopes())
        contents = open_envelope(reader, [server.identity], MemorySink(80 << 20))
        reader.check()
    assert contents.version == 2  # the browser and the no-JS server both write format v2
    return contents


def check_no_plaintext_on_disk(server: Server, stored: bool = True) -> None:
    """Invariant 1, seen from a real browser: only ciphertext reached the server's disk."""
    files = [path for path in server.data_dir.rglob("*") if path.is_file()]
    assert any(path.suffix == ".sdenv" for path in files) == stored
    for path in files:
        content = path.read_bytes()
        assert MESSAGE_CANARY.encode() not in content, path
        assert FILE_CANARY not in content, path


def check_received(server: Server, tmp_path: Path, report: dict) -> None:
    check_no_plaintext_on_disk(server)
    contents = open_only_submission(server, tmp_path)
    assert contents.message is not None
    # Browsers send a textarea's line breaks as CRLF in a form post; the JS path sends LF.
    assert contents.message.data.decode("utf-8").replace("\r\n", "\n") == MESSAGE
    received = [(part.info.name, part.data) for part in contents.files]
    assert received == report["files"]
    for part in contents.files:
        assert part.info.media_type  # the browser's claim, or application/octet-stream


def check_no_leaks(server: Server, report: dict) -> None:
    origin = urlsplit(server.url)
    for url in report["requests"]:
        # data: URLs are inline content (Firefox's own UI font), not requests to anywhere.
        if url.startswith("data:"):
            continue
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc), url
    assert not [url for url in report["requests"] if SODIUM in url]
    assert SODIUM not in server.recorder.paths("GET")
    assert server.recorder.csp_reports == [], [r.decode() for r in server.recorder.csp_reports]
    csp_console = [
        m
        for m in report["console"]
        if "Content Security Policy" in m["text"] or "Content-Security-Policy" in m["text"]
    ]
    assert csp_console == []


def check_confirmed(server: Server, report: dict, javascript: bool) -> None:
    if javascript:
        assert report["final_url"].startswith(f"{server.url}/sent")
    else:
        # The no-JS post is answered in place (its page shows the codename, kept out of URLs).
        assert report["final_url"].startswith((f"{server.url}/sent", f"{server.url}/submit"))
        assert report["final_status"] == 200


def unexpected_errors(report: dict) -> list[str]:
    return report["errors"]


def check_path(server: Server, javascript: bool) -> None:
    posts = server.recorder.paths("POST")
    puts = server.recorder.paths("PUT")
    if javascript:
        assert "/api/v1/uploads" in posts
        assert len(puts) >= 2  # the big file alone spans two 1 MiB chunks
        assert any(p.endswith("/finish") for p in posts)
        assert "/submit" not in posts
    else:
        assert posts == ["/submit"]
        assert puts == []


@pytest.mark.parametrize("level", ["standard", "safer"])
def test_firefox_with_javascript(node, tmp_path, intake_server, level):
    require_executable(FIREFOX, "firefox-esr")
    report = drive(node, tmp_path, intake_server, "firefox", level)
    expected = "object" if level == "standard" else "undefined"
    assert report["webassembly"] == expected, "Tor Browser's level prefs did not take effect"
    assert report["js_notice_hidden"] is False
    check_path(intake_server, javascript=True)
    check_confirmed(intake_server, report, javascript=True)
    check_no_leaks(intake_server, report)
    assert unexpected_errors(report) == []
    check_received(intake_server, tmp_path, report)


def test_firefox_safer_sends_50_mib(node, tmp_path, start_intake):
    """Tor Browser's Safer level (no JIT, no WebAssembly) seals 50 MiB natively in WebCrypto;
    the reviewer opens every byte, and the page never fetched libsodium."""
    require_executable(FIREFOX, "firefox-esr")
    server = start_intake(MAX_SUBMISSION_BYTES=64 << 20)
    big = os.urandom(50 << 20)
    (tmp_path / "video.mp4").write_bytes(big)
    report = drive(node, tmp_path, server, "firefox", "safer", files=[("video.mp4", big)])
    assert report["webassembly"] == "undefined", "Tor Browser's level prefs did not take effect"
    check_path(server, javascript=True)
    check_no_leaks(server, report)
    assert unexpected_errors(report) == []
    contents = open_only_submission(server, tmp_path)
    [part] = contents.files
    assert part.info.name == "video.mp4" and part.data == big


def test_firefox_safest_without_javascript(node, tmp_path, intake_server):
    require_executable(FIREFOX, "firefox-esr")
    report = drive(node, tmp_path, intake_server, "firefox", "safest")
    check_path(intake_server, javascript=False)
    check_confirmed(intake_server, report, javascript=False)
    check_no_leaks(intake_server, report)
    assert unexpected_errors(report) == []
    check_received(intake_server, tmp_path, report)


def test_chromium(node, tmp_path, intake_server):
    require_executable(CHROMIUM, "chromium")
    report = drive(node, tmp_path, intake_server, "chromium", "standard")
    assert report["webassembly"] == "object"
    check_path(intake_server, javascript=True)
    check_confirmed(intake_server, report, javascript=True)
    check_no_leaks(intake_server, report)
    assert unexpected_errors(report) == []
    check_received(intake_server, tmp_path, report)


def test_upload_resumes_after_busy_and_lost_answers(node, tmp_path, start_intake):
    """The first chunk meets a busy server (nothing stored); the second is stored but its
    answer is lost (a 502 from a proxy, as Tor gives): the client retries, asks the server
    how much it holds, and carries on without sending anything twice."""
    require_executable(CHROMIUM, "chromium")
    server = start_intake()
    server.recorder.faults = [
        Fault("PUT", "/api/v1/uploads/", "offset=0&", 503, "before"),
        Fault("PUT", "/api/v1/uploads/", "offset=1048576&", 502, "after"),
    ]
    report = drive(node, tmp_path, server, "chromium", "standard", watch_status=True)
    assert all(fault.fired for fault in server.recorder.faults)
    offsets = server.recorder.put_offsets()
    # The first piece twice (refused), the piece at 1 MiB once: its status said it had
    # arrived; nothing else twice. (The page sends smaller pieces than chunks until it knows
    # the link's speed, docs/BROWSER.md.)
    assert offsets.count(0) == 2 and offsets.count(1 << 20) == 1
    assert len(offsets) == len(set(offsets)) + 1
    status_checks = [p for p in server.recorder.paths("GET") if p.startswith("/api/v1/uploads/")]
    assert len(status_checks) == 2  # one after each failure
    with server.app.test_request_context("/?lang=en"):
        from intake.i18n import translate

        retrying = translate("retrying", "en")
    assert retrying in report["statuses"]
    # While sending, the status line asks to keep the page open.
    assert any("Keep this page open" in status for status in report["statuses"])
    assert report["final_url"].startswith(f"{server.url}/sent")
    check_received(server, tmp_path, report)


def test_refusal_is_shown_in_the_pages_language(node, tmp_path, start_intake):
    """Too large for the server: the refusal (the same words the API would use) appears in
    #status in Russian, the form is usable again, and nothing is stored."""
    require_executable(CHROMIUM, "chromium")
    server = start_intake(MAX_SUBMISSION_BYTES=1_000_000)
    report = drive(node, tmp_path, server, "chromium", "standard", lang="ru", expect="error")
    client = server.app.test_client()
    refusal = client.post("/api/v1/uploads?lang=ru", json={"size": 2_000_000}).get_json()
    assert refusal["error"] == "too-large"
    assert report["status_text"] == refusal["message"]
    assert report["status_class"] == "error"  # shown as an error, not as a status line
    assert any("а" <= char <= "я" for char in report["status_text"])
    assert report["progress_hidden"] is True
    assert server.recorder.paths("POST") == []  # known from the page's config: no round trip
    assert server.recorder.paths("PUT") == []
    assert export_bundle(server.app, tmp_path / "export.tar") == []


def test_file_deleted_after_choosing_it_is_refused_and_nothing_kept(node, tmp_path, start_intake):
    """A chosen file that can no longer be read stops the submission with a message that
    says to send again; no submission is stored."""
    require_executable(CHROMIUM, "chromium")
    server = start_intake()
    report = drive(
        node,
        tmp_path,
        server,
        "chromium",
        "standard",
        expect="error",
        delete_before_send=[str(tmp_path / "evidence.bin")],
    )
    from intake.i18n import translate

    with server.app.test_request_context("/?lang=en"):
        unreadable = translate("error_unreadable", "en")
    assert report["status_text"] == unreadable
    assert server.recorder.paths("PUT") == []  # refused before anything was sent
    assert export_bundle(server.app, tmp_path / "export.tar") == []
    check_no_plaintext_on_disk(server, stored=False)
