"""The vault's case log: an append-only file of case events (reviewer.caseevent), folded
into state (reviewer.casefold) and cached.

Storage: ``<vault>/caselog/events.jsonl``, one event per line in the export format
(``to_record``), appended under a lock and fsynced. Plaintext, like the rest of the vault,
which relies on disk encryption (docs/REVIEWER.md). A torn last line (a power cut mid-write)
was never acknowledged and is ignored.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from crypto import PublicKey, SealdropError
from crypto.bundle import hour_stamp

from .caseevent import (
    ASSIGNED,
    CLOCK_LIMIT,
    CLOSED,
    DESTROYED,
    KINDS,
    MAX_LABEL,
    MAX_NOTE,
    MAX_RECORD,
    NEEDS_REPLY,
    NEW,
    NOTE,
    REPLY_WRITTEN,
    SPAM,
    STATUS,
    STATUSES,
    TAG_ADDED,
    TAG_REMOVED,
    TEMPLATE,
    URGENT,
    VERSION,
    WAITING,
    CaseLogError,
    Event,
    check_event,
    conversation_id,
    from_record,
    new_event_id,
    trusted_record,
)
from .casefold import Building, CaseState, Note, fold, freeze_state, state_of, thaw_state
from .vault import Vault, write_atomically

__all__ = [  # the case log's vocabulary, for the modules that use it
    "ASSIGNED",
    "CLOSED",
    "DESTROYED",
    "KINDS",
    "MAX_LABEL",
    "MAX_NOTE",
    "NEEDS_REPLY",
    "NEW",
    "NOTE",
    "REPLY_WRITTEN",
    "SPAM",
    "STATUS",
    "STATUSES",
    "TAG_ADDED",
    "TAG_REMOVED",
    "TEMPLATE",
    "URGENT",
    "WAITING",
    "CaseLog",
    "CaseLogError",
    "CaseState",
    "Event",
    "Note",
    "conversation_id",
    "fold",
    "from_record",
    "local_author",
    "new_event_id",
    "state_of",
]


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


class CaseLog:
    """The vault's event log. ``append`` for this machine's own events, ``merge`` for
    events from elsewhere; both are idempotent by event id."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.directory = vault.root / "caselog"
        self.path = self.directory / "events.jsonl"
        self.rejected_path = self.directory / "rejected.json"  # destroys undone (reviewer.trash)
        self._cache: tuple[list[int], list[Event]] | None = None
        self.set_aside = 0  # events of the log past the clock limit (caseevent.CLOCK_LIMIT)
        self._state: tuple[list[int], dict[str, CaseState], int] | None = None

    def events(self) -> list[Event]:
        """The events in use: those of the log, less those set aside (the clock rule) and the
        destroys this machine rejected."""
        if not self.path.exists():
            return []
        key = self._log_key()
        if self._cache is not None and self._cache[0] == key:
            return list(self._cache[1])
        rejected = self.rejected()
        events = [e for e in self._read() if e.id not in rejected]
        self._cache = (key, events)
        return list(events)

    def rejected(self) -> set[str]:
        try:
            data = json.loads(self.rejected_path.read_text("utf-8"))
        except (OSError, ValueError):
            return set()
        return {str(i) for i in data} if isinstance(data, list) else set()

    def reject(self, event_id: str) -> None:
        """This machine no longer uses the event (a colleague's destroy, undone here)."""
        with self._locked():
            rejected = self.rejected() | {event_id}
            write_atomically(self.rejected_path, json.dumps(sorted(rejected)).encode())
            self._cache = self._state = None
            (self.directory / "state.json").unlink(missing_ok=True)

    def _read(self) -> Iterator[Event]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise CaseLogError(
                f"cannot read the case log {self.path} ({exc.strerror}); check the vault's "
                "permissions"
            ) from None
        lines = data.split(b"\n")
        self.set_aside = 0
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = trusted_record(json.loads(line))
                if event.clock >= CLOCK_LIMIT:  # merged by an older version: never used
                    self.set_aside += 1
                    continue
                yield event
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
        key = []
        for path in (self.path, self.rejected_path):
            try:
                stat = path.stat()
            except FileNotFoundError:
                key += [0, 0]
            else:
                key += [stat.st_size, stat.st_mtime_ns]
        return key

    def _cached(self) -> tuple[dict[str, CaseState], int] | None:
        key = self._log_key()
        if self._state is not None and self._state[0] == key:
            return self._state[1], self._state[2]
        try:
            data = json.loads((self.directory / "state.json").read_text("utf-8"))
            if data["log"] != key or data["v"] != VERSION or data.get("limit") != CLOCK_LIMIT:
                return None
            states = {cid: thaw_state(cid, fields) for cid, fields in data["states"].items()}
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
            "limit": CLOCK_LIMIT,
            "states": {cid: freeze_state(state) for cid, state in states.items()},
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

    def clock(self) -> int:
        """The highest clock of the events in use (0 for an empty log)."""
        cached = self._cached()
        if cached is not None:
            return cached[1]
        return max((e.clock for e in self.events()), default=0)

    def next_clock(self) -> int:
        clock = self.clock() + 1
        if clock >= CLOCK_LIMIT:  # cannot happen under the clock rule; said, not crashed
            raise CaseLogError("the case log's clock is exhausted; restore the vault's backup")
        return clock

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
            check_event(event)
            before = self._cached()
            self._write([event])
            if before is not None:  # the newest event of all: apply it to the kept state
                states, _clock = before
                case = Building.thaw(state_of(states, conversation))
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
            check_event(event)
        with self._locked():
            known = {e.id: e for e in self.events()}
            rejected = self.rejected()  # in the log already, and not to be used
            added: list[Event] = []
            for event in incoming:
                if event.id in rejected:
                    continue
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
