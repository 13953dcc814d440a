"""A running intake server with a signed deployment statement in its data directory, reached
through a test SOCKS5 proxy under an onion-style name, as sealdrop-verify reaches one over Tor."""

from __future__ import annotations

import datetime
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from crypto import Identity
from crypto.deployment import Statement
from crypto.signing import SigningKey
from crypto.team import Member, Signer
from intake import assets, create_app, epochs, pages
from intake.deployment import FILE_NAME
from intake.serve import QuietHandler
from intake.setup import init_data_dir
from reviewer import epochs as runway
from reviewer.vault import Vault
from verify.cli import main as verify_main

from .socks_server import SocksServer

ONION = "sealdropverifytest" * 3 + "ab.onion"  # 56 base32 letters, like a v3 address


def signed_statement(
    key: SigningKey,
    onion: str,
    identities: list[Identity],
    manifest: Path = assets.MANIFEST,
    *,
    vouch: list[Identity] = (),  # type: ignore[assignment]
) -> bytes:
    """The organisation's statement; ``vouch``: reviewers whose signing keys it names."""
    hashes = {
        name: digest
        for name, digest in assets.load_manifest(manifest).items()
        if not name.endswith(".gz")
    }
    return Statement.make(
        onion,
        "0.1.0",
        datetime.date(2026, 11, 28),
        [i.public_key.fingerprint for i in identities],
        hashes,
        {i.public_key.fingerprint: Signer(i).public_key.line for i in vouch},
    ).signed_by(key)


class Switch:
    """The WSGI app served; a test may put a tampering one in front (tests/verify/tamper.py)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.app(environ, start_response)


@dataclass
class Service:
    key: SigningKey
    reviewers: list[Identity]
    data_dir: Path
    static: Path  # the served static directory (a copy the test may alter)
    socks: SocksServer
    switch: Switch

    def verify(self, *extra: str, key: str | None = None) -> tuple[int, list[str]]:
        result = CliRunner().invoke(
            verify_main,
            [
                f"http://{ONION}/",
                "--key",
                key or self.key.public_key.line,
                "--socks",
                self.socks.address,
                "--timeout",
                "20",
                "--rate",  # this test server has no per-circuit limits to stay within
                "0",
                *extra,
            ],
        )
        return result.exit_code, result.output.splitlines()

    def publish(self, statement: bytes) -> None:
        (self.data_dir / FILE_NAME).write_bytes(statement)


def _serve(app) -> Iterator[tuple[str, int]]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join()


def _running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, team: bool) -> Iterator[Service]:
    """Two reviewers; ``team``: their recipient files are member cards, each has sent their
    weekly keys (a replies export) and the statement vouches for their signing keys."""
    if not assets.MANIFEST.is_file():
        pytest.fail("intake/assets.json is missing: build the bundle first (make js)")
    reviewers = [Identity.generate(), Identity.generate()]
    keys = tmp_path / "keys"
    keys.mkdir()
    paths = []
    for number, identity in enumerate(reviewers):
        path = keys / f"r{number}.pub"
        text = Member.of(identity, f"r{number}").card_text() if team else identity.public_key.line
        path.write_text(f"{text}\n")
        paths.append(str(path))
    config = {"DATA_DIR": str(tmp_path / "data"), "RECIPIENTS": paths, "DISK_RESERVE_BYTES": 0}
    settings = init_data_dir(config)
    if team:
        texts = [runway.top_up(Vault(tmp_path / f"vault{n}"), i) for n, i in enumerate(reviewers)]
        epochs.store(settings, epochs.check(settings, texts)[0])
    static = tmp_path / "static"
    for directory in assets.SERVED_DIRS:
        shutil.copytree(assets.STATIC_DIR / directory, static / directory)
    monkeypatch.setattr(pages, "STATIC_DIR", static)
    key = SigningKey.generate()
    switch = Switch(create_app(config))
    for address in _serve(switch):
        with SocksServer(address) as socks:
            result = Service(key, reviewers, tmp_path / "data", static, socks, switch)
            vouch = reviewers if team else []
            result.publish(signed_statement(key, ONION, reviewers, vouch=vouch))
            yield result


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    yield from _running(tmp_path, monkeypatch, team=False)


@pytest.fixture
def team_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    yield from _running(tmp_path, monkeypatch, team=True)
