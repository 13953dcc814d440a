"""Identity files read one way only (docs/FORMAT.md §2): a repeated field and a blob of the
wrong length are refused, comment lines may be indented."""

from __future__ import annotations

import base64

import pytest

from crypto import Identity, InvalidIdentityFile

PASSPHRASE = "pass phrase"
IDENTITY = Identity(bytes(range(1, 33)))
TEXT = IDENTITY.to_file_text(PASSPHRASE, opslimit=1, memlimit=8192)


def secret_line() -> str:
    return next(line for line in TEXT.splitlines() if line.startswith("secret-key:"))


def test_the_file_as_written_opens() -> None:
    assert Identity.from_file_text(TEXT, PASSPHRASE).public_key == IDENTITY.public_key


def test_indented_comments_are_comments() -> None:
    text = "   # an indented comment: secret-key: nonsense\n\t# another\n" + TEXT
    assert Identity.from_file_text(text, PASSPHRASE).public_key == IDENTITY.public_key


@pytest.mark.parametrize("field", ["secret-key", "public-key"])
def test_a_repeated_field_is_refused(field: str) -> None:
    line = next(line for line in TEXT.splitlines() if line.startswith(f"{field}:"))
    with pytest.raises(InvalidIdentityFile, match="twice"):
        Identity.from_file_text(TEXT + line + "\n", PASSPHRASE)


@pytest.mark.parametrize("change", [1, -1])
def test_a_blob_of_the_wrong_length_is_refused(change: int) -> None:
    blob = base64.b64decode(secret_line().removeprefix("secret-key: "))
    assert len(blob) == 101
    other = blob + b"\0" if change > 0 else blob[:-1]
    text = TEXT.replace(secret_line(), "secret-key: " + base64.b64encode(other).decode())
    with pytest.raises(InvalidIdentityFile, match="101 bytes"):
        Identity.from_file_text(text, PASSPHRASE)


def test_a_secret_key_line_with_non_ascii_characters_is_refused() -> None:
    """Found by tests/fuzz: base64 raised a bare ValueError."""
    text = TEXT.replace("secret-key: ", "secret-key: \u0080")
    with pytest.raises(InvalidIdentityFile, match="damaged"):
        Identity.from_file_text(text, PASSPHRASE)


def test_key_files_that_are_not_utf8_are_refused(tmp_path) -> None:
    """Found by tests/fuzz: reading raised UnicodeDecodeError."""
    from crypto import InvalidPublicKey, PublicKey

    path = tmp_path / "key"
    path.write_bytes(b"\x80 " + IDENTITY.public_key.line.encode())
    with pytest.raises(InvalidPublicKey, match="not UTF-8"):
        PublicKey.from_file(path)
    path.write_bytes(b"\x80" + TEXT.encode())
    with pytest.raises(InvalidIdentityFile, match="not UTF-8"):
        Identity.load(path, PASSPHRASE)
