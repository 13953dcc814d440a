"""sealdrop-verify against a running server through a SOCKS5 proxy: everything signed matches
(exit 0, one ok line per check); one altered byte, one swapped or added reviewer key, another
organisation's key, a missing statement each fail (exit 1) with a line naming what differs;
an unreachable proxy is exit 3."""

from __future__ import annotations

import gzip
import re

from crypto import Identity
from crypto.signing import SigningKey
from intake.deployment import FILE_NAME

from . import tamper
from .conftest import ONION, Service, signed_statement


def test_a_faithful_service_passes_every_check(service: Service) -> None:
    status, lines = service.verify()
    assert status == 0, "\n".join(lines)
    assert lines[0].startswith("ok: statement: signed by the organisation key")
    assert "ok: onion: the statement is for this address" in lines
    for page in ("/", "/?lang=ru", "/replies?lang=ru", "/sent", "/sent (a form posted to it)"):
        assert any(
            re.match(rf"ok: page {re.escape(page)}: loads only signed assets \(.*css/style\.css", x)
            for x in lines
        ), page
    assert "ok: recipients: page / seals to the 2 signed key(s)" in lines
    assert "ok: recipients: page /?lang=ru seals to the 2 signed key(s)" in lines
    assert "ok: recipients: /api/v1/config lists the 2 signed key(s)" in lines
    for asset in ("js/app.js", "js/worker.js", "js/sodium.js", "css/style.css"):
        assert (
            f"ok: asset {asset}: matches the signed hash, in every encoding, to every browser"
        ) in lines
    assert lines[-1] == "everything served matches the signed statement"
    assert not [x for x in lines[:-1] if not x.startswith("ok: ")]
    assert set(service.socks.names) == {ONION}  # every request went through the proxy by name


def test_one_altered_byte_in_a_served_script_is_named(service: Service) -> None:
    script = service.static / "js" / "worker.js"
    data = bytearray(script.read_bytes())
    data[len(data) // 2] ^= 0x20
    script.write_bytes(bytes(data))
    status, lines = service.verify()
    assert status == 1
    failures = [x for x in lines if x.startswith("FAIL")]
    assert failures == [  # only a browser asking for no compression gets the plain file
        f"FAIL: asset js/worker.js: the plain bytes served differ from the signed hash "
        f"(sha256 {_sha(data)}) when asked by Tor Browser (Windows) asking for identity, as a "
        "script; Tor Browser (Windows) asking for identity, as a worker"
    ]


def test_an_altered_gzip_copy_alone_is_caught(service: Service) -> None:
    compressed = service.static / "js" / "app.js.gz"
    original = gzip.decompress(compressed.read_bytes())
    compressed.write_bytes(gzip.compress(original.replace(b"sealdrop", b"sea1drop", 1)))
    status, lines = service.verify()
    assert status == 1
    (failure,) = [x for x in lines if x.startswith("FAIL")]
    assert failure.startswith("FAIL: asset js/app.js: the gzip bytes served differ")


def test_a_swapped_recipient_key_is_named(service: Service, tmp_path) -> None:
    intruder = Identity.generate()
    honest = service.reviewers[1]
    service.publish(signed_statement(service.key, ONION, [service.reviewers[0], intruder]))
    status, lines = service.verify("--quiet")
    assert status == 1
    served = honest.public_key.fingerprint  # served by the server, not in the statement
    assert f"FAIL: recipients: page / seals to {served}, not in the statement" in lines
    assert f"FAIL: recipients: /api/v1/config lists {served}, not in the statement" in lines
    assert not [x for x in lines if x.startswith("FAIL: asset")]


def test_a_page_sealing_to_fewer_keys_than_signed_is_named(service: Service) -> None:
    extra = Identity.generate()
    service.publish(signed_statement(service.key, ONION, [*service.reviewers, extra]))
    status, lines = service.verify("--quiet")
    assert status == 1
    fingerprint = extra.public_key.fingerprint
    assert f"FAIL: recipients: page / seals to no {fingerprint}, which is signed" in lines


def test_a_statement_from_another_key_or_for_another_onion_fails(service: Service) -> None:
    status, lines = service.verify(key=SigningKey.generate().public_key.line)
    assert status == 1
    assert lines[0] == (
        "FAIL: statement: the signature does not verify under this organisation key"
    )
    service.publish(signed_statement(service.key, "b" * 56 + ".onion", service.reviewers))
    status, lines = service.verify("--quiet")
    assert status == 1
    assert lines[0] == f"FAIL: onion: the statement is for {'b' * 56}.onion, not {ONION}"


def test_a_missing_or_altered_statement_fails(service: Service) -> None:
    statement = (service.data_dir / FILE_NAME).read_bytes()
    service.publish(statement.replace(b"version: 0.1.0", b"version: 0.1.1"))
    status, lines = service.verify()
    assert status == 1 and lines[0].startswith("FAIL: statement: the signature does not verify")
    (service.data_dir / FILE_NAME).unlink()
    status, lines = service.verify()
    assert status == 1
    assert lines[0] == (
        "FAIL: statement: /.well-known/sealdrop-deployment answered HTTP 404, not the file"
    )


def test_an_unreachable_proxy_is_its_own_exit_status(service: Service) -> None:
    from click.testing import CliRunner

    from verify.cli import main

    result = CliRunner().invoke(
        main, [ONION, "--key", service.key.public_key.line, "--socks", "127.0.0.1:9"]
    )
    assert result.exit_code == 3
    assert result.output.startswith("ERROR: statement: cannot fetch it (GET ")
    assert "is tor running" in result.output


def test_an_onion_address_is_never_fetched_without_tor(service: Service) -> None:
    from click.testing import CliRunner

    from verify.cli import main

    result = CliRunner().invoke(
        main, [ONION, "--key", service.key.public_key.line, "--socks", "none"]
    )
    assert result.exit_code == 2 and "through Tor" in result.output


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# --- evasions of a checker that looks at too little (issue 17, G2) -----------------------


def _failures(service: Service) -> list[str]:
    status, lines = service.verify("--quiet")
    assert status == 1, "\n".join(lines)
    assert lines[-1] == "" or "everything served matches" not in "\n".join(lines)
    return [x for x in lines if x.startswith("FAIL: ")]


def test_a_script_added_to_russian_pages_only_fails(service: Service) -> None:
    service.switch.app = tamper.russian_pages_load_a_script(service.switch.app)
    failures = _failures(service)
    assert "FAIL: page /?lang=ru: loads /static/js/extra.js, not in the statement" in failures
    assert "FAIL: page /replies?lang=ru: loads /static/js/extra.js, not in the statement" in (
        failures
    )
    assert not [x for x in failures if "lang=ru" not in x]  # English pages are faithful


def test_a_meta_refresh_or_a_link_to_another_onion_fails(service: Service) -> None:
    service.switch.app = tamper.pages_lead_elsewhere(service.switch.app)
    failures = _failures(service)
    evil = tamper.EVIL_ONION
    assert (
        f"FAIL: page /replies?lang=ru: has a meta refresh to http://{evil}/; the signed pages "
        "have none"
    ) in failures
    assert (
        f"FAIL: page /: has a link to http://{evil}/replies?lang=en, away from this service"
    ) in failures


def test_a_script_altered_only_for_requests_with_accept_fails(service: Service) -> None:
    service.switch.app = tamper.script_altered_for_browsers(service.switch.app)
    failures = _failures(service)
    (failure,) = failures
    assert failure.startswith(
        "FAIL: asset js/app.js: the plain bytes served differ from the signed hash (sha256 "
    )
    assert " when asked by " not in failure  # every way the checker asks met it


def test_a_policy_weakened_for_android_only_fails(service: Service) -> None:
    service.switch.app = tamper.csp_weakened_for_android(service.switch.app)
    failures = _failures(service)
    assert (
        "FAIL: page /: its Content-Security-Policy's img-src allows * (only as it is served "
        "to Tor Browser (Android))"
    ) in failures
