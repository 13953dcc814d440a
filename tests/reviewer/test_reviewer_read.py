"""Reading the vault: list, show (untrusted text made harmless), save (safe names, no
overwriting, no executable bits, risk warnings, metadata), destroy."""

from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path

import pytest
from reviewer_helpers import Keys, seal, write_bundle

from reviewer import attachments
from reviewer.attachments import risks, safe_name
from reviewer.vault import Vault

PHOTO = os.urandom(100_000)


def png_with_author(author: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Author\x00" + author)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def filled(cli, tmp_path: Path, keys: Keys) -> Path:
    bundle = tmp_path / "bundle.tar"
    write_bundle(
        bundle,
        {
            "k3x9abc": seal(
                [keys.public],
                "They came at night.\r\n\x1b[2J[bold red]fake[/bold red] :smile:",
                [
                    ("../../etc/passwd", "text/plain", b"not really"),
                    ("photo.jpg", "image/jpeg", PHOTO),
                    ("photo.jpg", "image/jpeg", b"second photo"),
                    ("invoice\u202egpj.exe", "application/x-msdownload", b"MZ\x90\x00"),
                    ("report.docm", "application/octet-stream", b"PK\x03\x04docm"),
                    ("..", "text/html", b"<!DOCTYPE html><script>"),
                    ("holiday.jpg", "image/jpeg", b"\x7fELF\x02\x01"),
                ],
                fields={"contact": "signal: +7\u202e"},
            ),
            "k3y0": seal([keys.public], "short note"),
        },
    )
    result = cli("open", bundle, "--passphrase-file", keys.passphrase_file)
    assert result.exit_code == 0, result.output
    return bundle


def test_list_shows_each_submission_and_whether_it_was_read(cli, filled):
    before = cli("list").output
    rows = {line.split()[1]: line for line in before.splitlines() if "k3" in line}
    assert set(rows) == {"k3x9abc", "k3y0"}
    assert "2026-11-24T12:00Z" in rows["k3y0"] and "unread" in rows["k3y0"]
    assert "│ 7 " in rows["k3x9abc"].replace("  ", " ")
    assert cli("show", "k3y0").exit_code == 0
    after = {line.split()[1]: line for line in cli("list").output.splitlines() if "k3" in line}
    assert "unread" not in after["k3y0"] and "read" in after["k3y0"]
    assert "unread" in after["k3x9abc"]


def test_an_empty_vault_says_how_to_fill_it(cli):
    result = cli("list")
    assert result.exit_code == 0 and "is empty" in result.output


def test_show_prints_untrusted_text_inertly(cli, filled):
    result = cli("show", "k3x9")  # a unique prefix is enough
    assert result.exit_code == 0
    out = result.output
    assert "They came at night.\n" in out
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
    assert "\\u001b[2J[bold red]fake[/bold red] :smile:" in out
    assert "invoice\\u202egpj.exe" in out
    assert "contact: signal: +7\\u202e" in out
    assert "../../etc/passwd" in out
    assert out.count("a program or script") == 2  # the .exe, and the ELF named .jpg
    assert "macros" in out and "web page" in out


def test_show_refuses_unknown_and_ambiguous_ids(cli, filled):
    unknown = cli("show", "zzz")
    assert unknown.exit_code == 1 and "no submission 'zzz'" in unknown.output
    ambiguous = cli("show", "k3")
    assert ambiguous.exit_code == 1 and "2 submissions start with 'k3'" in ambiguous.output


def test_save_copies_identical_bytes_under_safe_names(cli, filled, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.jpg").write_bytes(b"already here")  # must not be overwritten
    os.symlink("/etc/hostname", out / "photo (2).jpg")  # nor written through
    result = cli("save", "k3x9abc", "--out", out, "--keep-metadata")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "passwd",
            "photo.jpg",
            "photo (2).jpg",
            "photo (3).jpg",
            "photo (4).jpg",
            "invoicegpj.exe",
            "report.docm",
            "attachment-6",
            "holiday.jpg",
        ]
    )
    assert (out / "photo.jpg").read_bytes() == b"already here"
    assert (out / "photo (3).jpg").read_bytes() == PHOTO
    assert (out / "photo (4).jpg").read_bytes() == b"second photo"
    assert (out / "passwd").read_bytes() == b"not really"
    assert not (tmp_path / "etc").exists()
    for path in out.iterdir():
        if not path.is_symlink() and path.name != "photo.jpg":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    text = " ".join(result.output.split())
    assert "WARNING: invoicegpj.exe is a program or script" in text
    assert "WARNING: holiday.jpg is a program or script" in text  # judged by its bytes
    assert "WARNING: report.docm is an office document that can hold macros" in text
    assert "WARNING: attachment-6 is a web page" in text
    assert "WARNING: passwd" not in text


def test_strip_metadata_removes_it_from_photos_itself(cli, tmp_path, keys):
    bundle = tmp_path / "b.tar"
    png = png_with_author(b"Natalia Estemirova")
    write_bundle(bundle, {"pic": seal([keys.public], "", [("pic.png", "image/png", png)])})
    cli("open", bundle, "--passphrase-file", keys.passphrase_file)
    result = cli("save", "pic", "--out", tmp_path / "out", "--strip-metadata")
    assert result.exit_code == 0, result.output
    assert "location and camera details removed" in result.output
    cleaned = (tmp_path / "out" / "pic.png").read_bytes()
    assert cleaned.startswith(b"\x89PNG") and b"Estemirova" not in cleaned
    assert b"IDAT" in cleaned and png.endswith(cleaned[-12:])  # image data untouched
    assert stat.S_IMODE((tmp_path / "out" / "pic.png").stat().st_mode) == 0o600


@pytest.mark.skipif(attachments.mat2_path() is None, reason="mat2 is not installed")
def test_strip_metadata_uses_mat2_for_other_files(cli, filled, tmp_path):
    result = cli("save", "k3x9abc", "--out", tmp_path / "out", "--strip-metadata")
    assert result.exit_code == 0, result.output
    assert "mat2" in result.output


def test_without_mat2_photos_are_still_cleaned_and_the_rest_said(
    cli, filled, tmp_path, monkeypatch
):
    monkeypatch.setattr(attachments, "mat2_path", lambda: None)
    assert cli("config", "--strip-metadata").exit_code == 0  # the vault's default
    result = cli("save", "k3x9abc", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "NOT removed: mat2 is not installed" in text
    assert (tmp_path / "out" / "passwd").read_bytes() == b"not really"


def test_destroy_removes_submissions(cli, filled, vault):
    assert cli("destroy", "k3y0", "--yes").exit_code == 0
    assert Vault(vault).ids() == ["k3x9abc"]
    assert not (vault / "index/k3y0.json").exists()
    assert cli("destroy", "--all", input="n\n").exit_code == 1  # declined
    assert cli("destroy", "--all", "--yes").exit_code == 0
    assert Vault(vault).ids() == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\x\\secret.doc", "secret.doc"),
        ("/etc/passwd", "passwd"),
        ("..", "attachment-3"),
        (".bashrc", "bashrc"),
        ("a\x00b\nc\x1b.txt", "abc.txt"),
        ("what?<>|*.txt", "what_____.txt"),
        ("CON.txt", "_CON.txt"),
        ("name. . ", "name"),
        (None, "attachment-3"),
        ("é" * 300 + ".pdf", "é" * 98 + ".pdf"),  # 200 bytes of UTF-8
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name, 2) == expected


def test_risks_by_name_type_and_bytes():
    assert risks("a.txt", "text/plain", b"hello") == []
    assert risks("a.txt", "text/plain", b"#!/bin/sh\n")  # a script in disguise
    assert risks("song.mp3", "audio/mpeg", b"PK\x03\x04")  # a zip in disguise
    assert risks("letter.docx", "application/vnd...", b"PK\x03\x04") == []
    assert risks("x.zip", None, b"")
    assert risks("page", "text/html", b"")


def test_a_huge_message_is_shown_in_part_unless_asked(cli, tmp_path, keys):
    bundle = tmp_path / "b.tar"
    text = "word " * 300_000  # 1.5 MB
    write_bundle(bundle, {"long": seal([keys.public], text + "THE END")})
    cli("open", bundle, "--passphrase-file", keys.passphrase_file)
    short = cli("show", "long").output
    assert "THE END" not in short and "show long --full" in short
    assert "THE END" in cli("show", "long", "--full").output


def test_destroy_finishes_what_an_interrupted_destroy_left(cli, filled, vault):
    (vault / "submissions" / ".k3y0.partial-destroy" / "part-000").parent.mkdir()
    (vault / "submissions" / ".k3y0.partial-destroy" / "part-000").write_bytes(b"old")
    assert cli("destroy", "k3y0", "--yes").exit_code == 0
    assert Vault(vault).ids() == ["k3x9abc"]
    assert not (vault / "submissions" / ".k3y0.partial-destroy").exists()
