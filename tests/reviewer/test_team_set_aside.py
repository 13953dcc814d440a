"""Refused staff events are set aside, not sent forever (issue 17): each machine confirms
what it refused as seen, so `export --again` stops repeating it and purge may delete it,
while the reason stays listed; one signed by a colleague not yet added is kept and merges
once they are. A removed member's events signed after their removal are set aside even when
they arrive in the same bundle as the removal; their earlier ones still count."""

from __future__ import annotations

from pathlib import Path

from team_helpers import make_team, open_into, person_submission, send, write_submissions
from test_team_sync import events_of

from crypto.bundle import hour_stamp
from crypto.team import Signer, seal_event, sign_event
from reviewer import caselog, replies, setaside, sync
from reviewer.caseevent import MEMBER_REMOVED, TEAM_CONVERSATION
from reviewer.caselog import CaseLog, conversation_id
from reviewer.team import Team


def _signed(reviewer, event: caselog.Event) -> bytes:
    blob = sign_event(Signer(reviewer.identity), sync.staff_item(reviewer.vault, event))
    return seal_event(blob, [m.public_key for m in Team(reviewer.vault).members()])


def _event(author: str, clock: int, conv: str, kind: str, payload: dict) -> caselog.Event:
    return caselog.Event(caselog.new_event_id(), author, clock, conv, kind, payload, hour_stamp())


def test_an_event_from_a_colleague_not_yet_added_merges_once_they_are(tmp_path: Path):
    anna, boris, chen = make_team(tmp_path)
    Team(boris.vault).remove(chen.key_id)  # boris has not added chen yet
    envelope, _ = person_submission([anna, boris, chen], "hello")
    start = write_submissions(tmp_path / "s.tar", {"sub": envelope}, {})
    for reviewer in (boris, chen):
        open_into(reviewer, start)
    conv = conversation_id(replies.thread_key(chen.vault.submission("sub")), "sub")
    note = CaseLog(chen.vault).new(chen.key_id, conv, caselog.NOTE, {"text": "I know her"})
    sent = send(chen, tmp_path)
    assert sent is not None
    carried = write_submissions(tmp_path / "e.tar", {}, events_of(sent))
    [entry] = events_of(sent)

    received = open_into(boris, carried)
    assert received is not None and received.merged == 0
    [(_, why)] = received.refused
    assert "not in your team; kept aside, and opened again once your team changes" in why
    assert entry in sync.pending_acks(boris.vault, boris.identity).events  # stops travelling
    # Opening again before the team changed neither merges nor reports it again.
    assert open_into(boris, write_submissions(tmp_path / "n.tar", {}, {})).refused == []

    Team(boris.vault).add(chen.member)
    received = open_into(boris, write_submissions(tmp_path / "m.tar", {}, {}))
    assert received is not None and received.merged == 1 and received.refused == []
    assert [e.id for e in CaseLog(boris.vault).events()] == [note.id]
    assert list((boris.vault.root / "sync" / "set-aside").glob("*.sdenv")) == []


def test_a_damaged_event_is_not_confirmed(tmp_path: Path):
    anna, boris = make_team(tmp_path, ("anna", "boris"))
    envelope, _ = person_submission([anna, boris], "hello")
    open_into(anna, write_submissions(tmp_path / "s.tar", {"sub": envelope}, {}))
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    CaseLog(anna.vault).new(anna.key_id, conv, caselog.NOTE, {"text": "x"})
    sent = send(anna, tmp_path)
    assert sent is not None
    [(entry, data)] = events_of(sent).items()
    path = write_submissions(tmp_path / "e.tar", {}, {entry: data})
    raw = path.read_bytes()
    at = raw.index(data[-64:])
    path.write_bytes(raw[:at] + bytes(64) + raw[at + 64 :])  # the stick, not the server
    received = open_into(boris, path)
    assert received is not None and "could not be read" in received.refused[0][1]
    assert sync.pending_acks(boris.vault, boris.identity) is None  # nothing to confirm


def _removal_bundle(tmp_path: Path):
    """anna removes chen (clock 3); chen signed one note before (clock 2) and one after
    (clock 4); all three travel in one export."""
    anna, boris, chen = make_team(tmp_path)
    envelope, _ = person_submission([anna, boris, chen], "hello")
    start = write_submissions(tmp_path / "s.tar", {"sub": envelope}, {})
    for reviewer in (anna, boris, chen):
        open_into(reviewer, start)
    conv = conversation_id(replies.thread_key(anna.vault.submission("sub")), "sub")
    log = CaseLog(anna.vault)
    log.new(anna.key_id, conv, caselog.NOTE, {"text": "first"})
    log.new(anna.key_id, conv, caselog.NOTE, {"text": "second"})
    removal = log.new(
        anna.key_id, TEAM_CONVERSATION, MEMBER_REMOVED, {"key": chen.key_id, "label": "chen"}
    )
    assert removal.clock == 3
    before = _event(chen.key_id, 2, conv, caselog.NOTE, {"text": "before"})
    after = _event(chen.key_id, 4, conv, caselog.DESTROYED, {"ids": ["sub"]})
    sent = send(anna, tmp_path)
    assert sent is not None
    chens = {"chenbefore": _signed(chen, before), "chenafter": _signed(chen, after)}
    return boris, chen, conv, events_of(sent), chens, (before, after)


def test_a_removed_members_events_after_the_removal_are_set_aside_in_the_same_bundle(
    tmp_path: Path,
):
    boris, _, conv, annas, chens, (before, after) = _removal_bundle(tmp_path)
    received = open_into(boris, write_submissions(tmp_path / "e.tar", {}, {**annas, **chens}))
    assert received is not None and received.removed == ["chen"]
    assert received.refused == [
        ("chenafter", "it was signed by chen after their removal from the team; set aside")
    ]
    assert received.trashed == 0 and boris.vault.contains("sub")  # chen's late destroy
    ids = {e.id for e in CaseLog(boris.vault).events()}
    assert before.id in ids and after.id not in ids
    notes = CaseLog(boris.vault).state()[conv].notes
    assert sorted(n.text for n in notes) == ["before", "first", "second"]
    assert "chenafter" in sync.pending_acks(boris.vault, boris.identity).events


def test_a_late_event_merged_before_the_removal_arrived_is_no_longer_used(tmp_path: Path):
    """Every machine ends the same whatever order the bundles came in."""
    boris, _, _, annas, chens, (before, after) = _removal_bundle(tmp_path)
    open_into(boris, write_submissions(tmp_path / "c.tar", {}, chens))
    assert not boris.vault.contains("sub")  # chen's destroy, in boris's trash
    received = open_into(boris, write_submissions(tmp_path / "a.tar", {}, annas))
    assert received is not None and received.removed == ["chen"]
    why = "it was signed by chen after their removal from the team; no longer used"
    assert (after.id, why) in received.refused
    ids = {e.id for e in CaseLog(boris.vault).events()}
    assert before.id in ids and after.id not in ids
    assert boris.vault.contains("sub")  # the destroy undone with the removal


def test_what_is_kept_aside_is_bounded(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    anna, boris, chen = make_team(tmp_path)
    Team(boris.vault).remove(chen.key_id)
    envelope, _ = person_submission([anna, boris, chen], "hello")
    open_into(chen, write_submissions(tmp_path / "s.tar", {"sub": envelope}, {}))
    conv = conversation_id(replies.thread_key(chen.vault.submission("sub")), "sub")
    for text in ("one", "two"):
        CaseLog(chen.vault).new(chen.key_id, conv, caselog.NOTE, {"text": text})
    sent = send(chen, tmp_path)
    assert sent is not None
    monkeypatch.setattr(setaside, "MAX_KEPT", 1)
    received = open_into(boris, write_submissions(tmp_path / "e.tar", {}, events_of(sent)))
    assert received is not None
    reasons = sorted(why.split("; ", 1)[1] for _, why in received.refused)
    assert reasons == [
        "kept aside, and opened again once your team changes",
        "not kept (too many such events are kept already)",
    ]
    assert len(list((boris.vault.root / "sync" / "set-aside").glob("*.sdenv"))) == 1
    assert len(sync.pending_acks(boris.vault, boris.identity).events) == 2  # both stop
