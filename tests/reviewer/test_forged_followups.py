"""Issue 10, item 6: a follow-up must prove its codename. One that names a person's reply key
without the proof is not in their thread, and `reply` never answers to a mailbox it named."""

from __future__ import annotations

import io
from pathlib import Path

from reviewer_helpers import Keys

from crypto import Sealer
from crypto.bundle import BundleWriter
from crypto.codename import ReplyKeys, new_codename
from crypto.followup import signed_trailer
from reviewer import replies
from reviewer.vault import Vault


def sealed(keys: Keys, text: str, trailer_of) -> bytes:
    out = io.BytesIO()
    sealer = Sealer(out, [keys.public])
    sealer.add_message(text)
    sealer.close(trailer_of(sealer.header_hash))
    return out.getvalue()


def proven(person: ReplyKeys):
    return lambda header_hash: signed_trailer(person, header_hash)


def plain(reply_key: ReplyKeys, mailbox: str):
    """A trailer without proof, as sealdrop wrote before proofs existed (or a forger)."""
    return lambda header_hash: {"reply_key": reply_key.public_key.line, "mailbox": mailbox}


def open_all(cli, keys: Keys, path: Path, items: list[tuple[str, str, bytes]]) -> None:
    with path.open("wb") as out:
        writer = BundleWriter(out)
        for submission_id, hour, envelope in items:
            writer.add(submission_id, hour, io.BytesIO(envelope), len(envelope))
        writer.close()
    result = cli("open", path, "--passphrase-file", keys.passphrase_file)
    assert result.exit_code == 0, result.output


def exported_mailboxes(cli, tmp_path: Path) -> list[str]:
    from crypto.bundle import Bundle

    out = tmp_path / "replies.tar"
    assert cli("export-replies", "--out", out).exit_code == 0
    with Bundle(out, "replies") as bundle:
        return [entry.mailbox for entry in bundle.entries]


def test_a_forged_follow_up_is_refused_as_thread_member_and_never_answered(
    cli, keys, tmp_path, vault
):
    person, forger = new_codename("ru").derive(), new_codename("en").derive()
    stolen = {**signed_trailer(forger, bytes(32)), "reply_key": person.public_key.line}
    open_all(
        cli,
        keys,
        tmp_path / "in.tar",
        [
            ("first", "2026-11-24T10:00Z", sealed(keys, "помогите", proven(person))),
            ("again", "2026-11-24T11:00Z", sealed(keys, "это снова я", proven(person))),
            ("forged", "2026-11-24T12:00Z", sealed(keys, "answer here", lambda h: stolen)),
            ("bare", "2026-11-24T13:00Z", sealed(keys, "or here", plain(person, forger.mailbox))),
        ],
    )
    shown = cli("show", "first").output
    assert "это снова я" in shown and "answer here" not in shown and "or here" not in shown
    assert "Thread of 2 messages" in shown and "proven: sent with this person's codename" in shown
    assert "Answer with: sealdrop-reviewer reply again" in shown

    for outsider, mark in (("forged", "FORGED"), ("bare", "UNPROVEN and not in this")):
        alone = cli("show", outsider).output
        assert mark in alone and "stands alone" in alone and "помогите" not in alone
        refused = cli("reply", outsider, "--message", "we are here")
        assert refused.exit_code != 0
        assert "nothing was queued" in refused.output or "none is queued" in refused.output
    assert not replies.queued(Vault(vault))

    assert cli("reply", "again", "--message", "мы здесь").exit_code == 0
    assert exported_mailboxes(cli, tmp_path) == [person.mailbox]


def test_threads_from_before_proofs_stay_whole_until_the_person_signs(cli, keys, tmp_path):
    person, forger = new_codename("en").derive(), new_codename("en").derive()
    open_all(
        cli,
        keys,
        tmp_path / "in.tar",
        [
            ("old1", "2026-11-20T10:00Z", sealed(keys, "old one", plain(person, person.mailbox))),
            ("old2", "2026-11-21T10:00Z", sealed(keys, "old two", plain(person, person.mailbox))),
            ("elsewhere", "2026-11-21T11:00Z", sealed(keys, "x", plain(person, forger.mailbox))),
            ("signed", "2026-11-22T10:00Z", sealed(keys, "new client", proven(person))),
            (
                "late",
                "2026-11-23T10:00Z",
                sealed(keys, "unsigned now", plain(person, person.mailbox)),
            ),
        ],
    )
    shown = cli("show", "old1").output
    assert "Thread of 3 messages" in shown
    assert "old two" in shown and "new client" in shown and "unsigned now" not in shown
    assert shown.count("unproven: sent before follow-ups carried a proof") == 2
    assert cli("reply", "old2", "--message", "still here").exit_code == 0
    late = cli("reply", "late", "--message", "?")
    assert late.exit_code != 0 and "none is queued" in late.output
    assert cli("reply", "elsewhere", "--message", "?").exit_code != 0
    assert exported_mailboxes(cli, tmp_path) == [person.mailbox]
