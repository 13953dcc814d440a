"""The deployment statement and the organisation signing key (docs/FORMAT.md, section 7):
the committed vectors are what the code makes and they verify as they say; the key file is
passphrase-protected and never mistaken for a reviewer identity; malformed input is refused
with a StatementError or BadSignature, never another exception."""

from __future__ import annotations

import datetime
import json

import pytest

from crypto import Identity, InvalidIdentityFile, InvalidPublicKey, WrongPassphrase
from crypto.deployment import MAX_BYTES, Statement, StatementError
from crypto.signing import BadSignature, SigningKey, SigningPublicKey

from ..crypto import minimal_decoder
from . import vectors

DESCRIPTION = json.loads((vectors.DIRECTORY / "deployment.json").read_text())
KEY = SigningPublicKey.from_line(DESCRIPTION["signing_key_line"])


def test_the_committed_vectors_are_what_the_code_makes() -> None:
    assert vectors.description() == DESCRIPTION
    for name, (data, _) in vectors.build().items():
        assert (vectors.DIRECTORY / name).read_bytes() == data, name
    assert KEY.raw.hex() == DESCRIPTION["signing_public_key_hex"]
    assert SigningKey(bytes.fromhex(DESCRIPTION["signing_seed_hex"])).public_key == KEY


@pytest.mark.parametrize("name", sorted(DESCRIPTION["files"]))
def test_each_vector_verifies_as_it_says(name: str) -> None:
    data = (vectors.DIRECTORY / name).read_bytes()
    expect = DESCRIPTION["files"][name]
    assert minimal_decoder.verify_statement(data, KEY.raw) == expect
    if expect == "ok" and name != "ok.txt":
        Statement.verify(data, KEY)
    elif expect == "ok":
        statement = Statement.verify(data, KEY)
        described = DESCRIPTION["statement"]
        assert statement.onion == described["onion"]
        assert list(statement.recipients) == described["recipients"]
        assert dict(statement.assets) == described["assets"]
    else:
        error = BadSignature if expect == "bad-signature" else StatementError
        with pytest.raises(error):
            Statement.verify(data, KEY)


def test_the_signing_key_file_needs_its_passphrase_and_is_not_an_identity() -> None:
    text = (vectors.DIRECTORY / "signing-key.txt").read_text()
    key = SigningKey.from_file_text(text, DESCRIPTION["signing_key_file_passphrase"])
    assert key.public_key == KEY
    with pytest.raises(WrongPassphrase):
        SigningKey.from_file_text(text, "wrong")
    with pytest.raises(InvalidIdentityFile, match="not a sealdrop identity"):
        Identity.from_file_text(text, DESCRIPTION["signing_key_file_passphrase"])
    identity_text = Identity.generate().to_file_text("pw", opslimit=1, memlimit=8192)
    with pytest.raises(InvalidIdentityFile, match="not an organisation signing key"):
        SigningKey.from_file_text(identity_text, "pw")
    damaged = text.replace("signing-secret-key: AQ", "signing-secret-key: AR")
    with pytest.raises((InvalidIdentityFile, WrongPassphrase)):
        SigningKey.from_file_text(damaged, DESCRIPTION["signing_key_file_passphrase"])


def test_a_version_2_statement_vouches_for_signing_keys_and_version_1_reads_as_before() -> None:
    """§7: version 2 names each reviewer's signing key on its recipient line; a statement with
    none is written as version 1, byte for byte what earlier versions wrote."""
    described = DESCRIPTION["statement_v2"]
    statement = Statement.verify((vectors.DIRECTORY / described["file"]).read_bytes(), KEY)
    assert statement.header == "sealdrop-deployment-v2"
    assert list(statement.recipients) == described["recipients"]
    assert dict(statement.signing_keys) == described["signing_keys"]
    first, second = described["recipients"]
    assert statement.signing_key_of(first).line == described["signing_keys"][first]
    assert statement.signing_key_of(second) is None
    old = Statement.verify((vectors.DIRECTORY / "ok.txt").read_bytes(), KEY)
    assert old.header == "sealdrop-deployment-v1" and old.signing_keys == ()
    assert old.signing_key_of(first) is None


def test_the_vectors_readme_names_every_statement_with_its_result() -> None:
    readme = (vectors.DIRECTORY.parent / "README.md").read_text(encoding="utf-8")
    for name, expect in DESCRIPTION["files"].items():
        assert f"| `{name}` | {expect} |" in readme, name
    assert f"`deployment/` ({len(DESCRIPTION['files'])} vectors)" in readme


def test_the_signing_key_fingerprint_is_a_16_byte_hash() -> None:
    """FORMAT.md §7: H(label, spk, 16), what signing-keygen and sealdrop-verify print."""
    assert KEY.fingerprint == DESCRIPTION["signing_key_fingerprint"]
    assert minimal_decoder.signing_fingerprint(KEY.raw) == KEY.fingerprint


@pytest.mark.parametrize("name", sorted(DESCRIPTION["signing_key_lines"]))
def test_signing_key_line_vectors(name: str) -> None:
    case = DESCRIPTION["signing_key_lines"][name]
    said = {"member-key": "team member's signing key", "typo": "typo|mistyped|copy"}
    with pytest.raises(InvalidPublicKey, match=said[case["expect"]]):
        SigningPublicKey.from_line(case["line"])


@pytest.mark.parametrize("name", sorted(DESCRIPTION["key_files"]))
def test_signing_key_file_vectors_follow_the_identity_rules(name: str) -> None:
    """§7: the key file is §2's identity file with other names, so §2's rules and order hold."""
    said = {"bad-base64": "damaged", "repeated-field": "twice"}
    text = (vectors.DIRECTORY / name).read_text()
    with pytest.raises(InvalidIdentityFile, match=said[DESCRIPTION["key_files"][name]]):
        SigningKey.from_file_text(text, DESCRIPTION["signing_key_file_passphrase"])


def test_a_mistyped_signing_key_line_is_refused() -> None:
    line = KEY.line
    assert SigningPublicKey.from_line(line.upper()) == KEY
    typo = line[:-3] + ("a" if line[-3] != "a" else "b") + line[-2:]
    for bad in (typo, line[:-1], "sdpub1" + line[6:], Identity.generate().public_key.line):
        with pytest.raises(InvalidPublicKey):
            SigningPublicKey.from_line(bad)


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"signature: \n", b"\xff" * 100 + b"\n", b"x" * (MAX_BYTES + 1)],
    ids=["empty", "newline", "empty-signature", "binary", "too-large"],
)
def test_garbage_is_a_statement_error(data: bytes) -> None:
    with pytest.raises(StatementError):
        Statement.verify(data, KEY)


def test_make_refuses_what_it_could_not_sign_correctly() -> None:
    good = vectors.GOOD
    with pytest.raises(StatementError, match="onion address"):
        Statement.make("example.com", "1", _date(), good.recipients, dict(good.assets))
    with pytest.raises(StatementError, match="fingerprint"):
        Statement.make(good.onion, "1", _date(), ["nope"], dict(good.assets))
    with pytest.raises(StatementError, match="bad path"):
        Statement.make(good.onion, "1", _date(), good.recipients, {"../x.js": "0" * 64})


def _date() -> datetime.date:
    return datetime.date(2026, 1, 1)
