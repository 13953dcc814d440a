"""sealdrop-verify through the private Tor network: the running onion service (gunicorn with
deploy/gunicorn.conf.py behind deploy/torrc) matches a statement signed for it; one byte
altered in a served script and a statement naming another reviewer key than the one the
service seals to fail with lines naming the script and the key."""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crypto import Identity
from crypto.deployment import Statement, sha256_hex
from crypto.signing import SigningKey
from intake import assets
from intake.deployment import FILE_NAME

from .conftest import Onion

pytestmark = [pytest.mark.tor, pytest.mark.slow]
SIGNING_KEY = SigningKey.generate()


def statement(onion: Onion, hashes: dict[str, str], reviewers: list[Identity]) -> bytes:
    return Statement.make(
        onion.network.onion,
        "0.1.0",
        datetime.date.today(),
        [r.public_key.fingerprint for r in reviewers],
        hashes,
    ).signed_by(SIGNING_KEY)


def served_hashes() -> dict[str, str]:
    manifest = assets.load_manifest()
    return {name: digest for name, digest in manifest.items() if not name.endswith(".gz")}


@pytest.fixture
def publish(onion: Onion) -> Iterator:
    path = Path(onion.deployment.env["SEALDROP_DATA_DIR"]) / FILE_NAME
    yield path.write_bytes
    path.unlink(missing_ok=True)


def verify(onion: Onion) -> tuple[int, list[str]]:
    verifier = Path(sys.executable).parent / "sealdrop-verify"
    result = subprocess.run(
        [
            str(verifier),
            f"http://{onion.network.onion}/",
            *("--key", SIGNING_KEY.public_key.line),
            *("--socks", f"127.0.0.1:{onion.network.socks_port}", "--timeout", "60"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout.splitlines()


def test_the_onion_service_matches_its_signed_statement(onion: Onion, publish) -> None:
    publish(statement(onion, served_hashes(), [onion.deployment.identity]))
    status, lines = verify(onion)
    assert status == 0, "\n".join(lines)
    assert "ok: onion: the statement is for this address" in lines
    assert "ok: recipients: page / seals to the 1 signed key(s)" in lines
    assert (
        "ok: asset js/sodium.js: matches the signed hash, in every encoding, to every browser"
    ) in lines
    assert any(line.startswith("ok: page /?lang=ru: loads only signed assets") for line in lines)


def test_one_served_byte_and_one_key_apart_fail_through_tor(onion: Onion, publish) -> None:
    """Both in one run (each run is some 190 requests over Tor): every FAIL line is one of
    the two differences, and each is named."""
    other = Identity.generate()
    publish(statement(onion, served_hashes(), [other]))
    # The served file itself, altered in place for a moment (a build output, not in git;
    # restored whatever happens). The gzip copy stays as built: only the plain bytes differ.
    script = assets.STATIC_DIR / "js" / "worker.js"
    original = script.read_bytes()
    altered = bytearray(original)
    altered[200] ^= 1
    try:
        script.write_bytes(bytes(altered))
        status, lines = verify(onion)
    finally:
        script.write_bytes(original)
    assert status == 1
    failures = [line for line in lines if line.startswith("FAIL")]
    [failure] = [line for line in failures if line.startswith("FAIL: asset")]
    assert failure.startswith(  # served plain only to a browser asking for no compression
        "FAIL: asset js/worker.js: the plain bytes served differ from the signed hash "
        f"(sha256 {sha256_hex(bytes(altered))})"
    )
    served = onion.deployment.identity.public_key.fingerprint
    assert f"FAIL: recipients: page / seals to {served}, not in the statement" in lines
    assert f"FAIL: recipients: /api/v1/config lists {served}, not in the statement" in lines
    assert f"FAIL: epochs: /api/v1/epochs offers keys for {served}, not as in" in "\n".join(lines)
    others = [x for x in failures if x != failure and served not in x]
    assert not others, others
