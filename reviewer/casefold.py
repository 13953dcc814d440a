"""The fold: case events in, the state of every conversation out.

The fold sorts the events by (clock, author, id), a total order every machine agrees on,
and applies them in that order, so it depends only on the *set* of events: two vaults that
have seen the same events show the same state, whatever order they saw them in.

- status, assignee, urgent: last writer (in that order) wins.
- tags: one last-writer-wins register per tag (an add/remove set): the later of an add and a
  remove of the same tag decides.
- notes and replies written: grow-only, listed in that order.
- destroyed: wins. A destroy wipes the case state ordered before it, and the messages it
  names stay destroyed on every machine whatever arrives later. Events ordered after it
  (a colleague answering a new follow-up) start a fresh case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .caseevent import (
    ASSIGNED,
    DESTROYED,
    KINDS,
    NEW,
    NOTE,
    REPLY_WRITTEN,
    STATUS,
    TAG_ADDED,
    TAG_REMOVED,
    TEAM_KINDS,
    URGENT,
    Event,
)


@dataclass(frozen=True)
class Note:
    id: str
    author: str
    hour: str
    text: str


@dataclass(frozen=True)
class CaseState:
    conversation: str
    status: str = NEW
    urgent: bool = False
    assignee: str = ""
    tags: frozenset[str] = frozenset()
    notes: tuple[Note, ...] = ()
    replies: tuple[tuple[str, str], ...] = ()  # (reply id, author key id), in order
    destroyed: bool = False
    destroyed_ids: frozenset[str] = frozenset()
    status_hour: str = ""  # when the status last changed (retention counts from it)
    seen: frozenset[str] = frozenset()  # the submissions there were when it changed
    last_hour: str = ""
    clock: int = 0


@dataclass
class Building:
    conversation: str
    status: str = NEW
    urgent: bool = False
    assignee: str = ""
    tags: dict[str, bool] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    replies: list[tuple[str, str]] = field(default_factory=list)
    destroyed: bool = False
    destroyed_ids: set[str] = field(default_factory=set)
    status_hour: str = ""
    seen: frozenset[str] = frozenset()
    last_hour: str = ""
    clock: int = 0

    def apply(self, event: Event) -> None:
        payload = event.payload
        self.clock = event.clock
        self.last_hour = max(self.last_hour, event.hour)
        if event.kind == DESTROYED:
            self.destroyed_ids |= set(payload["ids"])
            self.status, self.urgent, self.assignee = NEW, False, ""
            self.tags, self.notes, self.replies = {}, [], []
            self.destroyed, self.status_hour, self.seen = True, event.hour, frozenset()
            return
        if event.kind not in KINDS:
            return  # from a newer version: kept in the log, not understood here
        self.destroyed = False
        if event.kind == STATUS:
            self.status, self.status_hour = payload["status"], event.hour
            self.seen = frozenset(payload.get("seen", []))
        elif event.kind == NOTE:
            self.notes.append(Note(event.id, event.author, event.hour, payload["text"]))
        elif event.kind in (TAG_ADDED, TAG_REMOVED):
            self.tags[payload["tag"]] = event.kind == TAG_ADDED
        elif event.kind == ASSIGNED:
            self.assignee = payload["label"]
        elif event.kind == URGENT:
            self.urgent = payload["urgent"]
        elif event.kind == REPLY_WRITTEN:
            self.replies.append((payload["reply"], event.author))

    @classmethod
    def thaw(cls, state: CaseState) -> Building:
        return cls(
            conversation=state.conversation,
            status=state.status,
            urgent=state.urgent,
            assignee=state.assignee,
            tags=dict.fromkeys(state.tags, True),
            notes=list(state.notes),
            replies=list(state.replies),
            destroyed=state.destroyed,
            destroyed_ids=set(state.destroyed_ids),
            status_hour=state.status_hour,
            seen=state.seen,
            last_hour=state.last_hour,
            clock=state.clock,
        )

    def freeze(self) -> CaseState:
        return CaseState(
            conversation=self.conversation,
            status=self.status,
            urgent=self.urgent,
            assignee=self.assignee,
            tags=frozenset(tag for tag, present in self.tags.items() if present),
            notes=tuple(self.notes),
            replies=tuple(self.replies),
            destroyed=self.destroyed,
            destroyed_ids=frozenset(self.destroyed_ids),
            status_hour=self.status_hour,
            seen=self.seen,
            last_hour=self.last_hour,
            clock=self.clock,
        )


def fold(events: Iterable[Event]) -> dict[str, CaseState]:
    """The state of every conversation the events mention. Pure and deterministic: it
    depends only on the set of events (duplicates of one id count once; should two events
    ever share an id with different contents, the smaller canonical encoding is used)."""
    unique: dict[str, Event] = {}
    for event in events:
        known = unique.get(event.id)
        if known is None or (known != event and event.canonical() < known.canonical()):
            unique[event.id] = event
    building: dict[str, Building] = {}
    for event in sorted(unique.values(), key=lambda e: e.order):
        if event.kind in TEAM_KINDS:
            continue
        case = building.get(event.conversation)
        if case is None:
            case = building[event.conversation] = Building(event.conversation)
        case.apply(event)
    return {cid: case.freeze() for cid, case in building.items()}


def freeze_state(state: CaseState) -> list[Any]:
    return [
        state.status,
        state.urgent,
        state.assignee,
        sorted(state.tags),
        [[n.id, n.author, n.hour, n.text] for n in state.notes],
        [list(r) for r in state.replies],
        state.destroyed,
        sorted(state.destroyed_ids),
        state.status_hour,
        sorted(state.seen),
        state.last_hour,
        state.clock,
    ]


_NOTHING: frozenset[str] = frozenset()


def thaw_state(conversation: str, fields: list[Any]) -> CaseState:
    (
        status,
        urgent,
        assignee,
        tags,
        notes,
        replies,
        destroyed,
        destroyed_ids,
        status_hour,
        seen,
        last_hour,
        clock,
    ) = fields
    # Run for every conversation at every start: most fields are empty, and share one value.
    return CaseState(
        conversation,
        status,
        urgent,
        assignee,
        frozenset(tags) if tags else _NOTHING,
        tuple([Note(*n) for n in notes]) if notes else (),
        tuple([tuple(r) for r in replies]) if replies else (),
        destroyed,
        frozenset(destroyed_ids) if destroyed_ids else _NOTHING,
        status_hour,
        frozenset(seen) if seen else _NOTHING,
        last_hour,
        clock,
    )


def state_of(states: Mapping[str, CaseState], conversation: str) -> CaseState:
    return states.get(conversation) or CaseState(conversation)
