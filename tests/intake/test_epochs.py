"""Weekly keys end to end (FORMAT.md section 10): the reviewer's tool makes and signs them, the
replies bundle carries them, the server checks them against the member card and serves them,
the no-JS form seals to this week's key, the reviewer opens with it, and once the week and its
grace are over the key is deleted and the envelope says why. Lapses fall back, loudly."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import pytest

from crypto import Identity, MemorySink, open_envelope, read_header
from crypto.bundle import REPLIES, BundleError, BundleWriter
from crypto.epochs import WEEK, read_statement
from crypto.errors import EpochKeyDeleted
from crypto.team import Member, Signer
from intake import create_app, epochs
from intake.replies import ImportError_, import_replies
from intake.setup import init_data_dir
from reviewer import epochs as runway
from reviewer.vault import Vault

from .helpers import post_form


def statement_bundle(path: Path, *texts: str) -> Path:
    with path.open("wb") as out:
        BundleWriter(out, kind=REPLIES).close(epochs=list(texts))
    return path


@pytest.fixture
def setup(tmp_path: Path):
    reviewer = Identity.generate()
    card = tmp_path / "anna.card"
    card.write_text(Member.of(reviewer, "anna").card_text(), encoding="utf-8")
    config = {
        "DATA_DIR": str(tmp_path / "data"),
        "RECIPIENTS": [str(card)],
        "MAX_SUBMISSION_BYTES": 4 << 20,
        "DISK_RESERVE_BYTES": 0,
    }
    settings = init_data_dir(config)
    app = create_app(config)
    vault = Vault(tmp_path / "vault")
    return reviewer, app, settings, vault


def test_weekly_keys_travel_to_the_server_and_seal_the_no_js_form(setup, tmp_path) -> None:
    reviewer, app, settings, vault = setup
    client = app.test_client()
    # before any statement: the long-term key, and status says so
    assert epochs.sealing_keys(settings) == [reviewer.public_key]
    assert "without forward secrecy" in epochs.warnings(settings)[0]
    served = client.get("/api/v1/epochs").json
    assert served["reviewers"][0]["statement"] is None
    assert served["reviewers"][0]["signing_key"] == Signer(reviewer).public_key.line

    text = runway.top_up(vault, reviewer)
    assert len(text.splitlines()) == 4 + runway.RUNWAY_WEEKS + 1 + 1
    assert runway.unsent_statement(vault) == text
    import_replies(app, statement_bundle(tmp_path / "r.tar", text))
    assert client.get("/api/v1/epochs").json["reviewers"][0]["statement"] == text
    for path in (epochs.directory(settings), *epochs.directory(settings).iterdir()):
        assert path.stat().st_mtime % 3600 == 0  # hour-rounded, like every file it keeps
    assert epochs.warnings(settings) == []

    week_key = epochs.sealing_keys(settings)[0]
    assert week_key != reviewer.public_key
    response = post_form(client, "sealed to this week's key")
    assert response.status_code in (200, 303), response.data[:300]
    (blob,) = list(settings.blob_dir.iterdir())
    envelope = blob.read_bytes()
    assert read_header(io.BytesIO(envelope)).key_ids == [week_key.key_id_hex]
    keys = [reviewer, *runway.for_opening(vault, reviewer)]
    contents = open_envelope(io.BytesIO(envelope), keys, MemorySink())
    assert contents.message is not None
    assert contents.message.data == b"sealed to this week's key"

    # the week ends, then the grace: the reviewer's tool deletes the key by itself
    later = time.time() + WEEK + runway.DEFAULT_GRACE_DAYS * 86400 + 3600
    keys = [reviewer, *runway.for_opening(vault, reviewer, later)]
    with pytest.raises(EpochKeyDeleted) as deleted:
        open_envelope(io.BytesIO(envelope), keys, MemorySink())
    assert "whose key was deleted for your safety on" in str(deleted.value)
    assert runway.prune(vault, later) == []  # pruned once, by the open above
    stored = (vault.root / "epochs" / f"{week_key.key_id_hex}.json").read_text()
    assert '"secret"' not in stored and '"deleted"' in stored

    # a newer statement in the same hour (file times are blurred to it) replaces the old one
    newer = runway.top_up(vault, reviewer, time.time() + 3600)
    import_replies(app, statement_bundle(tmp_path / "r2.tar", newer))
    assert client.get("/api/v1/epochs").json["reviewers"][0]["statement"] == newer
    signing = Signer(reviewer).public_key
    assert epochs.current(settings)[reviewer.public_key.key_id_hex] == read_statement(
        newer, reviewer.public_key, signing
    )


def test_the_server_refuses_forged_expired_and_unknown_statements(setup, tmp_path) -> None:
    reviewer, app, settings, vault = setup
    text = runway.top_up(vault, reviewer)
    stranger = Identity.generate()
    body = text.rsplit("signature: ", 1)[0]
    signature = base64.b64encode(Signer(stranger).sign(body.encode())).decode()
    bad = body + f"signature: {signature}\n"  # the body unchanged, signed by someone else
    with pytest.raises(ImportError_, match="not signed by this reviewer"):
        import_replies(app, statement_bundle(tmp_path / "f.tar", bad))
    strangers = runway.top_up(Vault(tmp_path / "v2"), stranger)
    with pytest.raises(ImportError_, match="does not seal to"):
        import_replies(app, statement_bundle(tmp_path / "u.tar", strangers))
    with pytest.raises(BundleError, match="all over"):
        epochs.check(settings, [text], time.time() + 30 * WEEK)
    assert epochs.texts(settings) == {}
    assert epochs.sealing_keys(settings) == [reviewer.public_key]


def test_a_lapsed_runway_still_receives_with_the_long_term_key_and_is_warned(
    setup, tmp_path
) -> None:
    reviewer, app, settings, vault = setup
    import_replies(app, statement_bundle(tmp_path / "r.tar", runway.top_up(vault, reviewer)))
    end = epochs.current(settings)[reviewer.public_key.key_id_hex].ends
    assert epochs.warnings(settings, end - 10 * 86400)[0].startswith(
        f"reviewer {reviewer.public_key.key_id_hex}: weekly keys run out on"
    )
    assert epochs.sealing_keys(settings, end + 1) == [reviewer.public_key]
    assert "without forward secrecy" in epochs.warnings(settings, end + 1)[0]
    assert runway.lapse_warning(vault, end - 86400) is not None
    assert runway.lapse_warning(vault) is None


def test_a_member_card_is_read_again_only_once_it_changed(tmp_path: Path, monkeypatch) -> None:
    """Every uploaded text's header check asks for the reviewers' signing keys (issue 18):
    the card is read once, then again only after it was replaced."""
    card = tmp_path / "anna.card"
    first, second = Identity.generate(), Identity.generate()
    card.write_text(Member.of(first, "anna").card_text(), encoding="utf-8")
    reads = []
    real = epochs._read_signing_key
    monkeypatch.setattr(epochs, "_read_signing_key", lambda p: reads.append(p) or real(p))
    for _ in range(3):
        assert epochs.signing_key_of(card) == Signer(first).public_key
    assert len(reads) == 1
    replaced = tmp_path / "anna.card.new"
    replaced.write_text(Member.of(second, "anna").card_text(), encoding="utf-8")
    replaced.replace(card)
    assert epochs.signing_key_of(card) == Signer(second).public_key
    assert len(reads) == 2
