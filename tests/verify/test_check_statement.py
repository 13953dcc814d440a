"""`sealdrop-intake check` compares the installed deployment statement with what the server
serves, so that the admin learns before any outside checker that a new one must be signed."""

from __future__ import annotations

import json
from pathlib import Path

from crypto import Identity
from crypto.signing import SigningKey
from crypto.team import Member, Signer
from intake import assets
from intake.check_keys import check_statement
from intake.config import load
from intake.deployment import FILE_NAME

from .conftest import ONION, signed_statement


def test_the_statement_must_name_what_is_served(tmp_path: Path) -> None:
    reviewer = Identity.generate()
    key_file = tmp_path / "r.pub"
    key_file.write_text(reviewer.public_key.line + "\n")
    data = tmp_path / "data"
    data.mkdir()
    settings = load({"DATA_DIR": str(data), "RECIPIENTS": str(key_file)})
    key = SigningKey.generate()

    (finding,) = check_statement(settings)
    assert finding.ok and "no deployment statement installed" in finding.message

    (data / FILE_NAME).write_bytes(signed_statement(key, ONION, [reviewer]))
    (finding,) = check_statement(settings)
    assert finding.ok and ONION in finding.message

    (data / FILE_NAME).write_bytes(signed_statement(key, ONION, [Identity.generate()]))
    (finding,) = check_statement(settings)
    assert not finding.ok and "names other reviewer keys" in finding.message

    manifest = assets.load_manifest()
    manifest["js/worker.js"] = "0" * 64
    altered = tmp_path / "assets.json"
    altered.write_text(json.dumps({"format": "sealdrop-assets-v1", "assets": manifest}))
    (data / FILE_NAME).write_bytes(signed_statement(key, ONION, [reviewer], altered))
    (finding,) = check_statement(settings)
    assert not finding.ok
    assert "does not match static/js/worker.js; have a new statement signed" in finding.message

    (data / FILE_NAME).write_bytes(b"garbage\n")
    (finding,) = check_statement(settings)
    assert not finding.ok and "cannot be read" in finding.message


def test_a_card_on_the_server_needs_its_signing_key_in_the_statement(tmp_path: Path) -> None:
    """The server serves weekly keys of a reviewer whose recipient file is a member card: the
    statement must vouch for that card's signing key, or sealdrop-verify fails (§7 v2)."""
    reviewer = Identity.generate()
    card = tmp_path / "r.card"
    card.write_text(Member.of(reviewer, "r").card_text())
    data = tmp_path / "data"
    data.mkdir()
    settings = load({"DATA_DIR": str(data), "RECIPIENTS": str(card)})
    key = SigningKey.generate()

    (data / FILE_NAME).write_bytes(signed_statement(key, ONION, [reviewer]))
    (finding,) = check_statement(settings)
    assert not finding.ok and "vouches for no signing key of reviewer" in finding.message

    (data / FILE_NAME).write_bytes(signed_statement(key, ONION, [reviewer], vouch=[reviewer]))
    (finding,) = check_statement(settings)
    assert finding.ok, finding.message

    other = Identity.generate()
    card.write_text(Member("r", reviewer.public_key, Signer(other).public_key).card_text())
    (finding,) = check_statement(settings)
    assert not finding.ok and "another signing key of reviewer" in finding.message
