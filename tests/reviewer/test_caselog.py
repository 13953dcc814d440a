"""The case log: append/merge are idempotent, and the fold converges whatever the order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer import caselog
from reviewer.caselog import CaseLog, CaseLogError, Event, fold
from reviewer.vault import Vault

AUTHORS = ["a" * 16, "b" * 16, "c" * 16]
CONVERSATIONS = ["conv1", "conv2"]


def _payload(kind: str, draw: st.DrawFn) -> dict:
    if kind == caselog.STATUS:
        return {"status": draw(st.sampled_from(caselog.STATUSES))}
    if kind == caselog.NOTE:
        return {"text": draw(st.sampled_from(["позвоните", "call back", "safe house"]))}
    if kind in (caselog.TAG_ADDED, caselog.TAG_REMOVED):
        return {"tag": draw(st.sampled_from(["legal", "medical", "срочно"]))}
    if kind == caselog.ASSIGNED:
        return {"label": draw(st.sampled_from(["", "anna", "ruslan"]))}
    if kind == caselog.URGENT:
        return {"urgent": draw(st.booleans())}
    if kind == caselog.REPLY_WRITTEN:
        return {"reply": draw(st.sampled_from(["r1", "r2"]))}
    if kind == caselog.TEMPLATE:
        text = draw(st.sampled_from(["", "We read you.", "Мы ответим"]))
        return {"template": "t" * 26, "title": "First answer", "text": text}
    return {"ids": draw(st.lists(st.sampled_from(["s1", "s2"]), max_size=2))}


@st.composite
def logs(draw: st.DrawFn, author: str) -> list[Event]:
    """One machine's own history: its clock rises, sometimes jumping (it saw others' events)."""
    events, clock = [], 0
    for _ in range(draw(st.integers(0, 12))):
        clock += draw(st.integers(1, 3))
        kind = draw(st.sampled_from(caselog.KINDS))
        events.append(
            Event(
                id=caselog.new_event_id(),
                author=author,
                clock=clock,
                conversation=draw(st.sampled_from(CONVERSATIONS)),
                kind=kind,
                payload=_payload(kind, draw),
                hour="2026-11-28T02:00Z",
            )
        )
    return events


@st.composite
def machines(draw: st.DrawFn) -> list[list[Event]]:
    count = draw(st.integers(2, 3))
    return [draw(logs(AUTHORS[i])) for i in range(count)]


@given(machines(), st.randoms(use_true_random=False), st.data())
@settings(max_examples=150, deadline=None)
def test_any_interleaving_with_duplicates_folds_to_the_same_state(
    histories: list[list[Event]], rng, data: st.DataObject
) -> None:
    everything = [e for history in histories for e in history]
    expected = fold(everything)
    # An interleaving that keeps each machine's own order, plus repeats of any events.
    queues = [list(h) for h in histories]
    interleaved: list[Event] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        interleaved.append(queue.pop(0))
    repeats = data.draw(st.lists(st.sampled_from(everything), max_size=5)) if everything else []
    assert fold(interleaved + repeats) == expected
    shuffled = everything + repeats
    rng.shuffle(shuffled)
    assert fold(shuffled) == expected
    assert fold(reversed(shuffled)) == expected


@given(machines(), st.permutations(range(3)))
@settings(max_examples=60, deadline=None)
def test_merging_logs_into_vaults_in_any_order_converges(
    histories: list[list[Event]], order: list[int]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        first, second = CaseLog(Vault(one)), CaseLog(Vault(two))
        for history in histories:
            first.merge(history)
        for index in order:
            if index < len(histories):
                second.merge(reversed(histories[index]))
                second.merge(histories[index])  # again: idempotent
        assert first.state() == second.state() == fold(e for h in histories for e in h)
        assert len(second.events()) == sum(len(h) for h in histories)


def _event(clock: int, kind: str, payload: dict, author: str = "a" * 16) -> Event:
    return Event(caselog.new_event_id(), author, clock, "conv1", kind, payload, "2026-11-28T02:00Z")


def test_last_writer_wins_by_clock_then_author() -> None:
    state = fold(
        [
            _event(2, caselog.STATUS, {"status": "closed"}, "a" * 16),
            _event(2, caselog.STATUS, {"status": "spam"}, "b" * 16),
            _event(1, caselog.STATUS, {"status": "waiting"}, "c" * 16),
        ]
    )["conv1"]
    assert state.status == "spam"  # clock 2 beats 1; at equal clocks author b beats a


def test_tags_are_an_add_remove_set() -> None:
    state = fold(
        [
            _event(1, caselog.TAG_ADDED, {"tag": "legal"}),
            _event(2, caselog.TAG_REMOVED, {"tag": "legal"}),
            _event(3, caselog.TAG_ADDED, {"tag": "medical"}),
            _event(4, caselog.TAG_ADDED, {"tag": "legal"}),
            _event(5, caselog.TAG_REMOVED, {"tag": "medical"}),
        ]
    )["conv1"]
    assert state.tags == frozenset({"legal"})


def test_destroy_wipes_what_came_before_and_its_ids_stay_destroyed() -> None:
    state = fold(
        [
            _event(1, caselog.NOTE, {"text": "private"}),
            _event(2, caselog.URGENT, {"urgent": True}),
            _event(3, caselog.DESTROYED, {"ids": ["s1"]}),
        ]
    )["conv1"]
    assert state.destroyed and state.notes == () and not state.urgent
    later = fold(
        [
            _event(3, caselog.DESTROYED, {"ids": ["s1"]}),
            _event(4, caselog.NOTE, {"text": "new follow-up"}),
        ]
    )["conv1"]
    assert not later.destroyed and later.destroyed_ids == {"s1"}
    assert [n.text for n in later.notes] == ["new follow-up"]


def test_new_events_take_the_next_clock_and_survive_reopening(tmp_path: Path) -> None:
    log = CaseLog(Vault(tmp_path / "v"))
    log.merge([_event(7, caselog.NOTE, {"text": "from a colleague"}, "b" * 16)])
    mine = log.new("a" * 16, "conv1", caselog.STATUS, {"status": "waiting"})
    assert mine.clock == 8
    again = CaseLog(Vault(tmp_path / "v"))
    assert again.state()["conv1"].status == "waiting"
    assert not again.append(mine)  # already there


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_event(tmp_path: Path) -> None:
    log = CaseLog(Vault(tmp_path / "v"))
    log.new("a" * 16, "conv1", caselog.NOTE, {"text": "one"})
    with log.path.open("ab") as handle:
        handle.write(b'{"v": 1, "id": "tor')
    assert [n.text for n in CaseLog(log.vault).state()["conv1"].notes] == ["one"]
    log.new("a" * 16, "conv1", caselog.NOTE, {"text": "two"})
    assert [n.text for n in CaseLog(log.vault).state()["conv1"].notes] == ["one", "two"]


def test_export_import_round_trip_and_refusals(tmp_path: Path) -> None:
    source = CaseLog(Vault(tmp_path / "a"))
    source.new("a" * 16, "conv1", caselog.TAG_ADDED, {"tag": "юрист"})
    records = json.loads(json.dumps(source.export()))
    assert records[0]["v"] == caselog.VERSION
    target = CaseLog(Vault(tmp_path / "b"))
    assert len(target.import_records(records)) == 1
    assert target.import_records(records) == []
    assert target.state() == source.state()
    changed = dict(records[0], payload={"tag": "other"})
    with pytest.raises(CaseLogError, match="differs"):
        target.import_records([changed])
    for bad in (
        dict(records[0], v=2),
        dict(records[0], clock=0),
        dict(records[0], author="nobody"),
        dict(records[0], kind=caselog.STATUS, payload={"status": "gone"}),
        dict(records[0], extra=1),
        "not an object",
    ):
        with pytest.raises(CaseLogError):
            caselog.from_record(bad)


def test_conversation_ids_are_stable_and_distinct() -> None:
    key = "sdpub1exampleexampleexample"
    assert caselog.conversation_id(key, "s1") == caselog.conversation_id(key, "s2")
    assert caselog.conversation_id(key, "s1") != caselog.conversation_id(key + "x", "s1")
    assert caselog.conversation_id(None, "s1") == "s1"


def test_the_kept_state_is_always_the_fold_of_the_log(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "v")
    log = CaseLog(vault)
    log.merge([_event(5, caselog.TAG_ADDED, {"tag": "legal"}, "b" * 16)])
    assert log.state() == fold(log.events())  # folded, then kept
    log.new("a" * 16, "conv1", caselog.NOTE, {"text": "one"})  # applied to what was kept
    log.new("a" * 16, "conv1", caselog.TAG_REMOVED, {"tag": "legal"})
    log.new("a" * 16, "conv2", caselog.URGENT, {"urgent": True})
    fresh = CaseLog(vault)  # reads state.json
    assert fresh.state() == log.state() == fold(CaseLog(vault).events())
    assert fresh.next_clock() == 9
    log.merge([_event(2, caselog.STATUS, {"status": "closed"}, "c" * 16)])  # an older event
    assert CaseLog(vault).state() == fold(log.events())
    assert CaseLog(vault).state()["conv1"].status == "closed"
    (log.directory / "state.json").write_text("{damaged")
    assert CaseLog(vault).state() == fold(log.events())
