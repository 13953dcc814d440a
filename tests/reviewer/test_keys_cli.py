"""`sealdrop-reviewer keygen` and `fingerprint`, as a person runs them."""

from __future__ import annotations

import stat

from click.testing import CliRunner

from crypto import Identity, PublicKey
from reviewer.cli import main


def test_keygen_writes_protected_identity_and_public_key(tmp_path) -> None:
    passphrase_file = tmp_path / "pass"
    passphrase_file.write_text("a long passphrase\n")
    out = tmp_path / "keys"
    result = CliRunner().invoke(
        main,
        ["keygen", "--out", str(out), "--name", "Alice", "--passphrase-file", str(passphrase_file)],
    )
    assert result.exit_code == 0, result.output
    identity_text = (out / "identity.key").read_text()
    assert stat.S_IMODE((out / "identity.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    identity = Identity.from_file_text(identity_text, "a long passphrase")
    public = PublicKey.from_file(out / "public.key")
    assert public == identity.public_key
    assert "# Alice" in (out / "public.key").read_text()
    assert public.fingerprint in result.output

    again = CliRunner().invoke(
        main, ["keygen", "--out", str(out), "--passphrase-file", str(passphrase_file)]
    )
    assert again.exit_code != 0 and "already exists" in again.output
    assert (out / "identity.key").read_text() == identity_text

    printed = CliRunner().invoke(main, ["fingerprint", str(out / "public.key")])
    assert printed.stdout.strip() == public.fingerprint
    assert "the admin compares it" in printed.stderr  # which of the two fingerprints
    from_identity = CliRunner().invoke(main, ["fingerprint", str(out / "identity.key")])
    assert from_identity.stdout.strip() == public.fingerprint


def test_keygen_prompts_twice_for_the_passphrase(tmp_path) -> None:
    out = tmp_path / "keys"
    result = CliRunner().invoke(main, ["keygen", "--out", str(out)], input="pw one\npw one\n")
    assert result.exit_code == 0, result.output
    mismatch = CliRunner().invoke(
        main, ["keygen", "--out", str(tmp_path / "k2")], input="a\nb\na\nb\n"
    )
    assert mismatch.exit_code != 0 and not (tmp_path / "k2").exists()


def test_fingerprint_of_a_mistyped_key_is_one_clear_line(tmp_path) -> None:
    bad = tmp_path / "bad.pub"
    line = Identity.generate().public_key.line
    bad.write_text(line[:-2] + ("a" if line[-2] != "a" else "b") + line[-1] + "\n")
    result = CliRunner().invoke(main, ["fingerprint", str(bad)])
    assert result.exit_code == 1
    assert "checksum does not match" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
