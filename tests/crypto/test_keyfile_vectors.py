"""Key file vectors (tests/vectors/keyfiles/): public key files (FORMAT.md §1) and the order in
which an identity file's faults are reported (§2), read by crypto/ and the minimal reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto import Identity, InvalidIdentityFile, InvalidPublicKey, PublicKey, WrongPassphrase

from . import minimal_decoder

HERE = Path(__file__).parent.parent / "vectors" / "keyfiles"
DOC = json.loads((HERE / "keyfiles.json").read_text(encoding="utf-8"))
# What crypto/ says for each step of §2's order (WrongPassphrase is its own class).
SAID = {
    "not-utf8": "not UTF-8",
    "repeated-field": "twice",
    "no-secret-key": "no secret-key line",
    "bad-base64": "damaged",
    "blob-length": "bytes, not 101",
    "unsupported-version": "not supported",
    "limits": "impossible passphrase settings",
    "public-key-mismatch": "does not belong",
}


@pytest.mark.parametrize("name", sorted(DOC["public_key_files"]))
def test_public_key_file_vector(name: str) -> None:
    expect = DOC["public_key_files"][name]
    if expect == "a":
        key = PublicKey.from_file(HERE / name)
        assert key.line == DOC["public_key_line"]
        assert minimal_decoder.read_public_key_file((HERE / name).read_bytes()) == key.raw
        return
    with pytest.raises(InvalidPublicKey):
        PublicKey.from_file(HERE / name)
    with pytest.raises(minimal_decoder.Refused):
        minimal_decoder.read_public_key_file((HERE / name).read_bytes())


@pytest.mark.parametrize("name", sorted(DOC["identity_files"]))
def test_identity_check_order_vector(name: str) -> None:
    case = DOC["identity_files"][name]
    with pytest.raises(minimal_decoder.Refused) as refused:
        minimal_decoder.read_identity((HERE / name).read_bytes(), case["passphrase"])
    assert refused.value.kind == case["expect"]
    if case["expect"] == "wrong-passphrase":
        with pytest.raises(WrongPassphrase):
            Identity.load(HERE / name, case["passphrase"])
        return
    with pytest.raises(InvalidIdentityFile, match=SAID[case["expect"]]):
        Identity.load(HERE / name, case["passphrase"])


def test_the_minimal_reader_opens_the_identity_vector() -> None:
    text = (HERE.parent / "identity-a.txt").read_bytes()
    assert minimal_decoder.read_identity(text, DOC["passphrase"]).hex() == DOC["secret_key_hex"]


def test_the_vectors_readme_names_each_key_file_with_its_result() -> None:
    readme = " ".join((HERE.parent / "README.md").read_text(encoding="utf-8").split())
    for name, expect in DOC["public_key_files"].items():
        assert f"`{name}` ({expect}" in readme, name
    for name, case in DOC["identity_files"].items():
        assert f"`{name}` ({case['expect']}" in readme, name
