"""A small caseload for the inbox tests: two people in Russian and English (one with a
follow-up), a hostile submission and spam, with fixed ids, hours and reply keys so that names
and screenshots are the same on every run."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner
from reviewer_helpers import Keys

from crypto import Attachment, Identity, PublicKey, seal_bytes
from crypto.bundle import BundleWriter
from reviewer.cli import main

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 600
HOUR = "2026-11-23T05:00Z"  # one night's hour, for one_night
HOSTILE = (
    "\x1b[2J\x1b[31mred alert\x1b[0m [bold red]markup[/bold red] [@click=app.quit]quit[/] "
    "\u202egpj.exe\u202c zero\u200bwidth \u2066isolate\u2069 end"
)


def person(number: int) -> dict[str, str]:
    """A submitter's trailer with a reply key fixed by ``number`` (tests only)."""
    key = Identity(bytes([number]) * 32).public_key
    return {"reply_key": key.line, "mailbox": chr(ord("a") + number) * 26}


def caseload(public: PublicKey) -> dict[str, tuple[str, bytes]]:
    """id -> (hour received, envelope)."""
    return {
        "a1": (
            "2026-11-20T09:00Z",
            seal_bytes(
                [public],
                "Меня преследуют. Нам нужно убежище для двоих, срочно.",
                trailer=person(1),
            ),
        ),
        "b1": (
            "2026-11-21T10:00Z",
            seal_bytes(
                [public],
                "My brother was detained in Grozny last week. We need a lawyer.",
                [Attachment("statement.pdf", "application/pdf", b"%PDF-1.4 statement")],
                trailer=person(2),
            ),
        ),
        "c1": (
            "2026-11-21T14:00Z",
            seal_bytes(
                [public], HOSTILE, [Attachment("photo\u202egpj.exe", "image/jpeg", b"MZ\x90")]
            ),
        ),
        "d1": ("2026-11-22T08:00Z", seal_bytes([public], "BUY CHEAP WATCHES http://spam")),
        "a2": (
            "2026-11-22T18:00Z",
            seal_bytes(
                [public],
                "Мы всё ещё ждём. Где можно найти убежища в Москве?",
                [Attachment("паспорт.jpg", "image/jpeg", JPEG)],
                trailer=person(1),
            ),
        ),
    }


def write_caseload(path: Path, public: PublicKey) -> Path:
    with path.open("wb") as out:
        writer = BundleWriter(out)
        for submission_id, (hour, envelope) in caseload(public).items():
            writer.add(submission_id, hour, io.BytesIO(envelope), len(envelope))
        writer.close()
    return path


def one_night(path: Path, public: PublicKey) -> Path:
    """Two follow-ups of one person in one hour, the urgent one sent first (listed first by
    the server, its id sorting last), and two other people in the same hour."""
    sent = [
        ("zz9", "СРОЧНО: они приехали к дому, что делать?", person(7)),
        ("aa1", "Всё спокойно, мы у родственников, напишите когда сможете.", person(7)),
        ("mm5", "A first message from someone else.", person(8)),
        ("bb2", "And another one, sent last of the night.", person(9)),
    ]
    with path.open("wb") as out:
        writer = BundleWriter(out)
        for submission_id, text, trailer in sent:
            envelope = seal_bytes([public], text, trailer=trailer)
            writer.add(submission_id, HOUR, io.BytesIO(envelope), len(envelope))
        writer.close()
    return path


def opened_vault(directory: Path, keys: Keys) -> Path:
    """A vault with the caseload opened, its identity configured."""
    vault = directory / "vault"
    bundle = write_caseload(directory / "caseload.tar", keys.public)
    runner = CliRunner()
    for args in (
        ["config", "--key", str(keys.key_file)],
        ["open", str(bundle), "--passphrase-file", str(keys.passphrase_file)],
    ):
        result = runner.invoke(main, [*args, "--vault", str(vault)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return vault
