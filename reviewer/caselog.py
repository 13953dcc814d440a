"""Case state as an append-only log of events, and the fold that turns them into state.

Every change staff make to a conversation (its status, a note, a tag, who has it, that a
reply was written, that it was destroyed) is an ``Event``: a random id, its author's key id
(as envelopes name keys: the fingerprint's first 8 bytes, hex), a Lamport clock, the
conversation, a kind, a small JSON payload and the hour it was made. Events are never
changed or removed; the current state is ``fold(events)``.

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

Storage: ``<vault>/caselog/events.jsonl``, one event per line in the export format
(``to_record``), appended under a lock and fsynced. Plaintext, like the rest of the vault,
which relies on disk encryption (docs/REVIEWER.md). A torn last line (a power cut mid-write)
was never acknowledged and is ignored.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crypto import PublicKey, SealdropError
from crypto.bundle import HOUR_PATTERN, ID_PATTERN, hour_stamp

from .vault import Vault, VaultError, write_atomically

VERSION = 1

NEW, NEEDS_REPLY, WAITING, CLOSED, SPAM = "new", "needs-reply", "waiting", "closed", "spam"
STATUSES = (NEW, NEEDS_REPLY, WAITING, CLOSED, SPAM)

STATUS = "status"
NOTE = "note"
TAG_ADDED = "tag-added"
TAG_REMOVED = "tag-removed"
ASSIGNED = "assigned"
URGENT = "urgent"
REPLY_WRITTEN = "reply-written"
DESTROYED = "destroyed"
TEMPLATE = "template"  # the team's reply templates (reviewer.templates); not a case's state
KINDS = (STATUS, NOTE, TAG_ADDED, TAG_REMOVED, ASSIGNED, URGENT, REPLY_WRITTEN, DESTROYED, TEMPLATE)

MAX_NOTE = 64 * 1024
MAX_LABEL = 64
MAX_RECORD = 256 * 1024
_EVENT_ID = re.compile(r"[a-z2-7]{26}")
_AUTHOR = re.compile(r"[0-9a-f]{16}")
_CONVERSATION = re.compile(r"[a-z0-9]{1,64}")
# White space as FORMAT.md §8.2 (and §5.2) lists it, not str.strip's: every reader agrees.
_BLANK = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*")


class CaseLogError(VaultError):
    """An event is malformed or the log cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Event:
    id: str
    author: str
    clock: int
    conversation: str
    kind: str
    payload: Mapping[str, Any]
    hour: str

    @property
    def order(self) -> tuple[int, str, str]:
        return (self.clock, self.author, self.id)

    def to_record(self) -> dict[str, Any]:
        """The event as a JSON-ready record, the form it is stored, exported and sealed in."""
        return {
            "v": VERSION,
            "id": self.id,
            "author": self.author,
            "clock": self.clock,
            "conversation": self.conversation,
            "kind": self.kind,
            "hour": self.hour,
            "payload": dict(self.payload),
        }

    def canonical(self) -> bytes:
        return json.dumps(self.to_record(), sort_keys=True, ensure_ascii=False).encode("utf-8")


def from_record(record: Any, *, measured: bool = True) -> Event:
    """Checks an exported record strictly and returns its event (CaseLogError if it is bad).
    Unknown kinds from a newer version are kept (and ignored by the fold). ``measured=False``
    skips the payload size check, for the vault's own log (checked when it was written)."""
    if not isinstance(record, dict):
        raise CaseLogError("a case event is not a JSON object; it was not imported")
    if record.get("v") != VERSION:
        raise CaseLogError(
            f"a case event has version {record.get('v')!r}, this sealdrop reads version "
            f"{VERSION}; update sealdrop on this computer"
        )
    expected = {"v", "id", "author", "clock", "conversation", "kind", "hour", "payload"}
    if set(record) != expected:
        raise CaseLogError("a case event has missing or unexpected fields; it was not imported")
    event = Event(
        id=record["id"],
        author=record["author"],
        clock=record["clock"],
        conversation=record["conversation"],
        kind=record["kind"],
        payload=record["payload"],
        hour=record["hour"],
    )
    _check(event, measured=measured)
    return event


def _trusted(record: Any) -> Event:
    """An event of the vault's own log, checked in full when it was appended: only its shape
    is checked again (a damaged line must not reach the fold)."""
    try:
        event = Event(
            record["id"],
            record["author"],
            record["clock"],
            record["conversation"],
            record["kind"],
            record["payload"],
            record["hour"],
        )
    except (KeyError, TypeError):
        raise CaseLogError("an event in the log is not a complete record") from None
    if record.get("v") != VERSION or type(event.clock) is not int:
        raise CaseLogError("an event in the log has an unknown version or a bad clock")
    if not isinstance(event.payload, dict) or (event.kind in KINDS and not _fields(event)):
        raise CaseLogError("an event in the log lacks what its kind needs")
    return event


_NEEDED = {
    STATUS: "status",
    NOTE: "text",
    TAG_ADDED: "tag",
    TAG_REMOVED: "tag",
    ASSIGNED: "label",
    URGENT: "urgent",
    REPLY_WRITTEN: "reply",
    DESTROYED: "ids",
    TEMPLATE: "template",
}


def _fields(event: Event) -> bool:
    return _NEEDED[event.kind] in event.payload


def _check(event: Event, *, measured: bool = True) -> None:
    def bad(what: str) -> CaseLogError:
        return CaseLogError(f"a case event has {what}; it was not imported")

    if not isinstance(event.id, str) or not _EVENT_ID.fullmatch(event.id):
        raise bad("a malformed id")
    if not isinstance(event.author, str) or not _AUTHOR.fullmatch(event.author):
        raise bad("a malformed author key id")
    if type(event.clock) is not int or not 0 < event.clock < 1 << 53:
        raise bad("a clock that is not a positive integer")
    if not isinstance(event.conversation, str) or not _CONVERSATION.fullmatch(event.conversation):
        raise bad("a malformed conversation id")
    if not isinstance(event.hour, str) or not HOUR_PATTERN.fullmatch(event.hour):
        raise bad("a time that is not an hour stamp")
    if not isinstance(event.kind, str) or not re.fullmatch(r"[a-z-]{1,32}", event.kind):
        raise bad("a malformed kind")
    if not isinstance(event.payload, Mapping):
        raise bad("a payload that is not an object")
    payload = event.payload
    if measured and len(json.dumps(dict(payload), ensure_ascii=False).encode()) > MAX_RECORD:
        raise bad("a payload over 256 KiB")
    if event.kind == STATUS and payload.get("status") not in STATUSES:
        raise bad("an unknown status")
    if event.kind == STATUS and not _ids(payload.get("seen", [])):
        raise bad("a malformed list of the messages seen")
    if event.kind == NOTE and not _text(payload.get("text"), MAX_NOTE):
        raise bad("a note that is empty or over 64 KiB")
    if event.kind in (TAG_ADDED, TAG_REMOVED) and not _text(payload.get("tag"), MAX_LABEL):
        raise bad("an empty or overlong tag")
    if event.kind == ASSIGNED and not _text(payload.get("label"), MAX_LABEL, empty=True):
        raise bad("an overlong assignee label")
    if event.kind == URGENT and not isinstance(payload.get("urgent"), bool):
        raise bad("an urgent flag that is not true or false")
    if event.kind == REPLY_WRITTEN and not _is_id(payload.get("reply")):
        raise bad("a malformed reply id")
    if event.kind == DESTROYED and not _ids(payload.get("ids")):
        raise bad("a malformed list of destroyed ids")
    if event.kind == TEMPLATE and not (
        isinstance(payload.get("template"), str)
        and _EVENT_ID.fullmatch(payload["template"])
        and _text(payload.get("title"), MAX_LABEL)
        and _text(payload.get("text"), MAX_NOTE, empty=True)
    ):
        raise bad("a malformed template (an id, a title of 1 to 64 characters, a text)")


def _text(value: Any, limit: int, empty: bool = False) -> bool:
    if not isinstance(value, str) or len(value) > limit:
        return False
    return empty or not _BLANK.fullmatch(value)


def _ids(value: Any) -> bool:
    return isinstance(value, list) and len(value) <= 10_000 and all(_is_id(i) for i in value)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.fullmatch(value))


def new_event_id() -> str:
    """128 random bits, lowercase base32, like reply ids: says nothing about who or when."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def conversation_id(thread_key: str | None, first_submission_id: str) -> str:
    """The id events use for a conversation, the same on every machine: derived from the
    thread's reply key when it has one (a machine may lack the first submission), else the
    id of its only submission (which cannot have follow-ups)."""
    if thread_key is None:
        return first_submission_id
    digest = hashlib.blake2b(thread_key.encode("utf-8"), digest_size=15, person=b"sealdrop-conv")
    return "c" + base64.b32encode(digest.digest()).decode("ascii").lower()


# --- the fold ------------------------------------------------------------------------------


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
class _Building:
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
    def thaw(cls, state: CaseState) -> _Building:
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
    building: dict[str, _Building] = {}
    for event in sorted(unique.values(), key=lambda e: e.order):
        case = building.get(event.conversation)
        if case is None:
            case = building[event.conversation] = _Building(event.conversation)
        case.apply(event)
    return {cid: case.freeze() for cid, case in building.items()}


def local_author(vault: Vault, identity: Path | None = None) -> str:
    """This machine's author key id: that of the identity given, else the vault's default
    (events are signed for the team with that key, so it must be the reviewer's own)."""
    configured = identity or vault.config().get("identity")
    if not configured:
        raise CaseLogError(
            "case changes are recorded under your key id, and no identity is set; set it once "
            "with `sealdrop-reviewer config --key identity.key`"
        )
    try:
        return PublicKey.from_file(configured).key_id_hex
    except (OSError, UnicodeDecodeError, SealdropError) as exc:
        raise CaseLogError(f"cannot read your public key from {configured}: {exc}") from None


def _freeze(state: CaseState) -> list[Any]:
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


def _thaw(conversation: str, fields: list[Any]) -> CaseState:
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
    return CaseState(
        conversation,
        status,
        urgent,
        assignee,
        frozenset(tags),
        tuple(Note(*n) for n in notes),
        tuple(tuple(r) for r in replies),
        destroyed,
        frozenset(destroyed_ids),
        status_hour,
        frozenset(seen),
        last_hour,
        clock,
    )


def state_of(states: Mapping[str, CaseState], conversation: str) -> CaseState:
    return states.get(conversation) or CaseState(conversation)


# --- the log in the vault ------------------------------------------------------------------


class CaseLog:
    """The vault's event log. ``append`` for this machine's own events, ``merge`` for
    events from elsewhere; both are idempotent by event id."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.directory = vault.root / "caselog"
        self.path = self.directory / "events.jsonl"
        self._cache: tuple[tuple[int, int], list[Event]] | None = None
        self._state: tuple[list[int], dict[str, CaseState], int] | None = None

    def events(self) -> list[Event]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        key = (stat.st_size, stat.st_mtime_ns)
        if self._cache is not None and self._cache[0] == key:
            return list(self._cache[1])
        events = list(self._read())
        self._cache = (key, events)
        return list(events)

    def _read(self) -> Iterator[Event]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise CaseLogError(
                f"cannot read the case log {self.path} ({exc.strerror}); check the vault's "
                "permissions"
            ) from None
        lines = data.split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield _trusted(json.loads(line))
            except (ValueError, CaseLogError) as exc:
                if number == len(lines):  # a torn last line: never acknowledged
                    continue
                raise CaseLogError(
                    f"line {number} of the case log {self.path} is damaged ({exc}); restore "
                    "the vault from its backup, or move that line out of the file"
                ) from None

    # The fold of 10,000s of events takes a noticeable part of a second, so its result is
    # kept in caselog/state.json, valid while the log file has the size and time it had.

    def stamp(self) -> str:
        """Changes whenever the log does (for caches of what is derived from it)."""
        return ":".join(map(str, self._log_key()))

    def _log_key(self) -> list[int]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return [0, 0]
        return [stat.st_size, stat.st_mtime_ns]

    def _cached(self) -> tuple[dict[str, CaseState], int] | None:
        key = self._log_key()
        if self._state is not None and self._state[0] == key:
            return self._state[1], self._state[2]
        try:
            data = json.loads((self.directory / "state.json").read_text("utf-8"))
            if data["log"] != key or data["v"] != VERSION:
                return None
            states = {cid: _thaw(cid, fields) for cid, fields in data["states"].items()}
            clock = int(data["clock"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._state = (key, states, clock)
        return states, clock

    def _keep(self, states: dict[str, CaseState], clock: int) -> None:
        key = self._log_key()
        self._state = (key, states, clock)
        data = {
            "v": VERSION,
            "log": key,
            "clock": clock,
            "states": {cid: _freeze(state) for cid, state in states.items()},
        }
        with suppress(OSError):  # only a cache: the next start folds again
            write_atomically(
                self.directory / "state.json", json.dumps(data, ensure_ascii=False).encode()
            )

    def state(self) -> dict[str, CaseState]:
        cached = self._cached()
        if cached is not None:
            return dict(cached[0])
        events = self.events()
        states = fold(events)
        self._keep(states, max((e.clock for e in events), default=0))
        return dict(states)

    def next_clock(self) -> int:
        cached = self._cached()
        if cached is not None:
            return cached[1] + 1
        return max((e.clock for e in self.events()), default=0) + 1

    def new(self, author: str, conversation: str, kind: str, payload: Mapping[str, Any]) -> Event:
        """Makes and appends this machine's next event."""
        with self._locked():
            event = Event(
                id=new_event_id(),
                author=author,
                clock=self.next_clock(),
                conversation=conversation,
                kind=kind,
                payload=dict(payload),
                hour=hour_stamp(),
            )
            _check(event)
            before = self._cached()
            self._write([event])
            if before is not None:  # the newest event of all: apply it to the kept state
                states, _clock = before
                case = _Building.thaw(state_of(states, conversation))
                case.apply(event)
                self._keep({**states, conversation: case.freeze()}, event.clock)
        return event

    def append(self, event: Event) -> bool:
        """Appends one event; False when an event with its id is already in the log."""
        return bool(self.merge([event]))

    def merge(self, events: Iterable[Event]) -> list[Event]:
        """Adds the events not already in the log and returns them (in the order given).
        An event reusing a known id with different contents is refused."""
        incoming = list(events)
        for event in incoming:
            _check(event)
        with self._locked():
            known = {e.id: e for e in self.events()}
            added: list[Event] = []
            for event in incoming:
                existing = known.get(event.id)
                if existing is None:
                    known[event.id] = event
                    added.append(event)
                elif existing.canonical() != event.canonical():
                    raise CaseLogError(
                        f"a case event {event.id} differs from the one with that id already in "
                        "the vault; nothing of this batch was imported"
                    )
            self._write(added)
        return added

    def _write(self, events: list[Event]) -> None:
        if not events:
            return
        data = b"".join(
            json.dumps(e.to_record(), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
            for e in events
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            _drop_torn_tail(fd, self.path)
            os.write(fd, data)
            os.fsync(fd)
        except OSError as exc:
            raise CaseLogError(
                f"cannot write to the case log {self.path} ({exc.strerror}); free some space "
                "and do it again"
            ) from None
        finally:
            os.close(fd)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # --- export and import, for carrying events between machines --------------------------

    def export(self, since_clock: int = 0) -> list[dict[str, Any]]:
        return [e.to_record() for e in self.events() if e.clock > since_clock]

    def import_records(self, records: Iterable[Any]) -> list[Event]:
        return self.merge([from_record(r) for r in records])


def _drop_torn_tail(fd: int, path: Path) -> None:
    """Cuts off a last line a power cut left unfinished (it was never acknowledged), so the
    next event starts on a line of its own."""
    size = os.fstat(fd).st_size
    if not size:
        return
    with open(path, "rb") as handle:
        handle.seek(max(0, size - MAX_RECORD - 4096))
        tail = handle.read()
    if not tail.endswith(b"\n"):
        os.ftruncate(fd, size - len(tail) + tail.rfind(b"\n") + 1)
