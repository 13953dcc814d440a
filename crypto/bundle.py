"""Bundles (docs/FORMAT.md, section 4): a tar of envelopes with a manifest at the end.

Two kinds: ``submissions`` (the server's export, read by the reviewer) and ``replies`` (the
reviewer's answers, imported by the server; each entry names the mailbox it goes to). Either
may also carry sealed staff events (``events``, section 8) and a replies bundle the reviewer's
confirmations of what they opened (``acks`` in the manifest).
``BundleWriter`` writes either; ``Bundle`` reads one, checking the structure when it is opened
and each envelope's size and hash as it is read.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .errors import SealdropError

FORMAT = "sealdrop-bundle"
VERSION = 1
ROOT = "sealdrop-bundle"
MANIFEST = f"{ROOT}/manifest.json"
SUBMISSIONS = "submissions"
REPLIES = "replies"
KINDS = (SUBMISSIONS, REPLIES)
EVENTS = "events"
KEY_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
SUFFIX = ".sdenv"
ID_PATTERN = re.compile(r"[a-z0-9]{1,64}")
HOUR_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:00Z")
MAILBOX_PATTERN = re.compile(r"[a-z2-7]{26}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
_COPY = 1 << 20
_MAX_MANIFEST = 64 << 20


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
        if not HOUR_PATTERN.fullmatch(received):
            raise ValueError("received must be an hour stamp such as 2026-11-24T13:00Z")
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

    def close(self, acks: Acks | None = None) -> None:
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
        if not isinstance(data, dict) or not KEY_ID_PATTERN.fullmatch(str(data["reviewer"])):
            raise ValueError("malformed acks")
        submissions, events = data["submissions"], data["events"]
        if not isinstance(submissions, list) or not isinstance(events, list):
            raise ValueError("malformed acks")
        ids = [str(i) for i in submissions + events]
        if not all(ID_PATTERN.fullmatch(i) for i in ids):
            raise ValueError("malformed acks")
        return cls(str(data["reviewer"]), tuple(map(str, submissions)), tuple(map(str, events)))


def _valid_mailbox(mailbox: str) -> bool:
    return MAILBOX_PATTERN.fullmatch(mailbox) is not None


def _well_formed(entry: Entry) -> bool:
    """Manifest fields end up in file names and on the reviewer's screen: only expected forms."""
    return bool(
        ID_PATTERN.fullmatch(entry.id)
        and HOUR_PATTERN.fullmatch(entry.received)
        and SHA256_PATTERN.fullmatch(entry.sha256)
        and entry.size >= 0
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
            self._tar = tarfile.open(self.path, mode="r:")
        except (tarfile.TarError, OSError) as exc:
            raise BundleError(
                f"{self.path} is not a readable sealdrop bundle ({exc}); "
                "copy it from the server again"
            ) from None
        self.events: list[Entry] = []
        self.acks: Acks | None = None
        self._event_members: dict[str, tarfile.TarInfo] = {}
        try:
            self.entries, self._members = self._verify_structure()
        except BaseException:
            self._tar.close()
            raise

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _verify_structure(self) -> tuple[list[Entry], dict[str, tarfile.TarInfo]]:
        try:
            members = self._tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BundleError(
                f"the bundle is truncated or corrupted ({exc}); copy it from the server again"
            ) from None
        self._check_filler(members)
        if not members or members[-1].name != MANIFEST:
            raise BundleError(
                "the bundle has no manifest at its end (truncated?); copy it from the server again"
            )
        entries = self._read_manifest(members[-1])
        noun, prefix = self._noun, _member_prefix(self.kind)
        envelopes: dict[str, tarfile.TarInfo] = {}
        for member in members[:-1]:
            name = member.name
            if name.startswith(_member_prefix(EVENTS)):
                self._event_member(member)
                continue
            stem = name.removeprefix(prefix).removesuffix(SUFFIX)
            if not (
                member.isreg()
                and name.startswith(prefix)
                and name.endswith(SUFFIX)
                and ID_PATTERN.fullmatch(stem)
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

    def _event_member(self, member: tarfile.TarInfo) -> None:
        stem = member.name.removeprefix(_member_prefix(EVENTS)).removesuffix(SUFFIX)
        if not (member.isreg() and member.name.endswith(SUFFIX) and ID_PATTERN.fullmatch(stem)):
            raise BundleError(
                f"the bundle holds an unexpected entry {member.name!r}; it was altered"
            )
        if stem in self._event_members:
            raise BundleError(f"the bundle holds staff event {stem} twice; it was altered")
        self._event_members[stem] = member

    @staticmethod
    def _match(entries: list[Entry], members: dict[str, tarfile.TarInfo], noun: str) -> None:
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

    def _check_filler(self, members: list[tarfile.TarInfo]) -> None:
        """Requires tar's padding and end-of-archive blocks, which no hash covers, to be zero,
        so that a flipped bit anywhere in the bundle is noticed. A damaged member header also
        lands here: tarfile stops reading at it, leaving non-zero bytes after the last member.
        """
        with self.path.open("rb") as raw:
            size = raw.seek(0, io.SEEK_END)
            starts = [m.offset for m in members[1:]] + [size]
            for member, start in zip(members, starts, strict=True):
                raw.seek(member.offset_data + member.size)
                stripped = raw.read(start - member.offset_data - member.size).lstrip(b"\0")
                if stripped:
                    raise BundleError(
                        f"the bundle is damaged at byte {start - len(stripped)}, after its entry "
                        f"{member.name!r}; copy it from the server again"
                    )
            padded = -(-members[-1].size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE if members else 0
            if members and size - members[-1].offset_data - padded < 2 * tarfile.BLOCKSIZE:
                raise BundleError(
                    "the bundle is cut short (its end-of-archive marker is missing); "
                    "copy it from the server again"
                )

    def _read_manifest(self, member: tarfile.TarInfo) -> list[Entry]:
        if member.size > _MAX_MANIFEST:
            raise BundleError("the bundle's manifest is implausibly large; it was altered")
        handle = self._tar.extractfile(member)
        assert handle is not None
        try:
            manifest = json.loads(handle.read().decode("utf-8"))
            if manifest.get("format") != FORMAT:
                raise BundleError("this archive is not a sealdrop bundle")
            if manifest.get("version") != VERSION:
                raise BundleError(
                    f"bundle version {manifest.get('version')} is not supported; upgrade sealdrop"
                )
            kind = manifest.get("kind", SUBMISSIONS)
            if kind != self.kind:
                raise BundleError(
                    f"this is a bundle of {kind}, not of {self.kind}: "
                    + (
                        "import it on the server with `sealdrop-intake import-replies`"
                        if kind == REPLIES
                        else "open it on the offline computer with `sealdrop-reviewer open`"
                    )
                )
            entries = [
                Entry(
                    str(e["id"]),
                    str(e["received"]),
                    int(e["size"]),
                    str(e["sha256"]),
                    str(e["mailbox"]) if kind == REPLIES else None,
                )
                for e in manifest[kind]
            ]
            if kind == REPLIES and not all(_valid_mailbox(e.mailbox or "") for e in entries):
                raise BundleError("the manifest names a malformed mailbox; it was altered")
            if not all(_well_formed(e) for e in entries):
                raise BundleError(
                    "the manifest lists a malformed id, hour, size or hash; it was altered"
                )
            self.events = [
                Entry(str(e["id"]), str(e["received"]), int(e["size"]), str(e["sha256"]))
                for e in manifest.get(EVENTS, [])
            ]
            if not all(_well_formed(e) for e in self.events):
                raise BundleError("the manifest lists a malformed staff event; it was altered")
            if len({e.id for e in self.events}) != len(self.events):
                raise BundleError("the manifest lists a staff event twice; it was altered")
            if "acks" in manifest:
                if kind != REPLIES:
                    raise BundleError("this bundle carries confirmations in the wrong place")
                self.acks = Acks.from_json(manifest["acks"])
        except BundleError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise BundleError(
                "the bundle's manifest is damaged; copy it from the server again"
            ) from None
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise BundleError(
                    f"the manifest lists {self._noun} {entry.id} twice; it was altered"
                )
            seen.add(entry.id)
        return entries

    def span(self, entry: Entry) -> tuple[int, int]:
        """Where the entry's envelope lies in the bundle file: (offset, length). For readers
        that read it directly (wrapped in a CheckedReader all the same)."""
        member = self._members[entry.id]
        return member.offset_data, member.size

    def envelopes(self) -> Iterator[tuple[Entry, CheckedReader]]:
        for entry in self.entries:
            handle = self._tar.extractfile(self._members[entry.id])
            assert handle is not None
            yield entry, CheckedReader(entry, handle)

    def event_envelopes(self) -> Iterator[tuple[Entry, CheckedReader]]:
        """The staff events' envelopes, each read through a hash-checking reader."""
        for entry in self.events:
            handle = self._tar.extractfile(self._event_members[entry.id])
            assert handle is not None
            yield entry, CheckedReader(entry, handle)


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
