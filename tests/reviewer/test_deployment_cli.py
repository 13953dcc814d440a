"""`sealdrop-reviewer signing-keygen` and `sign-deployment`: the statement signed from a release
wheel names its assets (not their .gz copies) and the given reviewers, and verifies under the
new key; mistakes end in one sentence, and nothing is overwritten."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from crypto import Identity
from crypto.deployment import Statement
from crypto.signing import SigningPublicKey
from crypto.team import Member, Signer
from reviewer.cli import main

ONION = "b" * 56 + ".onion"


def test_a_statement_signed_from_a_wheel_verifies(tmp_path: Path) -> None:
    runner = CliRunner()
    passphrase = tmp_path / "pass"
    passphrase.write_text("a long organisation passphrase\n")
    made = runner.invoke(
        main, ["signing-keygen", "--out", str(tmp_path / "org"), "--passphrase-file", passphrase]
    )
    assert made.exit_code == 0, made.output
    assert (tmp_path / "org" / "signing.key").stat().st_mode & 0o777 == 0o600
    again = runner.invoke(main, ["signing-keygen", "--out", str(tmp_path / "org")])
    assert again.exit_code == 1 and "never overwrite keys" in again.output

    reviewer = Identity.generate()
    (tmp_path / "alice.pub").write_text(f"# alice\n{reviewer.public_key.line}\n")
    wheel = tmp_path / "sealdrop-9.8.7-py3-none-any.whl"
    manifest = {"format": "sealdrop-assets-v1", "assets": {"js/app.js": "ab" * 32}}
    manifest["assets"]["js/app.js.gz"] = "cd" * 32
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("intake/assets.json", json.dumps(manifest))

    def sign(out: str, *extra: str):
        return runner.invoke(
            main,
            [
                *("sign-deployment", "--key", str(tmp_path / "org" / "signing.key")),
                *("--onion", ONION, "--recipient", str(tmp_path / "alice.pub")),
                *("--assets", str(wheel), "--out", str(tmp_path / out), *extra),
            ],
        )

    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    refused = sign("s1", "--passphrase-file", str(wrong))
    assert refused.exit_code == 1 and "wrong passphrase" in refused.output
    assert not (tmp_path / "s1").exists()
    signed = sign("s1", "--passphrase-file", str(passphrase))
    assert signed.exit_code == 0, signed.output
    key = SigningPublicKey.from_text((tmp_path / "org" / "signing.pub").read_text())
    statement = Statement.verify((tmp_path / "s1").read_bytes(), key)
    assert statement.onion == ONION and statement.version == "9.8.7"
    assert statement.recipients == (reviewer.public_key.fingerprint,)
    assert statement.assets == (("js/app.js", "ab" * 32),)
    assert statement.header == "sealdrop-deployment-v1"  # no card: as earlier versions wrote
    (tmp_path / "alice.pub").write_text(Member.of(reviewer, "alice").card_text())
    carded = sign("s3", "--passphrase-file", str(passphrase))
    assert carded.exit_code == 0, carded.output
    statement = Statement.verify((tmp_path / "s3").read_bytes(), key)
    assert statement.header == "sealdrop-deployment-v2"
    assert statement.signing_key_of(reviewer.public_key.fingerprint) == Signer(reviewer).public_key
    exists = sign("s1", "--passphrase-file", str(passphrase))
    assert exists.exit_code == 1 and "already exists" in exists.output
    bad_onion = runner.invoke(
        main,
        [
            *("sign-deployment", "--key", str(tmp_path / "org" / "signing.key")),
            *("--onion", "example.com", "--recipient", str(tmp_path / "alice.pub")),
            *("--assets", str(wheel), "--out", str(tmp_path / "s2")),
        ],
    )
    assert bad_onion.exit_code == 1 and "56-character v3 address" in bad_onion.output
