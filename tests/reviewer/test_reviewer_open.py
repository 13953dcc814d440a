"""Opening bundles into the vault: what lands there, what is refused, and what is said."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest
from reviewer_helpers import HEADER_1, SEALED_CHUNK, Keys, seal, vault_tree, write_bundle

import crypto.sinks
from crypto import Identity
from reviewer import opening
from reviewer.vault import Vault

PHOTO = bytes(range(256)) * 1000  # 256,000 bytes: a multi-chunk envelope


def opened(cli, bundle: Path, keys: Keys):
    return cli("open", bundle, "--passphrase-file", keys.passphrase_file)


@pytest.fixture
def bundle(tmp_path: Path, keys: Keys) -> Path:
    path = tmp_path / "bundle.tar"
    write_bundle(
        path,
        {
            "k3x9": seal([keys.public], "they came at night", [("photo.jpg", "image/jpeg", PHOTO)]),
            "z0a1": seal([keys.public], "second", fields={"contact": "signal"}),
        },
    )
    return path


def test_open_decrypts_every_submission_into_a_private_vault(cli, bundle, keys, vault):
    result = opened(cli, bundle, keys)
    assert result.exit_code == 0, result.output
    assert "2 opened, 0 already in the vault, 0 failed" in result.output
    assert stat.S_IMODE(vault.stat().st_mode) == 0o700
    for path in vault.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    listing = json.loads((vault / "submissions/k3x9/contents.json").read_text())
    photo = next(p for p in listing["parts"] if p["kind"] == "file")
    assert (vault / "submissions/k3x9" / photo["file"]).read_bytes() == PHOTO
    record = json.loads((vault / "index/k3x9.json").read_text())
    assert record["received"] == "2026-11-24T12:00Z" and record["read"] is False
    assert len(record["sha256"]) == 64


def test_opening_the_same_bundle_twice_adds_nothing_and_needs_no_passphrase(
    cli, bundle, keys, vault
):
    assert opened(cli, bundle, keys).exit_code == 0
    before = vault_tree(vault)
    result = cli("open", bundle)  # no passphrase file: a prompt would fail without input
    assert result.exit_code == 0, result.output
    assert "0 opened, 2 already in the vault, 0 failed" in result.output
    assert vault_tree(vault) == before


def test_a_submission_for_someone_else_names_both_key_ids(cli, tmp_path, keys, vault):
    stranger = Identity.generate().public_key
    path = tmp_path / "b.tar"
    write_bundle(path, {"mine": seal([keys.public], "hi"), "theirs": seal([stranger], "x")})
    result = opened(cli, path, keys)
    assert result.exit_code == 1
    assert "FAILED  theirs" in result.output
    flat = " ".join(result.output.split())
    assert stranger.key_id_hex in flat and keys.public.key_id_hex in flat
    assert "1 opened" in flat and "1 failed" in flat
    assert (vault / "submissions/mine").is_dir()
    assert not (vault / "submissions/theirs").exists()
    assert not (vault / "index/theirs.json").exists()


def test_a_second_recipient_opens_it(cli, tmp_path, keys):
    path = tmp_path / "b.tar"
    write_bundle(path, {"both": seal([Identity.generate().public_key, keys.public], "hello")})
    assert opened(cli, path, keys).exit_code == 0
    assert "hello" in cli("show", "both").output


def test_wrong_passphrase_is_one_sentence_and_adds_nothing(cli, bundle, tmp_path, vault):
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    result = cli("open", bundle, "--passphrase-file", wrong)
    assert result.exit_code == 1
    assert "wrong passphrase" in result.output
    assert vault_tree(vault / "submissions") == []


def test_without_any_key_it_says_how_to_give_one(cli, bundle, keys, vault, monkeypatch):
    from click.testing import CliRunner

    from reviewer.cli import main

    result = CliRunner().invoke(
        main, ["open", str(bundle), "--vault", str(vault)], env={"SEALDROP_IDENTITY": None}
    )
    assert result.exit_code == 1
    assert "pass --key" in result.output
    assert cli("config", "--key", keys.key_file).exit_code == 0
    assert opened(cli, bundle, keys).exit_code == 0


def test_an_interrupted_open_leaves_nothing_visible_and_is_cleaned_up(cli, bundle, keys, vault):
    # What a power cut mid-write leaves: DirectorySink's private work directory.
    leftover = vault / "submissions" / ".k3x9.partial-abc123"
    leftover.mkdir(parents=True)
    (leftover / "part-000").write_bytes(b"half a message")
    assert "k3x9" not in cli("list").output
    assert opened(cli, bundle, keys).exit_code == 0
    assert not leftover.exists()


@pytest.mark.parametrize("small", [opening.SMALL, 0], ids=["thread pool", "streamed"])
def test_disk_full_stops_with_one_sentence_and_keeps_nothing_partial(
    cli, tmp_path, keys, vault, monkeypatch, small
):
    monkeypatch.setattr(opening, "SMALL", small)
    path = tmp_path / "b.tar"
    write_bundle(
        path,
        {
            "aaaa": seal([keys.public], "small"),
            "bbbb": seal([keys.public], "x", [("f", "a/b", PHOTO)]),
        },
    )
    real_write = crypto.sinks.DirectorySink.write

    def filling_write(self, data):
        if len(data) > 1000:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, data)

    monkeypatch.setattr(crypto.sinks.DirectorySink, "write", filling_write)
    result = opened(cli, path, keys)
    assert result.exit_code == 1
    assert "is full" in result.output and "run the same open command again" in result.output
    assert vault_tree(vault / "submissions") == ["aaaa", "aaaa/contents.json", "aaaa/part-000"]
    assert not (vault / "index/bbbb.json").exists()
    monkeypatch.setattr(crypto.sinks.DirectorySink, "write", real_write)
    result = opened(cli, path, keys)
    assert "1 opened, 1 already in the vault, 0 failed" in result.output


def test_disk_full_before_the_first_byte_is_the_same_clear_sentence(
    cli, tmp_path, keys, vault, monkeypatch
):
    path = tmp_path / "b.tar"
    write_bundle(path, {"aaaa": seal([keys.public], "small")})

    def full(self, record, new=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Vault, "write_record", full)
    result = opened(cli, path, keys)
    assert result.exit_code == 1
    assert "is full" in result.output
    assert Vault(vault).ids() == []


def test_a_terminal_sees_a_progress_bar(cli, bundle, keys, monkeypatch):
    from rich.console import Console

    from reviewer import vault_cli

    def console(stderr: bool = False) -> Console:
        return Console(stderr=stderr, force_terminal=stderr, width=100)

    monkeypatch.setattr(vault_cli, "console", console)
    result = opened(cli, bundle, keys)
    assert result.exit_code == 0
    assert "opening" in result.stderr and "KiB" in result.stderr  # bar, bytes done/total
    assert "opening" not in result.stdout


def test_two_opens_at_once_do_not_trample_each_other(cli, bundle, keys, vault):
    with Vault(vault).exclusive():  # another open in progress
        result = opened(cli, bundle, keys)
    assert result.exit_code == 1
    assert "another `sealdrop-reviewer open` is using the vault" in result.output
    assert Vault(vault).ids() == []
    assert opened(cli, bundle, keys).exit_code == 0


def test_a_damaged_small_submission_writes_no_plaintext_at_all(
    cli, tmp_path, keys, vault, monkeypatch
):
    """Small envelopes are verified whole in memory first: the sink never sees a byte."""
    whole = seal([keys.public], "secret words", [("f.bin", "a/b", PHOTO)])
    cut = whole[: HEADER_1 + SEALED_CHUNK]  # authentic so far, but its FINAL chunk is missing
    path = tmp_path / "b.tar"
    write_bundle(path, {"cut": cut})  # the manifest matches: damaged before the export
    written = []
    real_begin = crypto.sinks.DirectorySink.begin_part

    def spy(self, info):
        written.append(info)
        real_begin(self, info)

    monkeypatch.setattr(crypto.sinks.DirectorySink, "begin_part", spy)
    result = opened(cli, path, keys)
    assert result.exit_code == 1 and "already cut short on the server" in result.output
    assert written == []
    assert Vault(vault).ids() == []


@pytest.mark.parametrize("version", [1, 2])
def test_a_submission_over_the_small_limit_is_streamed_whole(cli, tmp_path, keys, vault, version):
    big = os.urandom(opening.SMALL + 300_000)  # more chunks than the reading thread's batch
    path = tmp_path / "b.tar"
    envelope = seal(
        [keys.public], "see attached", [("scan.tiff", "image/tiff", big)], version=version
    )
    write_bundle(path, {"big": envelope})
    result = opened(cli, path, keys)
    assert result.exit_code == 0, result.output
    listing = json.loads((vault / "submissions/big/contents.json").read_text())
    scan = next(p for p in listing["parts"] if p["kind"] == "file")
    assert (vault / "submissions/big" / scan["file"]).read_bytes() == big
