"""Forward secrecy from the page (docs/FORMAT.md 10), in Firefox ESR at Tor Browser's Safer
level: the server holds a reviewer's signed weekly keys; the page fetches them, verifies the
statement with WebCrypto Ed25519 against the reviewer's member card, and seals the stanza to
this week's key, so only that week's key opens the submission, not the long-term key."""

from __future__ import annotations

import io
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from crypto import Identity, MemorySink, open_envelope
from crypto.bundle import Bundle
from crypto.epochs import Epoch, Statement, read_statement, week_start, weeks
from crypto.errors import NotForYou
from crypto.team import Signer
from intake import epochs as served_epochs
from intake.export import export_bundle

from .conftest import require_executable
from .test_browsers import FIREFOX, drive

pytestmark = pytest.mark.browser


def member_card(path: Path, reviewer: Identity) -> Path:
    path.write_text(
        f"member: anna\n{reviewer.public_key.line}\n"
        f"signing-key: {Signer(reviewer).public_key.line}\n",
        encoding="utf-8",
    )
    return path


def test_firefox_safer_seals_to_this_weeks_key(node, tmp_path, start_intake):
    require_executable(FIREFOX, "firefox-esr")
    reviewer = Identity.generate()
    card = member_card(tmp_path / "anna.card", reviewer)
    server = start_intake(RECIPIENTS=[str(card)])
    week_keys = [Identity.generate() for _ in range(3)]
    spans = weeks(week_start(time.time() + 2 * 3600), 3)
    epochs = tuple(
        Epoch(start, end, key.public_key)
        for (start, end), key in zip(spans, week_keys, strict=True)
    )
    signer = Signer(reviewer)
    issued = int(time.time()) // 3600 * 3600
    text = Statement(reviewer.public_key, signer.public_key, issued, epochs).signed_by(signer)
    statement = read_statement(text, reviewer.public_key, signer.public_key)
    served_epochs.store(SimpleNamespace(data_dir=server.data_dir), [(statement, text)])

    report = drive(node, tmp_path, server, "firefox", "safer", files=[])
    assert report["webassembly"] == "undefined"
    assert "/api/v1/epochs" in server.recorder.paths("GET")
    bundle_path = tmp_path / "export.tar"
    [_] = export_bundle(server.app, bundle_path)
    with Bundle(bundle_path) as bundle:
        [(_entry, reader)] = list(bundle.envelopes())
        raw = reader.read()
    this_week = week_keys[0]
    contents = open_envelope(io.BytesIO(raw), [this_week], MemorySink(1 << 20))
    assert contents.version == 2 and contents.key_ids == [this_week.public_key.key_id_hex]
    assert "Hello from the browser test" in contents.message.data.decode()
    with pytest.raises(NotForYou):
        open_envelope(io.BytesIO(raw), [reviewer], MemorySink(1 << 20))
