"""Runs every reviewer command once, as a member of staff would, through a given launcher."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from reviewer_helpers import PASSPHRASE, Keys, seal, write_bundle

from crypto import seal_bytes
from crypto.bundle import Bundle
from crypto.codename import Codename

Run = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]
ATTACHMENT = bytes(range(256)) * 300


def exercise_every_command(run: Run, work: Path, keys: Keys, *, with_mat2: bool) -> list[str]:
    """Returns the commands it ran; fails the test if any of them fails."""
    ran: list[str] = []

    def ok(*args: str | Path) -> str:
        argv = [str(a) for a in args]
        result = run(argv)
        assert result.returncode == 0, (argv, result.stdout, result.stderr)
        ran.append(argv[0])
        return result.stdout

    vault = work / "vault"
    work.mkdir(parents=True, exist_ok=True)
    passphrase = work / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    bundle = work / "bundle.tar"
    person = Codename.generate().derive()  # here, not in the reviewer: it has no wordlist
    follow_up = {"reply_key": person.public_key.line, "mailbox": person.mailbox}
    write_bundle(
        bundle,
        {
            "s1": seal([keys.public], "hello from afar", [("a.bin", "x/y", ATTACHMENT)]),
            "s2": seal_bytes([keys.public], "write back to me", trailer=follow_up),
        },
    )
    v = ("--vault", vault)
    ok("keygen", "--out", work / "newkeys", "--passphrase-file", passphrase)
    assert ok("fingerprint", work / "newkeys" / "public.key").count(" ") == 7
    ok("signing-keygen", "--out", work / "org", "--passphrase-file", passphrase)
    statement = ok(
        "sign-deployment",
        *("--key", work / "org" / "signing.key", "--onion", "a" * 56 + ".onion"),
        *("--recipient", work / "newkeys" / "public.key", "--out", work / "statement"),
        *("--passphrase-file", passphrase),
    )
    assert " js/app.js\n" in statement and (work / "statement").read_bytes().count(b"\n") > 8
    ok("config", "--key", keys.key_file, *v)
    assert "2 opened" in ok("open", bundle, "--passphrase-file", passphrase, *v)
    assert "s1" in ok("list", *v)
    assert "hello from afar" in ok("show", "s1", *v)
    ok("reply", "s2", "--message", "we read you", *v)
    ok("status", "s2", "closed", *v)
    ok("note", "s2", "called the lawyer", *v)
    ok("tag", "s2", "legal", *v)
    ok("assign", "s2", "anna", *v)
    ok("urgent", "s1", "yes", *v)
    assert "s2" in ok("search", "lawyer", *v)
    secret = ("--passphrase-file", passphrase)
    ok("team", "card", "--label", "anna", "--out", work / "anna.card", *secret, *v)
    colleague = work / "newkeys" / "public.key"  # keygen's public key file is a member card
    ok("team", "add", colleague, "--label", "boris", "--yes", *v)
    assert "boris" in ok("team", "list", *v)
    ok("team", "export", "--out", work / "team.txt", *v)
    ok("export-replies", "--out", work / "replies.tar", *secret, *v)
    with Bundle(work / "replies.tar", "replies") as replies:
        assert [entry.mailbox for entry in replies.entries] == [person.mailbox]
        # the reply and the "waiting for them" it sets, status, note, tag, assign, urgent
        assert len(replies.events) == 7
    ok("handover", "--to", colleague, "--out", work / "handover.tar", *secret, *v)
    ok("team", "remove", "boris", "--yes", *v)
    strip = "--strip-metadata" if with_mat2 else "--keep-metadata"
    ok("save", "s1", "--out", work / "saved", strip, *v)
    assert (work / "saved" / "a.bin").read_bytes() == ATTACHMENT
    keep = () if with_mat2 else ("--keep-metadata",)
    ok("export-case", "s1", "--out", work / "case", *keep, *v)
    assert "hello from afar" in (work / "case" / "case.txt").read_text()
    ok("destroy", "--all", "--yes", *v)
    assert "The trash is empty." in ok("trash", *v)  # one's own destroys take effect at once
    return ran
