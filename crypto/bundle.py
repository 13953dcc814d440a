"""Bundles (docs/FORMAT.md, section 4): a tar of envelopes with a manifest at the end.

Two kinds: ``submissions`` (the server's export, read by the reviewer) and ``replies`` (the
reviewer's answers, imported by the server; each entry names the mailbox it goes to). Either
may also carry sealed staff events (``events``, section 8) and a replies bundle the reviewer's
confirmations of what they opened (``acks`` in the manifest).
``BundleWriter`` writes either; ``Bundle`` reads one, checking the structure when it is opened
and each envelope's size and hash as it is read.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from . import strictjson, ustar
from .errors import SealdropError

FORMAT = "sealdrop-bundle"
VERSION = 1
ROOT = "sealdrop-bundle"
MANIFEST = f"{ROOT}/manifest.json"
SUBMISSIONS = "submissions"
REPLIES = "replies"
KINDS = (SUBMISSIONS, REPLIES)
EVENTS = "events"
EPOCHS = "epochs"  # a replies bundle's signed epoch statements (FORMAT.md 10.3)
MAX_EPOCH_STATEMENTS = 8
MAX_EPOCH_STATEMENT = 16 << 10
KEY_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
SUFFIX = ".sdenv"
ID_PATTERN = re.compile(r"[a-z0-9]{1,64}")
HOUR_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00Z")
MAILBOX_PATTERN = re.compile(r"[a-z2-7]{26}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
_COPY = 1 << 20
_MAX_MANIFEST = 64 << 20
_MANIFEST_DEPTH = 8
# Objects and arrays in a manifest (docs/FORMAT.md 3.4): more than the 64 MiB limit holds as
# entries (each over 100 bytes), so only a manifest of empty containers meets it.
_MANIFEST_CONTAINERS = 1 << 20


class BundleError(SealdropError):
    """The bundle is damaged, incomplete or was altered; the message names what and where."""


def hour_stamp(epoch: float | None = None) -> str:
    """UTC time rounded down to the hour, the only precision sealdrop ever records."""
    return time.strftime("%Y-%m-%dT%H:00Z", time.gmtime(time.time() if epoch is None else epoch))


def _member_prefix(kind: str) -> str:
    return f"{ROOT}/{kind}/"


@dataclass(frozen=True)
class Entry:
    id: str
    received: str  # the hour the envelope was received (submissions) or written (replies)
    size: int
    sha256: str
    mailbox: str | None = None  # replies only

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id, "received": self.received}
        if self.mailbox is not None:
            entry["mailbox"] = self.mailbox
        return {**entry, "size": self.size, "sha256": self.sha256}


class _HashingReader:
    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.hash = hashlib.sha256()
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._source.read(n)
        self.hash.update(data)
        self.count += len(data)
        return data


class BundleWriter:
    """Streams envelopes into a bundle; ``close`` appends the manifest."""

    def __init__(self, out: BinaryIO, kind: str = SUBMISSIONS) -> None:
        if kind not in KINDS:
            raise ValueError(f"a bundle holds {' or '.join(KINDS)}")
        self.kind = kind
        self._tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self._entries: list[Entry] = []
        self._ids: set[str] = set()
        self._events: list[Entry] = []
        self._event_ids: set[str] = set()

    def add(
        self,
        submission_id: str,
        received: str,
        envelope: BinaryIO,
        size: int,
        *,
        mailbox: str | None = None,
    ) -> Entry:
        if not ID_PATTERN.fullmatch(submission_id) or submission_id in self._ids:
            raise ValueError(f"bad or repeated id {submission_id!r}")
        parse_hour(received)
        if (self.kind == REPLIES) != (mailbox is not None and _valid_mailbox(mailbox)):
            raise ValueError("a reply needs a mailbox id; a submission has none")
        reader = _HashingReader(envelope)
        member = f"{_member_prefix(self.kind)}{submission_id}{SUFFIX}"
        self._tar.addfile(_member(member, size), reader)
        if reader.count != size:
            raise ValueError(f"envelope {submission_id} is shorter than {size} bytes")
        entry = Entry(submission_id, received, size, reader.hash.hexdigest(), mailbox)
        self._entries.append(entry)
        self._ids.add(submission_id)
        return entry

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def add_event(self, event_id: str, received: str, envelope: BinaryIO, size: int) -> Entry:
        """A sealed staff event (section 8), under events/ beside the bundle's own kind."""
        if not ID_PATTERN.fullmatch(event_id) or event_id in self._event_ids:
            raise ValueError(f"bad or repeated event id {event_id!r}")
        if not HOUR_PATTERN.fullmatch(received):
            raise ValueError("received must be an hour stamp such as 2026-11-24T13:00Z")
        reader = _HashingReader(envelope)
        self._tar.addfile(_member(f"{_member_prefix(EVENTS)}{event_id}{SUFFIX}", size), reader)
        if reader.count != size:
            raise ValueError(f"event {event_id} is shorter than {size} bytes")
        entry = Entry(event_id, received, size, reader.hash.hexdigest())
        self._events.append(entry)
        self._event_ids.add(event_id)
        return entry

    def close(
        self,
        acks: Acks | None = None,
        *,
        epochs: Sequence[str] = (),
        confirmation: str | None = None,
    ) -> None:
        """``confirmation``: a signed confirmation (crypto.confirmation, FORMAT.md §8.5);
        ``acks``, the unsigned form older versions wrote, only for tests of its refusal;
        ``epochs``: epoch statements (FORMAT.md §10.3)."""
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "created": hour_stamp(),
            self.kind: [entry.to_json() for entry in self._entries],
        }
        if self._events:
            manifest[EVENTS] = [entry.to_json() for entry in self._events]
        if acks is not None:
            if self.kind != REPLIES:
                raise ValueError("only a replies bundle carries confirmations")
            manifest["acks"] = acks.to_json()
        if epochs:
            if self.kind != REPLIES:
                raise ValueError("only a replies bundle carries epoch statements")
            manifest[EPOCHS] = list(epochs)
        if confirmation is not None:
            if self.kind != REPLIES:
                raise ValueError("only a replies bundle carries confirmations")
            manifest["confirmation"] = confirmation
        data = json.dumps(manifest, indent=1).encode("utf-8")
        self._tar.addfile(_member(MANIFEST, len(data)), io.BytesIO(data))
        self._tar.close()


@dataclass(frozen=True)
class Acks:
    """A reviewer's confirmation of what they have opened: submission and event ids."""

    reviewer: str  # the key id (16 hex digits) of the reviewer's X25519 key
    submissions: tuple[str, ...] = ()
    events: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "submissions": sorted(set(self.submissions)),
            "events": sorted(set(self.events)),
        }

    @classmethod
    def from_json(cls, data: Any) -> Acks:
        reviewer = data.get("reviewer") if isinstance(data, dict) else None
        if not isinstance(reviewer, str) or not KEY_ID_PATTERN.fullmatch(reviewer):
            raise ValueError("malformed acks")
        submissions, events = data["submissions"], data["events"]
        if not isinstance(submissions, list) or not isinstance(events, list):
            raise ValueError("malformed acks")
        ids = submissions + events
        if not all(isinstance(i, str) and ID_PATTERN.fullmatch(i) for i in ids):
            raise ValueError("malformed acks")
        return cls(reviewer, tuple(submissions), tuple(events))


def _valid_mailbox(mailbox: str) -> bool:
    return MAILBOX_PATTERN.fullmatch(mailbox) is not None


def parse_hour(stamp: object) -> int:
    """The epoch seconds of an hour stamp such as ``2026-11-24T13:00Z``; ValueError unless it
    is exactly that form, in ASCII digits, naming a real hour."""
    if not isinstance(stamp, str) or not HOUR_PATTERN.fullmatch(stamp):
        raise ValueError("not an hour stamp such as 2026-11-24T13:00Z")
    moment = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:00Z")
    return calendar.timegm(moment.timetuple())


def _well_formed(entry: Entry) -> bool:
    """Manifest fields end up in file names and on the reviewer's screen: only expected forms."""
    try:
        parse_hour(entry.received)
    except ValueError:
        return False
    return bool(
        ID_PATTERN.fullmatch(entry.id)
        and SHA256_PATTERN.fullmatch(entry.sha256)
        and 0 <= entry.size <= ustar.MAX_SIZE
    )


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = 0  # the bundle records no times beyond the manifest's hours
    return info


class Bundle:
    """A bundle on disk, structurally verified on opening. Use ``envelopes()`` to read each
    envelope through a reader that checks its size and hash; call ``check()`` on it after the
    last byte, before trusting anything opened from it."""

    def __init__(self, path: str | Path, kind: str = SUBMISSIONS) -> None:
        self.path = Path(path)
        self.kind = kind
        try:
            self._file: BinaryIO = self.path.open("rb")
        except OSError as exc:
            raise BundleError(
                f"{self.path} is not a readable sealdrop bundle ({exc.strerror}); "
                "copy it from the server again"
            ) from None
        self.events: list[Entry] = []
        self.acks: Acks | None = None  # unsigned, from an older version: never trusted
        self.confirmation: str | None = None  # signed; checked by whoever holds the keys
        self.epochs: list[str] = []
        self._event_members: dict[str, ustar.Member] = {}
        try:
            self.entries, self._members = self._verify_structure()
        except BaseException:
            self._file.close()
            raise

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_members(self) -> list[ustar.Member]:
        try:
            return ustar.read_members(self._file)
        except ustar.TarRefused as refused:
            if refused.offset is None or refused.offset == 0:
                reason = f"{self.path} is not a readable sealdrop bundle ({refused})"
            elif refused.cut and "cut short" in str(refused):
                reason = str(refused)
            elif refused.cut:
                reason = f"the bundle is truncated or corrupted ({refused})"
            else:
                reason = f"the bundle is damaged at byte {refused.offset} ({refused})"
            raise BundleError(f"{reason}; copy it from the server again") from None
        except OSError as exc:
            raise BundleError(
                f"the bundle could not be read ({exc.strerror}); copy it from the server again"
            ) from None

    def _verify_structure(self) -> tuple[list[Entry], dict[str, ustar.Member]]:
        members = self._read_members()
        if not members or members[-1].name != MANIFEST:
            raise BundleError(
                "the bundle has no manifest at its end (truncated?); copy it from the server again"
            )
        entries = self._read_manifest(members[-1])
        noun, prefix = self._noun, _member_prefix(self.kind)
        envelopes: dict[str, ustar.Member] = {}
        for member in members[:-1]:
            name = member.name
            if name.startswith(_member_prefix(EVENTS)):
                self._event_member(member)
                continue
            stem = name.removeprefix(prefix).removesuffix(SUFFIX)
            if not (
                name.startswith(prefix) and name.endswith(SUFFIX) and ID_PATTERN.fullmatch(stem)
            ):
                raise BundleError(f"the bundle holds an unexpected entry {name!r}; it was altered")
            if stem in envelopes:
                raise BundleError(f"the bundle holds {noun} {stem} twice; it was altered")
            envelopes[stem] = member
        listed = {entry.id for entry in entries}
        for entry in entries:
            member = envelopes.get(entry.id)
            if member is None:
                raise BundleError(f"{noun} {entry.id} is listed but missing from the bundle")
            if member.size != entry.size:
                raise BundleError(
                    f"{noun} {entry.id} is {member.size} bytes, the manifest says "
                    f"{entry.size}; the bundle is damaged"
                )
        for stem in envelopes:
            if stem not in listed:
                raise BundleError(f"{noun} {stem} is in the bundle but not in its manifest")
        self._match(self.events, self._event_members, "staff event")
        return entries, envelopes

    def _event_member(self, member: ustar.Member) -> None:
        stem = member.name.removeprefix(_member_prefix(EVENTS)).removesuffix(SUFFIX)
        if not (member.name.endswith(SUFFIX) and ID_PATTERN.fullmatch(stem)):
            raise BundleError(
                f"the bundle holds an unexpected entry {member.name!r}; it was altered"
            )
        if stem in self._event_members:
            raise BundleError(f"the bundle holds staff event {stem} twice; it was altered")
        self._event_members[stem] = member

    @staticmethod
    def _match(entries: list[Entry], members: dict[str, ustar.Member], noun: str) -> None:
        for entry in entries:
            member = members.get(entry.id)
            if member is None:
                raise BundleError(f"{noun} {entry.id} is listed but missing from the bundle")
            if member.size != entry.size:
                raise BundleError(f"{noun} {entry.id} has the wrong size; the bundle is damaged")
        listed = {entry.id for entry in entries}
        for stem in members:
            if stem not in listed:
                raise BundleError(f"{noun} {stem} is in the bundle but not in its manifest")

    @property
    def _noun(self) -> str:
        return "reply" if self.kind == REPLIES else "submission"

    def _read_manifest(self, member: ustar.Member) -> list[Entry]:
        if member.size > _MAX_MANIFEST:
            raise BundleError("the bundle's manifest is implausibly large; it was altered")
        self._file.seek(member.offset_data)
        data = self._file.read(member.size)
        try:
            manifest = strictjson.loads_object(
                data,
                max_bytes=_MAX_MANIFEST,
                max_depth=_MANIFEST_DEPTH,
                max_containers=_MANIFEST_CONTAINERS,
            )
        except strictjson.JSONRefused as refused:
            raise BundleError(
                f"the bundle's manifest is damaged ({refused}); copy it from the server again"
            ) from None
        if manifest.get("format") != FORMAT:
            raise BundleError("this archive is not a sealdrop bundle")
        version = manifest.get("version")
        if type(version) is not int or version != VERSION:
            shown = version if type(version) is int else "(not a whole number)"
            raise BundleError(f"bundle version {shown} is not supported; upgrade sealdrop")
        kind = manifest.get("kind", SUBMISSIONS)
        if kind not in KINDS:
            raise BundleError("the bundle's manifest names an unknown kind; it was altered")
        if kind != self.kind:
            raise BundleError(
                f"this is a bundle of {kind}, not of {self.kind}: "
                + (
                    "import it on the server with `sealdrop-admin import-replies`"
                    if kind == REPLIES
                    else "open it on the offline computer with `sealdrop-reviewer open`"
                )
            )
        listing = manifest.get(kind)
        if not isinstance(listing, list):
            raise BundleError(
                f"the bundle's manifest has no list of {kind}; copy it from the server again"
            )
        entries = [self._entry(item, kind) for item in listing]
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise BundleError(
                    f"the manifest lists {self._noun} {entry.id} twice; it was altered"
                )
            seen.add(entry.id)
        events = manifest.get(EVENTS, [])
        if not isinstance(events, list):
            raise BundleError("the manifest lists its staff events malformed; it was altered")
        self.events = [self._entry(item, EVENTS) for item in events]
        if len({e.id for e in self.events}) != len(self.events):
            raise BundleError("the manifest lists a staff event twice; it was altered")
        epochs = manifest.get(EPOCHS, []) if kind == REPLIES else []  # others: ignored
        if not (
            isinstance(epochs, list)
            and len(epochs) <= MAX_EPOCH_STATEMENTS
            and all(isinstance(e, str) and len(e) <= MAX_EPOCH_STATEMENT for e in epochs)
        ):
            raise BundleError("the bundle's epoch statements are malformed; it was altered")
        self.epochs = epochs
        if "acks" in manifest and kind == REPLIES:  # a submissions bundle's is ignored (§4.3)
            try:
                self.acks = Acks.from_json(manifest["acks"])
            except (ValueError, KeyError, TypeError):
                raise BundleError(
                    "the bundle's confirmations are malformed; it was altered"
                ) from None
        if "confirmation" in manifest and kind == REPLIES:  # likewise (FORMAT.md §8.5)
            if not isinstance(manifest["confirmation"], str):
                raise BundleError("the bundle's confirmation is malformed; it was altered")
            self.confirmation = manifest["confirmation"]
        return entries

    def _entry(self, item: object, kind: str) -> Entry:
        """One manifest entry, each field of exactly its type and form."""
        fields = ("id", "received", "size", "sha256") + (("mailbox",) if kind == REPLIES else ())
        if not isinstance(item, dict) or not all(name in item for name in fields):
            raise BundleError(
                "the bundle's manifest is damaged (an entry lacks a field); "
                "copy it from the server again"
            )
        size = item["size"]
        texts = [item[name] for name in fields if name != "size"]
        if type(size) is not int or not all(isinstance(text, str) for text in texts):
            raise BundleError(
                "the manifest lists a malformed id, hour, size or hash; it was altered"
            )
        mailbox = item["mailbox"] if kind == REPLIES else None
        if mailbox is not None and not _valid_mailbox(mailbox):
            raise BundleError("the manifest names a malformed mailbox; it was altered")
        entry = Entry(item["id"], item["received"], size, item["sha256"], mailbox)
        if not _well_formed(entry):
            raise BundleError(
                "the manifest lists a malformed id, hour, size or hash; it was altered"
            )
        return entry

    def span(self, entry: Entry) -> tuple[int, int]:
        """Where the entry's envelope lies in the bundle file: (offset, length). For readers
        that read it directly (wrapped in a CheckedReader all the same)."""
        member = self._members[entry.id]
        return member.offset_data, member.size

    def envelopes(self) -> Iterator[tuple[Entry, CheckedReader]]:
        for entry in self.entries:
            yield entry, CheckedReader(entry, _SpanFile(self._file, *self.span(entry)))

    def event_envelopes(self) -> Iterator[tuple[Entry, CheckedReader]]:
        """The staff events' envelopes, each read through a hash-checking reader."""
        for entry in self.events:
            member = self._event_members[entry.id]
            yield (
                entry,
                CheckedReader(entry, _SpanFile(self._file, member.offset_data, member.size)),
            )


class _SpanFile:
    """Reads ``length`` bytes of an open file from ``offset`` on (one reader at a time)."""

    def __init__(self, source: BinaryIO, offset: int, length: int) -> None:
        self._source = source
        self._position = offset
        self._end = offset + length

    def read(self, n: int = -1) -> bytes:
        left = self._end - self._position
        wanted = left if n is None or n < 0 else min(n, left)
        if wanted <= 0:
            return b""
        self._source.seek(self._position)
        data = self._source.read(wanted)
        self._position += len(data)
        return data


class CheckedReader:
    """Reads one envelope from a bundle, hashing as it goes."""

    def __init__(self, entry: Entry, source: BinaryIO) -> None:
        self._entry = entry
        self._reader = _HashingReader(source)

    def read(self, n: int = -1) -> bytes:
        return self._reader.read(n)

    def check(self) -> None:
        """Raises BundleError unless every byte was read and matches the manifest's hash."""
        while self._reader.read(_COPY):
            pass
        if self._reader.count != self._entry.size or (
            self._reader.hash.hexdigest() != self._entry.sha256
        ):
            raise BundleError(
                f"{'reply' if self._entry.mailbox else 'submission'} {self._entry.id} does not "
                "match the manifest's hash; "
                "the bundle was damaged or altered"
            )
