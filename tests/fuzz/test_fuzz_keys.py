"""Public key lines and files, identity files: an InvalidPublicKey, InvalidIdentityFile or
WrongPassphrase with a sentence, or the key; nothing else."""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from crypto import Identity, InvalidIdentityFile, InvalidPublicKey, PublicKey, WrongPassphrase

from .harness import fuzz_target
from .strategies import VECTORS, mutated

KEYS = json.loads((VECTORS / "keys.json").read_text())
LINES = [entry["public_key_line"] for entry in KEYS["identities"].values()]
LINES += list(KEYS["invalid_public_key_lines"].values())
PASSPHRASE = json.loads((VECTORS / "identity-a.json").read_text())["passphrase"]
SCRATCH = Path(tempfile.mkdtemp(prefix="sealdrop-fuzz-keys-"))
atexit.register(shutil.rmtree, SCRATCH, True)


def cheap_kdf(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """Stands in for Argon2id: the file's parser is under test, not the KDF (a fuzzed
    memlimit of 4 GiB is allowed by the spec and would be slow to honour)."""
    return hashlib.blake2b(passphrase + salt + bytes([opslimit % 256]), digest_size=32).digest()


with mock.patch("crypto._sodium.passphrase_key", cheap_kdf):
    STUBBED = Identity(bytes(range(1, 33))).to_file_text(PASSPHRASE, opslimit=1, memlimit=8192)
IDENTITY_SEEDS = [(VECTORS / "identity-a.txt").read_bytes(), STUBBED.encode()]
KEY_FILE_SEEDS = [
    f"# a reviewer\n{LINES[0]}\n".encode(),
    f"   # indented\n\n  {LINES[1].upper()}  \n".encode(),
    IDENTITY_SEEDS[0],
]


@given(
    st.sampled_from(LINES).flatmap(
        lambda line: st.one_of(
            st.just(line),
            mutated([line.encode()], max_mutations=2).map(lambda b: b.decode("latin-1")),
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567 \t-", max_size=70).map(
                lambda tail: "sdpub1" + tail
            ),
        )
    )
)
@fuzz_target("public key lines")
def test_public_key_lines(line: str) -> None:
    try:
        key = PublicKey.from_line(line)
    except InvalidPublicKey as error:
        assert str(error)
        return
    assert PublicKey.from_line(key.line) == key


@given(mutated(KEY_FILE_SEEDS, max_mutations=3))
@fuzz_target("public key files")
def test_public_key_files(data: bytes) -> None:
    path = SCRATCH / "key.pub"
    path.write_bytes(data)
    try:
        PublicKey.from_file(path)
    except InvalidPublicKey as error:
        assert str(error)


@given(mutated(IDENTITY_SEEDS, max_mutations=3), st.sampled_from([PASSPHRASE, "wrong", ""]))
@fuzz_target("identity files")
def test_identity_files(data: bytes, passphrase: str) -> None:
    path = SCRATCH / "identity.key"
    path.write_bytes(data)
    with mock.patch("crypto._sodium.passphrase_key", cheap_kdf):
        try:
            identity = Identity.load(path, passphrase)
        except (InvalidIdentityFile, InvalidPublicKey, WrongPassphrase) as error:
            assert str(error)
            return
    assert passphrase == PASSPHRASE and identity.public_key.line == LINES[0]
