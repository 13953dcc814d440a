"""`sealdrop-intake check` compares the installed deployment statement with what the server
serves, so that the admin learns before any outside checker that a new one must be signed."""

from __future__ import annotations

import json
from pathlib import Path

from crypto import Identity
from crypto.signing import SigningKey
from intake import assets
from intake.check import check_statement
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
