"""Team sync in detail: reply copies with attachments, retention everywhere (even when the
destroyed submission arrives again), events a member's own team does not reach."""

from __future__ import annotations

import json
import time
from pathlib import Path

from team_helpers import make_team, open_into, person_submission, send, write_submissions

from crypto.bundle import REPLIES, Bundle
from crypto.team import Signer, seal_event, sign_event
from reviewer import caselog, replies, sync, trash
from reviewer.caselog import CaseLog, conversation_id
from reviewer.team import Team


def events_of(path: Path) -> dict[str, bytes]:
    with Bundle(path, REPLIES) as bundle:
        found = {}
        for entry, reader in bundle.event_envelopes():
            found[entry.id] = reader.read()
            reader.check()
        return found


def test_a_reply_reaches_colleagues_with_its_attachment_and_author(tmp_path: Path):
    anna, boris, _ = make_team(tmp_path)
    envelope, _ = person_submission([anna, boris], "help")
    start = write_submissions(tmp_path / "s.tar", {"sub": envelope}, {})
    open_into(anna, start)
    open_into(boris, start)
    photo = tmp_path / "map.png"
    photo.write_bytes(b"\x89PNG" + bytes(range(256)) * 8)
    written = replies.queue_reply(anna.vault, "sub", "the address is on the map", [photo])
    sent = send(anna, tmp_path)
    assert sent is not None
    carried = write_submissions(tmp_path / "e.tar", {}, events_of(sent))
    received = open_into(boris, carried)
    assert (received.merged, received.refused) == (1, [])
    copy = replies.load_reply(boris.vault, written.id)
    assert copy.part_path(copy.message).read_text() == "the address is on the map"
    [attachment] = copy.attachments
    assert copy.part_path(attachment).read_bytes() == photo.read_bytes()
    assert copy.exported is not None  # a colleague's copy is never queued to send again
    [case] = CaseLog(boris.vault).state().values()
    assert case.replies == ((written.id, anna.key_id),)
    # anna's own event comes back: recognised, not sent again.
    assert open_into(anna, carried).own_back == 1
    assert sync.outgoing(anna.vault, anna.identity) == []


def test_retention_destroys_on_every_machine_even_what_arrives_again(tmp_path: Path):
    anna, boris, _ = make_team(tmp_path)
    envelope, _ = person_submission([anna, boris], "spam spam")
    start = write_submissions(tmp_path / "s.tar", {"sub": envelope}, {})
    open_into(anna, start)
    open_into(boris, start)
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    anna.vault.destroy("sub")
    CaseLog(anna.vault).new(anna.key_id, conv, caselog.DESTROYED, {"ids": ["sub"]})
    sent = send(anna, tmp_path)
    assert sent is not None
    carried = write_submissions(tmp_path / "e.tar", {}, events_of(sent))
    assert open_into(boris, carried).trashed == 1  # a colleague's destroy: the trash first
    assert not boris.vault.contains("sub")
    assert [t.id for t in trash.entries(boris.vault)] == ["sub"]
    # The server repeats the export (someone had not confirmed): it stays destroyed.
    again = write_submissions(tmp_path / "again.tar", {"sub": envelope}, events_of(sent))
    open_into(boris, again)
    assert not boris.vault.contains("sub")
    # After the grace period it is gone for good.
    assert trash.expire(boris.vault, time.time() + trash.GRACE_DAYS * 86400 + 3600) == 1
    assert trash.entries(boris.vault) == []


def test_an_event_not_sealed_to_you_is_refused_with_the_reason(tmp_path: Path):
    anna, boris, chen = make_team(tmp_path)
    Team(anna.vault).remove("chen")  # anna's team lacks chen: her events are not sealed to him
    envelope, _ = person_submission([anna, boris, chen], "hello")
    start = write_submissions(tmp_path / "s.tar", {"sub": envelope}, {})
    for reviewer in (anna, chen):
        open_into(reviewer, start)
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    CaseLog(anna.vault).new(anna.key_id, conv, caselog.NOTE, {"text": "hi"})
    sent = send(anna, tmp_path)
    assert sent is not None
    received = open_into(chen, write_submissions(tmp_path / "e.tar", {}, events_of(sent)))
    [(_, why)] = received.refused
    assert "not sealed to your key" in why
    assert CaseLog(chen.vault).events() == []


def test_a_reply_too_large_for_an_event_still_goes_shortened_and_says_so(tmp_path: Path):
    (anna,) = make_team(tmp_path, ("anna",))
    envelope, _ = person_submission([anna], "help")
    open_into(anna, write_submissions(tmp_path / "s.tar", {"sub": envelope}, {}))
    scan = tmp_path / "scan.bin"
    scan.write_bytes(bytes(600 * 1024))
    text = "Мы поможем. " * 120_000  # about 2.6 MB of text
    written = replies.queue_reply(anna.vault, "sub", text, [scan])
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    event = CaseLog(anna.vault).new(anna.key_id, conv, caselog.REPLY_WRITTEN, {"reply": written.id})
    item = sync.staff_item(anna.vault, event)
    assert len(item) <= sync.MAX_ITEM
    copy = json.loads(item)["reply"]
    assert copy["text"].endswith(sync.CUT_NOTE) and copy["text"].startswith("Мы поможем.")
    assert copy["files"] == [
        {"name": "scan.bin", "type": "application/octet-stream", "size": 600 * 1024, "data": None}
    ]
    assert sync.outgoing(anna.vault, anna.identity)  # it signs and seals without complaint


def test_a_damaged_stored_signature_is_made_again_not_sent(tmp_path: Path):
    anna, boris = make_team(tmp_path, ("anna", "boris"))
    envelope, _ = person_submission([anna, boris], "help")
    open_into(anna, write_submissions(tmp_path / "s.tar", {"sub": envelope}, {}))
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    event = CaseLog(anna.vault).new(anna.key_id, conv, caselog.NOTE, {"text": "x"})
    [(_, _, first)] = sync.outgoing(anna.vault, anna.identity)
    stored = anna.vault.root / "sync" / "signed" / event.id
    stored.write_bytes(stored.read_bytes()[:-1] + b"y")  # a crash or a bad sector
    [(_, _, again)] = sync.outgoing(anna.vault, anna.identity)
    carried = write_submissions(tmp_path / "e.tar", {"sub": envelope}, {event.id: again})
    assert open_into(boris, carried).merged == 1
    assert first != again  # sealed afresh, the same signed event inside


def _signed(reviewer, event: caselog.Event) -> bytes:
    """The envelope a member's machine would send for this event (whatever its clock)."""
    blob = sign_event(Signer(reviewer.identity), sync.staff_item(reviewer.vault, event))
    return seal_event(blob, [m.public_key for m in Team(reviewer.vault).members()])


def test_one_event_with_an_absurd_clock_never_stops_a_vault(tmp_path: Path):
    """Issue 17 G4: a member's event with clock 2^53 - 1 is set aside with the reason; the
    other events of the bundle merge and every later change still works. A vault that an
    older version let such an event into works too, and a clock ahead by less than the
    step (an honest colleague's long week offline) is merged."""
    anna, boris, _ = make_team(tmp_path)
    envelope, _ = person_submission([anna, boris], "hello")
    start = write_submissions(tmp_path / "s.tar", {"sub": envelope}, {})
    open_into(anna, start)
    open_into(boris, start)
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    note = CaseLog(anna.vault).new(anna.key_id, conv, caselog.NOTE, {"text": "fine"})

    def event(clock: int, kind: str, payload: dict) -> caselog.Event:
        return caselog.Event(
            caselog.new_event_id(), anna.key_id, clock, conv, kind, payload, note.hour
        )

    poisoned = event((1 << 53) - 1, caselog.STATUS, {"status": "spam", "seen": []})
    carried = {"good": _signed(anna, note), "bad": _signed(anna, poisoned)}
    received = open_into(boris, write_submissions(tmp_path / "e.tar", {}, carried))
    [(entry, why)] = received.refused
    assert entry == "bad" and received.merged == 1
    assert f"its clock ({(1 << 53) - 1}) is too far ahead of this vault's (0)" in why
    assert "set aside" in why
    assert CaseLog(boris.vault).new(boris.key_id, conv, caselog.NOTE, {"text": "ok"}).clock == 2

    # An older version merged it: it is set aside when read, and the vault goes on.
    CaseLog(boris.vault)._write([poisoned])
    log = CaseLog(boris.vault)
    assert log.new(boris.key_id, conv, caselog.URGENT, {"urgent": True}).clock == 3
    assert log.set_aside == 1
    [case] = log.state().values()
    assert case.status != caselog.SPAM and case.urgent

    far = event(3 + (1 << 32), caselog.TAG_ADDED, {"tag": "far"})
    received = open_into(
        boris, write_submissions(tmp_path / "e2.tar", {}, {"far": _signed(anna, far)})
    )
    assert received.refused == [] and received.merged == 1
