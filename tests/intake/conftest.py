"""An intake app on a fresh data directory, with its temp dir and logs under watch."""

from __future__ import annotations

import io
import logging
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from crypto import Identity, PublicKey
from intake import create_app
from intake.config import Settings
from intake.db import Submission
from intake.serve import QuietHandler
from intake.setup import init_data_dir


@dataclass
class Intake:
    app: Flask
    client: FlaskClient
    identity: Identity
    settings: Settings
    tmp_dir: Path  # tempfile's directory while the app runs
    log: io.StringIO  # everything logged, at every level

    @property
    def public_key(self) -> PublicKey:
        return self.identity.public_key

    def counts(self) -> tuple[int, int]:
        """(submission rows, uploads in progress)."""
        store = self.app.extensions["sealdrop"]
        with Session(store.engine) as session:
            rows = session.scalar(select(func.count()).select_from(Submission)) or 0
        return rows, len(store.uploads())

    def files(self, sub: str) -> list[Path]:
        return sorted(p for p in (self.settings.data_dir / sub).iterdir())

    def assert_nothing_stored(self) -> None:
        assert self.counts() == (0, 0)
        assert self.files("blobs") == []
        assert self.files("uploads") == []
        assert self.files("tmp") == []


def write_key(directory: Path, identity: Identity) -> Path:
    path = directory / f"{identity.public_key.key_id_hex}.pub"
    path.write_text(f"# test key\n{identity.public_key.line}\n", encoding="utf-8")
    return path


def make_config(tmp_path: Path, identities: list[Identity], **extra: Any) -> dict[str, Any]:
    keys = tmp_path / "keys"
    keys.mkdir(exist_ok=True)
    return {
        "DATA_DIR": str(tmp_path / "data"),
        "RECIPIENTS": [str(write_key(keys, identity)) for identity in identities],
        "MAX_SUBMISSION_BYTES": 4 << 20,
        "DISK_RESERVE_BYTES": 0,
        **extra,
    }


@pytest.fixture
def watched_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "tmpdir"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def build(tmp_path: Path, tmp_dir: Path, log: io.StringIO, **extra: Any) -> Intake:
    identity = Identity.generate()
    config = make_config(tmp_path, [identity], **extra)
    settings = init_data_dir(config)
    app = create_app(config)
    return Intake(app, app.test_client(), identity, settings, tmp_dir, log)


@pytest.fixture
def intake(tmp_path: Path, watched_tmp: Path, captured_log: io.StringIO) -> Intake:
    return build(tmp_path, watched_tmp, captured_log)


@pytest.fixture
def live(intake: Intake) -> Iterator[tuple[str, int]]:
    server = make_server("127.0.0.1", 0, intake.app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join()
