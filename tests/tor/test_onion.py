"""End to end through real Tor: a submitter's requests cross a private Tor network to the
onion service, and the reviewer recovers exactly what was sent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intake.export import export_bundle
from intake.web import HEADERS
from tests.deploy.helpers import as_submission, seal
from tests.intake.helpers import open_bundle

from .conftest import Onion

pytestmark = [pytest.mark.tor, pytest.mark.slow]


def test_the_onion_answers_with_the_security_headers_and_nothing_identifying(
    onion: Onion,
) -> None:
    reply = onion.client.request("GET", "/?lang=en")
    assert reply.status == 200
    for name, value in HEADERS.items():
        assert reply.headers[name] == value
    assert "Server" not in reply.headers
    assert "Set-Cookie" not in reply.headers
    consensus, reachable = onion.network.timings["consensus"], onion.startup_seconds
    print(f"\nTor: consensus after {consensus:.1f} s, onion reachable after {reachable:.1f} s")


def test_tor_runs_the_service_with_the_proof_of_work_defence(onion: Onion) -> None:
    service = onion.network.service
    assert service is not None
    options = "\n".join(service.control("GETCONF HiddenServiceOptions"))
    assert "HiddenServicePoWDefensesEnabled=1" in options
    # deploy/torrc opens no port but the onion service's (the test adds a control port).
    for kind in ("socks", "or", "dir"):
        assert service.control(f"GETINFO net/listeners/{kind}") == [f"net/listeners/{kind}="]


def test_submissions_through_tor_reach_the_reviewer_byte_for_byte(
    onion: Onion, tmp_path: Path
) -> None:
    nojs_files = [
        ("report.pdf", "application/pdf", os.urandom(300_000)),
        ("a b.txt", "text/plain", b"x"),
    ]
    reply = onion.client.submit_nojs("seen at the checkpoint – 23:10", nojs_files)
    assert reply.status == 200, reply.body[:500]

    js_files = [("video.mp4", "video/mp4", os.urandom(1 << 20))]
    envelope = seal(onion.deployment.identity, "the JS path, chunked", js_files)
    reply = onion.client.upload_envelope(envelope)
    assert reply.status == 201, reply.body[:500]

    bundle = tmp_path / "export.sdbundle"
    assert len(export_bundle(onion.deployment.config, bundle)) == 2
    received = sorted(as_submission(c) for c in open_bundle(bundle, onion.deployment.identity))
    expected = sorted(
        [
            ("seen at the checkpoint – 23:10", [(n, d) for n, _, d in nojs_files]),
            ("the JS path, chunked", [(n, d) for n, _, d in js_files]),
        ]
    )
    assert received == expected

    # Nothing about the requests reached gunicorn's log: no access log, no request lines.
    log = onion.gunicorn_log.read_text(errors="replace")
    for trace in ("GET /", "POST /", "PUT /", "/api/v1", "checkpoint", "127.0.0.1 -"):
        assert trace not in log


def test_each_circuit_is_limited_on_its_own_through_nginx(onion: Onion) -> None:
    """tor names each circuit to nginx (HiddenServiceExportCircuitID haproxy): one circuit that
    asks too often is refused (the reply pages allow 10 at once, then 20 a minute) while a
    second circuit, a different person, is served. Were both given one id, or none, the
    second would be refused too (or neither would be)."""
    greedy, other = onion.circuit("greedy"), onion.circuit("other")
    statuses = [greedy.request("GET", "/replies?lang=en").status for _ in range(20)]
    assert statuses.count(200) >= 10 and 429 in statuses, statuses
    assert other.request("GET", "/replies?lang=en").status == 200
    # Still refused afterwards (a token comes back every 3 s, so a few more fill it again).
    again = [greedy.request("GET", "/replies?lang=en") for _ in range(5)]
    refused = [r for r in again if r.status == 429]
    assert refused and "Wait a minute" in refused[0].body.decode(), [r.status for r in again]
    # Nothing about either circuit reached a log or a temp file.
    for path in [*onion.stack.written_by_nginx(), onion.gunicorn_log]:
        assert b"dead:beef" not in path.read_bytes(), path
    assert onion.stack.temp_files() == []
