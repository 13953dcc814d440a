"""The deployment statement vectors in tests/vectors/deployment/ (docs/FORMAT.md, section 7).

python -m tests.verify.vectors      # rewrites them (Ed25519 is deterministic)
"""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

from crypto.deployment import Statement
from crypto.signing import SigningKey

DIRECTORY = Path(__file__).resolve().parents[1] / "vectors" / "deployment"
SEED = bytes(range(32))
OTHER_SEED = bytes(range(32, 64))
GOOD = Statement.make(
    "pz3wmemz2ie3ox2ahfsuqjwlxsjexpbvkcpnqb3ae3bxhggvsboqzzad.onion",
    "0.1.0",
    datetime.date(2026, 11, 28),
    ["39d5 7d54 c2e3 0a43 ffe8 11db 253d e21e", "8a41 0c2e 95bf 7d02 4b1e 6a33 d0c9 f716"],
    {
        "css/style.css": "f69af32436c1c5d0cd06d0d458a40b6ad564f3072ef4089a8b421c8f044d75fb",
        "js/app.js": "74aaff70ccb5af2cc95fbb06221779ed2a9d6fd10c54483232fd96b9066e2a1e",
        "js/sodium.js": "ea813db8dff84dc622d79e89ec9864c00da316535e33c83bd40998fd541f2d35",
        "js/worker.js": "679f83c22e5811c53edf884dda8ddb87c63db550235040e717bb0e646f0330b3",
    },
)


def _member_key(number: int) -> str:
    from crypto import Identity
    from crypto.team import Signer

    return Signer(Identity(bytes(range(number, number + 32)))).public_key.line


# Version 2: the first reviewer's signing key is vouched for (their weekly keys, §10), the
# second has none (no member card: sealed to their long-term key only).
GOOD_V2 = Statement.make(
    GOOD.onion,
    GOOD.version,
    datetime.date(2026, 12, 7),
    GOOD.recipients,
    dict(GOOD.assets),
    {GOOD.recipients[0]: _member_key(1)},
)


def _sign(body: bytes, seed: bytes = SEED) -> bytes:
    signature = base64.b64encode(SigningKey(seed).sign(body)).decode()
    return body + f"signature: {signature}\n".encode()


def build() -> dict[str, tuple[bytes, str]]:
    """file name -> (bytes, expected result: ok, bad-signature or malformed)."""
    key = SigningKey(SEED)
    good = GOOD.signed_by(key)
    body = GOOD.body()
    bad_digest = body.replace(b"asset: 74aa", b"asset: XXXX")
    lines = body.split(b"\n")
    swapped = b"\n".join([*lines[:6], lines[7], lines[6], *lines[8:]])
    return {
        "ok.txt": (good, "ok"),
        "fail-one-byte-changed.txt": (good.replace(b"0.1.0", b"0.1.1"), "bad-signature"),
        "fail-other-key.txt": (_sign(body, OTHER_SEED), "bad-signature"),
        "fail-signature-cut.txt": (good[:-20] + b"\n", "malformed"),
        "fail-crlf.txt": (_sign(body.replace(b"\n", b"\r\n")), "malformed"),
        "fail-assets-out-of-order.txt": (_sign(swapped), "malformed"),
        "fail-unknown-field.txt": (_sign(body + b"comment: hello\n"), "malformed"),
        "fail-bad-digest.txt": (_sign(bad_digest), "malformed"),
        **_body_rules(body, good),
        **_version_2(),
    }


def _version_2() -> dict[str, tuple[bytes, str]]:
    """FORMAT.md §7's version 2: recipients' signing keys, one vector per rule."""
    body = GOOD_V2.body()
    first, key = GOOD_V2.signing_keys[0]
    organisation = SigningKey(SEED).public_key.line

    def changed(old: bytes, new: bytes) -> bytes:
        assert body.count(old) == 1, old
        return _sign(body.replace(old, new))

    typo = key[:20] + ("a" if key[20] != "a" else "b") + key[21:]
    return {
        "ok-v2.txt": (GOOD_V2.signed_by(SigningKey(SEED)), "ok"),
        "fail-v2-without-signing-keys.txt": (
            _sign(GOOD.body().replace(b"-v1\n", b"-v2\n", 1)),
            "malformed",
        ),
        "fail-v1-with-signing-key.txt": (changed(b"-v2\n", b"-v1\n"), "malformed"),
        "fail-v2-signing-key-typo.txt": (changed(key.encode(), typo.encode()), "malformed"),
        "fail-v2-organisation-key.txt": (
            changed(key.encode(), organisation.encode()),
            "malformed",
        ),
        "fail-v2-two-spaces.txt": (
            changed(f"{first} ".encode(), f"{first}  ".encode()),
            "malformed",
        ),
    }


def _body_rules(body: bytes, good: bytes) -> dict[str, tuple[bytes, str]]:
    """FORMAT.md §7's rules for the body and the signature line, one vector each."""
    signature = good[len(body) :].removeprefix(b"signature: ").rstrip(b"\n")
    last = base64.b64decode(signature)[-1:]
    # The last character before "==" carries 2 unused bits: setting one keeps the bytes.
    loose = signature[:-3] + bytes([signature[-3] + 1]) + b"=="
    assert base64.b64decode(loose)[-1:] == last and loose != signature
    onion = GOOD.onion.encode()

    def changed(old: bytes, new: bytes) -> bytes:
        assert body.count(old) == 1, old
        return _sign(body.replace(old, new))

    return {
        "fail-signature-not-canonical.txt": (body + b"signature: " + loose + b"\n", "malformed"),
        "fail-signature-white-space.txt": (
            body + b"signature: " + signature[:40] + b" " + signature[40:] + b"\n",
            "malformed",
        ),
        "fail-too-large.txt": (_sign(body + b"asset: " + b"0" * 65536 + b" x\n"), "malformed"),
        "fail-no-final-newline.txt": (good[:-1], "malformed"),
        "fail-onion-upper-case.txt": (changed(onion, onion.upper()), "malformed"),
        "fail-date-not-a-day.txt": (changed(b"2026-11-28", b"2026-02-30"), "malformed"),
        "fail-date-year-0000.txt": (changed(b"2026-11-28", b"0000-11-28"), "malformed"),
        "fail-date-iso-week.txt": (changed(b"2026-11-28", b"2026-W48-6"), "malformed"),
        "fail-asset-dot-segment.txt": (changed(b" js/app.js", b" js/./app.js"), "malformed"),
        "fail-asset-hidden-file.txt": (changed(b" js/app.js", b" js/.app.js"), "malformed"),
        "fail-asset-empty-segment.txt": (changed(b" js/app.js", b" js//app.js"), "malformed"),
        "fail-recipients-repeated.txt": (
            changed(
                b"recipient: 8a41",
                b"recipient: 39d5 7d54 c2e3 0a43 ffe8 11db 253d e21e\nrecipient: 8a41",
            ),
            "malformed",
        ),
        "fail-version-space.txt": (changed(b"version: 0.1.0", b"version: 0.1 0"), "malformed"),
        "ok-double-dot-in-name.txt": (changed(b" js/app.js", b" js/app..js"), "ok"),
    }


def description() -> dict[str, object]:
    key = SigningKey(SEED)
    return {
        "signing_seed_hex": SEED.hex(),
        "signing_public_key_hex": key.public_key.raw.hex(),
        "signing_key_line": key.public_key.line,
        "signing_key_fingerprint": key.public_key.fingerprint,
        "signing_key_file": "signing-key.txt",
        "signing_key_file_passphrase": "correct horse battery staple",
        "statement": {
            "onion": GOOD.onion,
            "version": GOOD.version,
            "issued": GOOD.issued,
            "recipients": list(GOOD.recipients),
            "assets": dict(GOOD.assets),
        },
        "statement_v2": {
            "file": "ok-v2.txt",
            "issued": GOOD_V2.issued,
            "recipients": list(GOOD_V2.recipients),
            "signing_keys": dict(GOOD_V2.signing_keys),
        },
        "files": {name: expect for name, (_, expect) in build().items()},
        "signing_key_lines": _key_lines(key.public_key.line),
        "key_files": {
            "fail-signing-key-not-canonical.txt": "bad-base64",
            "fail-signing-key-repeated-field.txt": "repeated-field",
        },
    }


def _key_lines(line: str) -> dict[str, dict[str, str]]:
    """sdsig1 lines a reader of organisation keys MUST refuse, and what it must say: a team
    member's key (§8.1: same prefix, other checksum label) is named as such, not as a typo."""
    from crypto import Identity
    from crypto.team import Signer

    member = Signer(Identity(bytes(range(1, 33)))).public_key.line
    typo = line[:20] + ("a" if line[20] != "a" else "b") + line[21:]
    return {
        "member-key": {"line": member, "expect": "member-key"},
        "typo": {"line": typo, "expect": "typo"},
        "kelvin-sign": {"line": line.replace("k", "\u212a", 1), "expect": "typo"},
    }


def _loose_key_file() -> str:
    """signing-key.txt with its blob's base64 made non-canonical (same bytes)."""
    text = SigningKey(SEED).to_file_text("correct horse battery staple", opslimit=1, memlimit=8192)
    value = text.split("signing-secret-key: ")[1].strip()
    assert value.endswith("=") and not value.endswith("==")
    loose = value[:-2] + chr(ord(value[-2]) + 1) + "="
    assert base64.b64decode(loose) == base64.b64decode(value)
    return text.replace(value, loose)


def write() -> None:
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    for name, (data, _) in build().items():
        (DIRECTORY / name).write_bytes(data)
    (DIRECTORY / "deployment.json").write_text(json.dumps(description(), indent=1) + "\n")
    key_file = SigningKey(SEED).to_file_text(
        "correct horse battery staple", opslimit=1, memlimit=8192
    )
    (DIRECTORY / "signing-key.txt").write_text(key_file)
    (DIRECTORY / "fail-signing-key-not-canonical.txt").write_text(_loose_key_file())
    line = f"signing-public-key: {SigningKey(SEED).public_key.line}\n"
    (DIRECTORY / "fail-signing-key-repeated-field.txt").write_text(key_file + line)


if __name__ == "__main__":
    write()
