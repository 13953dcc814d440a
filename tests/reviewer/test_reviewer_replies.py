"""Replies (issue 6, reviewer side): `reply` seals to the submitter's reply key, `export-replies`
writes one replies bundle and never the same reply twice, `show` prints the whole thread."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest
from reviewer_helpers import RECEIVED, Keys, seal, write_bundle

from crypto import Attachment, MemorySink, open_envelope, seal_bytes
from crypto.bundle import Bundle, BundleError, BundleWriter
from crypto.codename import Codename, ReplyKeys
from reviewer import replies
from reviewer.vault import Vault

PDF = b"%PDF-1.4 the form to fill in\n" * 3000  # 87 KB: more than one chunk


@pytest.fixture(scope="module")
def person() -> ReplyKeys:
    return Codename.generate().derive()


def trailer(keys: ReplyKeys) -> dict[str, str]:
    return {"reply_key": keys.public_key.line, "mailbox": keys.mailbox}


def bundle_of(path: Path, items: dict[str, tuple[str, bytes]]) -> Path:
    """``items``: id -> (hour received, envelope)."""
    with path.open("wb") as out:
        writer = BundleWriter(out)
        for submission_id, (hour, envelope) in items.items():
            writer.add(submission_id, hour, io.BytesIO(envelope), len(envelope))
        writer.close()
    return path


def open_into_vault(cli, keys: Keys, bundle: Path) -> None:
    result = cli("open", bundle, "--passphrase-file", keys.passphrase_file)
    assert result.exit_code == 0, result.output


def opened(cli, keys: Keys, tmp_path: Path, person: ReplyKeys, text: str = "help us") -> str:
    envelope = seal_bytes([keys.public], text, trailer=trailer(person))
    open_into_vault(cli, keys, bundle_of(tmp_path / "in.tar", {"sub1": (RECEIVED, envelope)}))
    return "sub1"


def read_replies(path: Path, person: ReplyKeys) -> list[tuple[str, object]]:
    found = []
    with Bundle(path, "replies") as bundle:
        for entry, reader in bundle.envelopes():
            contents = open_envelope(reader, [person.identity], MemorySink())
            reader.check()
            found.append((entry, contents))
    return found


def test_a_reply_opens_with_the_codename_and_lands_in_its_mailbox(
    cli, keys, tmp_path, vault, person
):
    opened(cli, keys, tmp_path, person)
    form = tmp_path / "form.pdf"
    form.write_bytes(PDF)
    result = cli("reply", "sub", "--message", "Мы вас слышим. Call us.", "--file", form)
    assert result.exit_code == 0, result.output
    assert "queued reply" in result.output and "1 reply waits" in result.output

    out = tmp_path / "stick" / "replies.tar"
    out.parent.mkdir()
    result = cli("export-replies", "--out", out)
    assert result.exit_code == 0, result.output
    assert "exported 1 reply" in result.output

    [(entry, contents)] = read_replies(out, person)
    assert entry.mailbox == person.mailbox
    assert len(entry.id) == 26 and set(entry.id) <= set("abcdefghijklmnopqrstuvwxyz234567")
    assert contents.message.data.decode() == "Мы вас слышим. Call us."
    [attached] = contents.files
    assert (attached.info.name, attached.info.media_type, attached.data) == (
        "form.pdf",
        "application/pdf",
        PDF,
    )
    assert contents.trailer == {}
    assert contents.key_ids == [person.public_key.key_id_hex]  # the reply key alone
    # The reviewer's own key cannot open it: it is not sealed to staff.
    with pytest.raises(Exception, match="not encrypted"):
        read_replies(out, Codename.generate().derive())


def test_export_is_idempotent_and_nothing_to_export_writes_no_file(
    cli, keys, tmp_path, vault, person
):
    opened(cli, keys, tmp_path, person)
    assert cli("reply", "sub1", "--message", "first").exit_code == 0
    assert cli("reply", "sub1", "--message", "second").exit_code == 0
    first = tmp_path / "r1.tar"
    assert "exported 2 replies" in cli("export-replies", "--out", first).output

    again = cli("export-replies", "--out", tmp_path / "r2.tar")
    assert again.exit_code == 0
    assert "No replies are waiting" in again.output
    assert not (tmp_path / "r2.tar").exists()
    assert list((vault / "outbox").iterdir()) == []  # sealed copies leave with the bundle

    assert cli("reply", "sub1", "--message", "third").exit_code == 0
    third = tmp_path / "r3.tar"
    assert cli("export-replies", "--out", third).exit_code == 0
    texts = [c.message.data for _, c in read_replies(third, person)]
    assert texts == [b"third"]
    assert sorted(c.message.data for _, c in read_replies(first, person)) == [b"first", b"second"]


def test_export_refuses_to_overwrite_a_file_and_keeps_the_replies_queued(
    cli, keys, tmp_path, vault, person
):
    opened(cli, keys, tmp_path, person)
    assert cli("reply", "sub1", "--message", "hello").exit_code == 0
    taken = tmp_path / "taken.tar"
    taken.write_bytes(b"someone else's file")
    result = cli("export-replies", "--out", taken)
    assert result.exit_code != 0
    assert "already exists" in result.output and "nothing was exported" in result.output
    assert taken.read_bytes() == b"someone else's file"
    result = cli("export-replies", "--out", tmp_path / "missing-dir" / "r.tar")
    assert result.exit_code != 0 and "nothing was exported" in result.output
    assert len(replies.queued(Vault(vault))) == 1
    assert cli("export-replies", "--out", tmp_path / "ok.tar").exit_code == 0


def test_the_message_can_come_from_standard_input(cli, keys, tmp_path, person):
    opened(cli, keys, tmp_path, person)
    result = cli("reply", "sub1", input="typed into a pipe\nsecond line\n")
    assert result.exit_code == 0, result.output
    assert cli("export-replies", "--out", tmp_path / "r.tar").exit_code == 0
    [(_, contents)] = read_replies(tmp_path / "r.tar", person)
    assert contents.message.data == b"typed into a pipe\nsecond line\n"


def test_the_editor_text_above_the_cut_line_is_the_reply(cli, keys, tmp_path, person, monkeypatch):
    opened(cli, keys, tmp_path, person)
    from reviewer import reply_cli

    monkeypatch.setattr(reply_cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(
        reply_cli.click, "edit", lambda text, **kw: "written in the editor\n" + text
    )
    assert cli("reply", "sub1").exit_code == 0
    monkeypatch.setattr(reply_cli.click, "edit", lambda text, **kw: None)
    cancelled = cli("reply", "sub1")
    assert cancelled.exit_code != 0 and "nothing was queued" in cancelled.output
    assert cli("export-replies", "--out", tmp_path / "r.tar").exit_code == 0
    [(_, contents)] = read_replies(tmp_path / "r.tar", person)
    assert contents.message.data == b"written in the editor"


def test_a_submission_without_a_reply_key_cannot_be_answered(cli, keys, tmp_path, vault):
    bundle = tmp_path / "old.tar"
    write_bundle(bundle, {"old1": seal([keys.public], "no follow-up wanted")})
    open_into_vault(cli, keys, bundle)
    result = cli("reply", "old1", "--message", "hello?")
    assert result.exit_code != 0
    assert (
        "submission old1 has no reply key: the person did not ask for replies or used an "
        "older sealdrop" in result.output
    )
    assert "Traceback" not in result.output
    assert replies.queued(Vault(vault)) == []


def test_a_malformed_reply_key_is_refused(cli, keys, tmp_path, person):
    line = person.public_key.line
    typo = line[:20] + ("b" if line[20] != "b" else "c") + line[21:]  # the checksum catches it
    bad = {"reply_key": typo, "mailbox": person.mailbox}
    envelope = seal_bytes([keys.public], "x", trailer=bad)
    open_into_vault(cli, keys, bundle_of(tmp_path / "b.tar", {"bad1": (RECEIVED, envelope)}))
    result = cli("reply", "bad1", "--message", "hello")
    assert result.exit_code != 0 and "malformed reply key or mailbox" in result.output


@pytest.mark.parametrize("problem", ["empty", "missing file", "directory", "unknown id"])
def test_bad_replies_are_one_sentence_and_queue_nothing(
    cli, keys, tmp_path, vault, person, problem
):
    opened(cli, keys, tmp_path, person)
    args = {
        "empty": ["sub1", "--message", "  \n "],
        "missing file": ["sub1", "--message", "x", "--file", tmp_path / "nope.pdf"],
        "directory": ["sub1", "--message", "x", "--file", tmp_path],
        "unknown id": ["zzz", "--message", "x"],
    }[problem]
    result = cli("reply", *args)
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert replies.queued(Vault(vault)) == []
    assert [p.name for p in (vault / "replies").iterdir()] == []
    assert [p.name for p in (vault / "outbox").iterdir()] == []


def test_replies_are_private_files_in_the_vault(cli, keys, tmp_path, vault, person):
    opened(cli, keys, tmp_path, person)
    attachment = tmp_path / "a.txt"
    attachment.write_text("attached")
    assert cli("reply", "sub1", "--message", "private", "--file", attachment).exit_code == 0
    for path in [vault / "replies", vault / "outbox", *(vault / "replies").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    [envelope] = (vault / "outbox").iterdir()
    assert stat.S_IMODE(envelope.stat().st_mode) == 0o600
    assert b"private" not in envelope.read_bytes()  # the outbox holds only the sealed form


def test_a_failure_while_sealing_leaves_nothing(cli, keys, tmp_path, vault, person, monkeypatch):
    opened(cli, keys, tmp_path, person)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(replies, "_write_new", broken)
    result = cli("reply", "sub1", "--message", "x")
    assert result.exit_code != 0 and "nothing was queued" in result.output
    assert list((vault / "replies").iterdir()) == [] and list((vault / "outbox").iterdir()) == []


def test_the_thread_shows_submissions_and_replies_in_order(
    cli, keys, tmp_path, vault, person, monkeypatch
):
    monkeypatch.setattr(replies, "hour_stamp", lambda: "2026-11-24T13:00Z")
    other = Codename.generate().derive()
    first = seal_bytes([keys.public], "first message \x1b[2J", trailer=trailer(person))
    unrelated = seal_bytes([keys.public], "someone else entirely", trailer=trailer(other))
    open_into_vault(
        cli,
        keys,
        bundle_of(
            tmp_path / "one.tar",
            {"aaa1": ("2026-11-24T12:00Z", first), "ccc1": ("2026-11-24T12:00Z", unrelated)},
        ),
    )
    assert cli("reply", "aaa1", "--message", "our answer").exit_code == 0
    follow_up = seal_bytes(
        [keys.public],
        "follow-up after your answer",
        [Attachment("id.jpg", "image/jpeg", b"\xff\xd8\xff")],
        trailer=trailer(person),
    )
    earliest = seal_bytes([keys.public], "an older one, opened late", trailer=trailer(person))
    open_into_vault(
        cli,
        keys,
        bundle_of(
            tmp_path / "two.tar",
            # the follow-up shares the reply's hour: it comes after it, having entered later
            {"bbb1": ("2026-11-24T13:00Z", follow_up), "ddd1": ("2026-11-24T11:00Z", earliest)},
        ),
    )
    reply_id = replies.replies(Vault(vault))[0].id

    result = cli("show", "bbb1")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Thread of 4 messages" in text
    positions = [
        text.index(s)
        for s in (
            "an older one, opened late",
            "first message",
            "our answer",
            "follow-up after your answer",
        )
    ]
    assert positions == sorted(positions), text
    assert "someone else entirely" not in text and "ccc1" not in text
    assert "▶ Submission bbb1" in text and text.count("▶ ") == 1
    assert "\x1b" not in text and "\\u001b[2J" in text  # untrusted text stays inert
    assert f"Reply {reply_id} from staff" in text and "waiting for" in text
    assert "id.jpg" in text

    by_reply = cli("show", reply_id[:10]).output  # a reply's id (or prefix) shows it too
    assert f"▶ Reply {reply_id}" in by_reply and by_reply.count("▶ ") == 1
    assert "Thread of 4 messages" in by_reply

    assert cli("export-replies", "--out", tmp_path / "r.tar").exit_code == 0
    assert "exported 2026-11-24T13:00Z" in cli("show", "aaa1").output
    # A lone submission is still shown by the plain view.
    assert "Thread" not in cli("show", "ccc1").output


def test_the_python_api_for_the_end_to_end_test(cli, keys, tmp_path, vault, person):
    opened(cli, keys, tmp_path, person)
    attachment = tmp_path / "note.txt"
    attachment.write_bytes(b"see attached")
    reply = replies.queue_reply(Vault(vault), "sub1", "from python", [attachment])
    assert reply.in_reply_to == "sub1" and reply.mailbox == person.mailbox
    out = tmp_path / "api.tar"
    assert replies.export_replies(Vault(vault), out) == [reply.id]
    assert replies.export_replies(Vault(vault), tmp_path / "again.tar") == []
    assert not (tmp_path / "again.tar").exists()
    [(entry, contents)] = read_replies(out, person)
    assert entry.id == reply.id and contents.files[0].data == b"see attached"


def test_a_replies_bundle_is_not_opened_as_submissions(cli, keys, tmp_path, person):
    opened(cli, keys, tmp_path, person)
    assert cli("reply", "sub1", "--message", "x").exit_code == 0
    out = tmp_path / "r.tar"
    assert cli("export-replies", "--out", out).exit_code == 0
    result = cli("open", out, "--passphrase-file", keys.passphrase_file)
    assert result.exit_code != 0 and "sealdrop-admin import-replies" in result.output
    with pytest.raises(BundleError):
        Bundle(out)


def test_the_reviewer_never_needs_the_wordlist(cli, keys, tmp_path, person, monkeypatch):
    from crypto import codename

    opened(cli, keys, tmp_path, person)
    codename.legacy_wordlist.cache_clear()
    codename._legacy_index.cache_clear()
    monkeypatch.setitem(sys.modules, "mnemonic", None)  # importing it now fails
    assert cli("reply", "sub1", "--message", "x").exit_code == 0
    assert cli("show", "sub1").exit_code == 0
    assert cli("export-replies", "--out", tmp_path / "r.tar").exit_code == 0
    with pytest.raises(ImportError):
        codename.legacy_wordlist()
    codename.legacy_wordlist.cache_clear()


def test_destroy_takes_the_replies_of_a_thread_with_its_last_submission(
    cli, keys, tmp_path, vault, person
):
    opened(cli, keys, tmp_path, person)
    assert cli("reply", "sub1", "--message", "sent already").exit_code == 0
    assert cli("export-replies", "--out", tmp_path / "r.tar").exit_code == 0
    assert cli("reply", "sub1", "--message", "not sent yet").exit_code == 0
    result = cli("destroy", "sub1", "--yes")
    assert result.exit_code == 0 and "and 1 reply you wrote to them" in result.output
    [kept] = replies.replies(Vault(vault))
    assert kept.exported is None  # a queued reply still goes out
    assert (vault / "outbox" / f"{kept.id}.sdenv").exists()

    opened(cli, keys, tmp_path, person)
    result = cli("destroy", "--all", "--yes")
    assert result.exit_code == 0 and "and 1 reply you wrote" in result.output
    assert list((vault / "replies").iterdir()) == [] and list((vault / "outbox").iterdir()) == []


def test_two_reply_commands_at_once_do_not_trample_each_other(cli, keys, tmp_path, vault, person):
    opened(cli, keys, tmp_path, person)
    with replies._exclusive(Vault(vault)):  # as if another reply were being written
        busy = cli("reply", "sub1", "--message", "x")
        assert busy.exit_code != 0 and "wait for it to finish" in busy.output
        busy = cli("export-replies", "--out", tmp_path / "r.tar")
        assert busy.exit_code != 0 and "wait for it to finish" in busy.output
    assert cli("reply", "sub1", "--message", "x").exit_code == 0


def test_a_long_message_in_a_thread_is_shown_in_part_unless_full(cli, keys, tmp_path, person):
    long = "start " + "x" * (1 << 20) + " THE END"
    envelope = seal_bytes([keys.public], long, trailer=trailer(person))
    open_into_vault(cli, keys, bundle_of(tmp_path / "b.tar", {"big1": (RECEIVED, envelope)}))
    assert cli("reply", "big1", "--message", "got it").exit_code == 0
    part = cli("show", "big1").output
    assert "start" in part and "THE END" not in part and "See all of it with --full" in part
    whole = cli("show", "big1", "--full").output
    assert "THE END" in whole and "--full)" not in whole


def test_a_damaged_reply_record_stops_export_with_what_to_do(cli, keys, tmp_path, vault, person):
    opened(cli, keys, tmp_path, person)
    assert cli("reply", "sub1", "--message", "x").exit_code == 0
    [reply] = replies.replies(Vault(vault))
    (reply.path / "contents.json").write_text('{"id": "')
    result = cli("export-replies", "--out", tmp_path / "r.tar")
    assert result.exit_code != 0 and "is damaged; delete the folder" in result.output
    assert not (tmp_path / "r.tar").exists()
