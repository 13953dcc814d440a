"""Case events: what staff do to a conversation, as records every machine reads the same way.

Every change staff make to a conversation (its status, a note, a tag, who has it, that a
reply was written, that it was destroyed) is an ``Event``: a random id, its author's key id
(as envelopes name keys: the fingerprint's first 8 bytes, hex), a Lamport clock, the
conversation, a kind, a small JSON payload and the hour it was made. Events are never
changed or removed; ``reviewer.casefold`` turns them into state, ``reviewer.caselog`` keeps
them in the vault.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crypto.bundle import HOUR_PATTERN, ID_PATTERN

from .vault import VaultError

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
# Events about the team rather than a conversation (FORMAT.md §8.6): the fold skips them.
MEMBER_REMOVED = "member-removed"
TEAM_CONVERSATION = "team"
TEAM_KINDS = (MEMBER_REMOVED,)

# The clock rule (docs/FORMAT.md §8.7): an event more than MAX_CLOCK_STEP ahead of the
# receiving vault's clock is set aside, not merged, and one at or above CLOCK_LIMIT is never
# used (an older version merged any clock below 2^53): no member can push a vault's clock to
# where its next event cannot be written. Honest clocks grow by one per event.
MAX_CLOCK_STEP = 1 << 32
CLOCK_LIMIT = 1 << 48

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
    check_event(event, measured=measured)
    return event


def trusted_record(record: Any) -> Event:
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


def check_event(event: Event, *, measured: bool = True) -> None:
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
    if event.kind == MEMBER_REMOVED and (
        event.conversation != TEAM_CONVERSATION
        or not isinstance(payload.get("key"), str)
        or not _AUTHOR.fullmatch(payload["key"])
    ):
        raise bad("a member removal that names no member key id")


def _text(value: Any, limit: int, empty: bool = False) -> bool:
    if not isinstance(value, str) or len(value) > limit:
        return False
    return empty or not _BLANK.fullmatch(value)


def _ids(value: Any) -> bool:
    return isinstance(value, list) and len(value) <= 10_000 and all(_is_id(i) for i in value)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.fullmatch(value))


def clock_refusal(clock: int, current: int) -> str | None:
    """Why an imported event's clock is set aside (``current``: the vault's highest), or None."""
    if clock >= CLOCK_LIMIT or clock > current + MAX_CLOCK_STEP:
        return (
            f"its clock ({clock}) is too far ahead of this vault's ({current}); it was set "
            "aside so that one member's broken or hostile clock cannot stop this vault"
        )
    return None


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
