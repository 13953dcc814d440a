"""Public key lines, fingerprints, and passphrase-protected identity files."""

from __future__ import annotations

import base64

import pytest

from crypto import Identity, InvalidIdentityFile, InvalidPublicKey, PublicKey, WrongPassphrase
from crypto.keys import PUBLIC_KEY_PREFIX

FAST = {"opslimit": 1, "memlimit": 8192}
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def test_public_key_line_round_trips_and_tolerates_case_and_spaces(alice: Identity) -> None:
    line = alice.public_key.line
    assert line.startswith(PUBLIC_KEY_PREFIX) and len(line) == 64
    spaced = " ".join(line[i : i + 8] for i in range(0, len(line), 8)).upper()
    assert PublicKey.from_line(spaced) == alice.public_key


def test_every_single_character_typo_is_caught(alice: Identity) -> None:
    line = alice.public_key.line
    for position in range(len(PUBLIC_KEY_PREFIX), len(line)):
        for replacement in ALPHABET:
            if replacement == line[position]:
                continue
            typo = line[:position] + replacement + line[position + 1 :]
            with pytest.raises(InvalidPublicKey):
                PublicKey.from_line(typo)


def test_swapped_neighbours_and_truncation_are_caught(alice: Identity) -> None:
    line = alice.public_key.line
    for position in range(len(PUBLIC_KEY_PREFIX), len(line) - 1):
        if line[position] == line[position + 1]:
            continue
        swapped = line[:position] + line[position + 1] + line[position] + line[position + 2 :]
        with pytest.raises(InvalidPublicKey):
            PublicKey.from_line(swapped)
    for cut in (1, 5, 30):
        with pytest.raises(InvalidPublicKey, match="too short"):
            PublicKey.from_line(line[:-cut])
    with pytest.raises(InvalidPublicKey, match="starts with"):
        PublicKey.from_line("age1" + line[4:])


def test_fingerprint_and_key_id(alice: Identity, bob: Identity) -> None:
    fingerprint = alice.public_key.fingerprint
    groups = fingerprint.split(" ")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    assert "".join(groups[:4]) == alice.public_key.key_id_hex
    assert fingerprint != bob.public_key.fingerprint


def test_identity_file_round_trip_and_wrong_passphrase(alice: Identity) -> None:
    text = alice.to_file_text("Ключ к двери", **FAST)
    assert alice.public_key.line in text and "Ключ" not in text
    assert Identity.from_file_text(text, "Ключ к двери").public_key == alice.public_key
    # NFC and NFD spellings of the same passphrase unlock the same file.
    composed = alice.to_file_text("caf\u00e9", **FAST)
    assert Identity.from_file_text(composed, "cafe\u0301").public_key == alice.public_key
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        Identity.from_file_text(text, "ключ к двери")
    with pytest.raises(WrongPassphrase):
        Identity.from_file_text(text, "")


def _blob(text: str) -> bytearray:
    line = next(x for x in text.splitlines() if x.startswith("secret-key:"))
    return bytearray(base64.b64decode(line.split(":", 1)[1].strip()))


def _with_blob(text: str, blob: bytes) -> str:
    lines = [
        f"secret-key: {base64.b64encode(blob).decode()}" if x.startswith("secret-key:") else x
        for x in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


def test_damaged_identity_files_are_refused_clearly(alice: Identity, bob: Identity) -> None:
    text = alice.to_file_text("pw", **FAST)
    with pytest.raises(InvalidIdentityFile, match="not a sealdrop identity"):
        Identity.from_file_text(alice.public_key.line, "pw")
    with pytest.raises(InvalidIdentityFile, match="damaged"):
        Identity.from_file_text(text.replace("secret-key: ", "secret-key: !!"), "pw")
    with pytest.raises(InvalidIdentityFile, match="cut short"):
        Identity.from_file_text(_with_blob(text, bytes(_blob(text)[:20])), "pw")
    huge = _blob(text)
    huge[5:13] = (64 << 30).to_bytes(8, "big")  # memlimit 64 GiB
    with pytest.raises(InvalidIdentityFile, match="impossible"):
        Identity.from_file_text(_with_blob(text, bytes(huge)), "pw")
    flipped = _blob(text)
    flipped[-1] ^= 1
    with pytest.raises(WrongPassphrase):
        Identity.from_file_text(_with_blob(text, bytes(flipped)), "pw")
    swapped = text.replace(alice.public_key.line, bob.public_key.line)
    with pytest.raises(InvalidIdentityFile, match="does not belong"):
        Identity.from_file_text(swapped, "pw")


def test_public_key_file_reading(tmp_path, alice: Identity) -> None:
    path = tmp_path / "alice.pub"
    path.write_text(f"# Alice\n# fingerprint: x\n\n{alice.public_key.line}\n")
    assert PublicKey.from_file(path) == alice.public_key
    identity_path = tmp_path / "identity.key"
    identity_path.write_text(alice.to_file_text("pw", **FAST))
    assert PublicKey.from_file(identity_path) == alice.public_key
    empty = tmp_path / "empty.pub"
    empty.write_text("# nothing\n")
    with pytest.raises(InvalidPublicKey, match="no sealdrop public key"):
        PublicKey.from_file(empty)
