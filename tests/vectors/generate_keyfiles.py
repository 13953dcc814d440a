"""Key file vectors (FORMAT.md §1 public key files, §2 the identity check order), written to
tests/vectors/keyfiles/ with keyfiles/keyfiles.json naming each file's expected result.

Run: .venv/bin/python -m tests.vectors.generate_keyfiles. Argon2id salts are random, so
regenerating changes the identity files' bytes (never what they must give).
"""

from __future__ import annotations

import base64
import json

from crypto import Identity
from crypto.keys import lock_secret

from .generate import HERE as VECTORS
from .generate import SECRET_A, SECRET_OTHER

HERE = VECTORS / "keyfiles"
PASSPHRASE = "correct horse battery staple — ключ"


def identity_text(blob: bytes, public_line: str | None, *extra: str) -> str:
    lines = ["# sealdrop reviewer identity (test vector)"]
    if public_line is not None:
        lines.append(f"public-key: {public_line}")
    lines.append(f"secret-key: {base64.b64encode(blob).decode()}")
    return "\n".join([*lines, *extra]) + "\n"


def public_files(line: str, identity_file: str) -> dict[str, tuple[bytes, str]]:
    """§1: name -> (file bytes, "a" for the key it must give, or "invalid")."""
    typo = line[:20] + ("a" if line[20] != "a" else "b") + line[21:]
    return {
        "public-ok-comments.txt": (
            f"# Anna's key\n   # an indented comment\n\nname: Anna\n{line}\n".encode(),
            "a",
        ),
        "public-ok-crlf-and-spaces.txt": (f"# key\r\n  {line}  \r\n".encode(), "a"),
        "public-ok-identity-file.txt": (identity_file.encode(), "a"),
        "public-ok-later-lines-ignored.txt": (f"{line}\nthis is not read\n".encode(), "a"),
        "public-fail-not-utf8.txt": (b"# \xff\n" + line.encode() + b"\n", "invalid"),
        "public-fail-no-key.txt": (b"# only a comment\nname: Anna\n", "invalid"),
        "public-fail-first-key-line-bad.txt": (f"{typo}\n{line}\n".encode(), "invalid"),
    }


def identity_files() -> dict[str, tuple[bytes, str, str]]:
    """§2's order: name -> (file bytes, passphrase, the first failure a reader reports).
    Most files break two rules: the earlier one in the order wins."""
    a, other = Identity(SECRET_A), Identity(SECRET_OTHER)
    line = a.public_key.line
    blob = lock_secret(SECRET_A, PASSPHRASE, 1, 8192)
    encoded = base64.b64encode(blob).decode()
    loose = encoded[:-2] + chr(ord(encoded[-2]) + 1) + "="  # same bytes, unused bits set
    assert encoded.endswith("=") and not encoded.endswith("==")
    assert base64.b64decode(loose) == blob
    version_2 = b"\x02" + blob[1:]
    no_limits = blob[:1] + bytes(4) + blob[5:]  # opslimit 0
    text = identity_text
    return {
        "identity-fail-not-utf8.txt": (
            text(blob, line, f"public-key: {line}").encode() + b"# \xff\n",
            PASSPHRASE,
            "not-utf8",
        ),
        "identity-fail-repeated-field.txt": (
            text(blob, line, f"public-key: {line}").replace(encoded, "!!").encode(),
            PASSPHRASE,
            "repeated-field",
        ),
        "identity-fail-no-secret-key.txt": (
            f"# no secret\npublic-key: {line[:-1]}\n".encode(),
            PASSPHRASE,
            "no-secret-key",
        ),
        "identity-fail-base64-not-canonical.txt": (
            text(blob, line).replace(encoded, loose).encode(),
            PASSPHRASE,
            "bad-base64",
        ),
        "identity-fail-base64-space.txt": (
            text(blob, line).replace(encoded, encoded[:20] + " " + encoded[20:]).encode(),
            PASSPHRASE,
            "bad-base64",
        ),
        "identity-fail-blob-length.txt": (
            text(version_2[:-1], line).encode(),
            PASSPHRASE,
            "blob-length",
        ),
        "identity-fail-version.txt": (
            text(b"\x02" + no_limits[1:], line).encode(),
            PASSPHRASE,
            "unsupported-version",
        ),
        "identity-fail-limits.txt": (text(no_limits, line).encode(), "wrong", "limits"),
        "identity-fail-wrong-passphrase.txt": (
            text(blob, other.public_key.line).encode(),
            "wrong",
            "wrong-passphrase",
        ),
        "identity-fail-empty-passphrase.txt": (text(blob, line).encode(), "", "wrong-passphrase"),
        "identity-fail-public-key-mismatch.txt": (
            text(blob, other.public_key.line).encode(),
            PASSPHRASE,
            "public-key-mismatch",
        ),
    }


def main() -> None:
    HERE.mkdir(exist_ok=True)
    a = Identity(SECRET_A)
    identity_file = (VECTORS / "identity-a.txt").read_text()
    described: dict[str, object] = {
        "passphrase": PASSPHRASE,
        "public_key_line": a.public_key.line,
        "secret_key_hex": SECRET_A.hex(),
        "public_key_files": {},
        "identity_files": {},
    }
    for name, (data, expect) in public_files(a.public_key.line, identity_file).items():
        (HERE / name).write_bytes(data)
        described["public_key_files"][name] = expect  # type: ignore[index]
    for name, (data, passphrase, expect) in identity_files().items():
        (HERE / name).write_bytes(data)
        entry = {"passphrase": passphrase, "expect": expect}
        described["identity_files"][name] = entry  # type: ignore[index]
    (HERE / "keyfiles.json").write_text(
        json.dumps(described, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
