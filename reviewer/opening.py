"""Opening a bundle into the vault: one pass over each envelope, committed only when whole.

For each submission the envelope's bytes are hashed (CheckedReader) while they are decrypted
into a crypto.DirectorySink; the sink is committed only once the FINAL chunk verified *and*
the hash matches the manifest. Anything else discards the sink, so a failed submission leaves
nothing in the vault.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crypto import (
    Contents,
    DirectorySink,
    EnvelopeError,
    Identity,
    NotForYou,
    TruncatedEnvelope,
    open_envelope,
)
from crypto.bundle import Bundle, BundleError, CheckedReader, Entry
from crypto.framing import PartInfo

from .vault import Record, Vault

OPENED, ALREADY, FAILED = "opened", "already in vault", "failed"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class DiskFull(Exception):
    """The vault's disk filled up; nothing partial was kept."""


@dataclass(frozen=True)
class Outcome:
    id: str
    status: str
    detail: str
    received: str = ""


class _VerifiedSink:
    """A DirectorySink that commits only if the envelope's bytes also match the manifest."""

    def __init__(self, inner: DirectorySink, reader: CheckedReader) -> None:
        self._inner = inner
        self._reader = reader

    def begin_part(self, info: PartInfo) -> None:
        self._inner.begin_part(info)

    def write(self, data: memoryview) -> None:
        self._inner.write(data)

    def end_part(self, size: int) -> None:
        self._inner.end_part(size)

    def commit(self, contents: Contents) -> None:
        self._reader.check()
        self._inner.commit(contents)

    def discard(self) -> None:
        self._inner.discard()


class _Counting:
    def __init__(self, source: CheckedReader, advance: Callable[[int], None]) -> None:
        self._source = source
        self._advance = advance
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._source.read(n)
        self.count += len(data)
        self._advance(len(data))
        return data


def plan(bundle: Bundle, vault: Vault) -> tuple[list[Entry], list[Outcome]]:
    """Splits the bundle's entries into those to open and those already settled."""
    todo: list[Entry] = []
    settled: list[Outcome] = []
    for entry in bundle.entries:
        if not vault.contains(entry.id):
            todo.append(entry)
            continue
        record = vault.record(entry.id)
        if record is None:  # interrupted after the commit: restore the index
            vault.write_record(Record(entry.id, entry.received, entry.sha256))
        elif record.sha256 != entry.sha256:
            settled.append(
                Outcome(
                    entry.id,
                    FAILED,
                    "a different submission with the same id is already in your vault, so this "
                    "one was not opened; ask the admin whether the server was tampered with",
                    entry.received,
                )
            )
            continue
        settled.append(Outcome(entry.id, ALREADY, "opened before; nothing added", entry.received))
    return todo, settled


def open_entries(
    bundle: Bundle,
    vault: Vault,
    todo: Sequence[Entry],
    identities: Sequence[Identity],
    advance: Callable[[int], None] = lambda n: None,
    report: Callable[[Outcome], None] = lambda o: None,
) -> list[Outcome]:
    """Opens ``todo`` into the vault; raises DiskFull (after discarding) if the disk fills."""
    wanted = {entry.id for entry in todo}
    outcomes: list[Outcome] = []
    for entry, reader in bundle.envelopes():
        if entry.id not in wanted:
            continue
        counting = _Counting(reader, advance)
        vault.write_record(Record(entry.id, entry.received, entry.sha256), durable=False)
        try:
            sink = _VerifiedSink(DirectorySink(vault.destination(entry.id)), reader)
            contents = open_envelope(counting, identities, sink)
        except BundleError as exc:
            outcome = Outcome(entry.id, FAILED, str(exc), entry.received)
        except EnvelopeError as exc:
            outcome = Outcome(entry.id, FAILED, _explain(reader, exc, identities), entry.received)
        except OSError as exc:
            vault.forget_record(entry.id)
            if exc.errno in _DISK_FULL:
                raise DiskFull(
                    f"the disk holding the vault ({vault.root}) is full, so submission "
                    f"{entry.id} was not saved; free some space (or use --vault on a larger "
                    "disk) and run the same open command again"
                ) from None
            outcome = Outcome(
                entry.id,
                FAILED,
                f"could not write it to the vault ({exc.strerror}); check that {vault.root} "
                "is writable and run the same open command again",
                entry.received,
            )
        else:
            outcome = Outcome(entry.id, OPENED, _summary(contents), entry.received)
        if outcome.status == FAILED:
            vault.forget_record(entry.id)
        advance(entry.size - counting.count)
        outcomes.append(outcome)
        report(outcome)
    return outcomes


def _explain(reader: CheckedReader, error: EnvelopeError, identities: Sequence[Identity]) -> str:
    """Says whether the envelope was damaged after export (hash differs) or before it."""
    try:
        reader.check()
    except BundleError as mismatch:
        return str(mismatch)
    except OSError as exc:
        return f"the bundle could not be read ({exc.strerror}); copy it from the server again"
    if isinstance(error, NotForYou):
        yours = ", ".join(i.public_key.key_id_hex for i in identities)
        return (
            f"it is not encrypted to your key (yours is {yours}; it was sealed to "
            f"{', '.join(error.key_ids)}); open it with the identity of one of those keys "
            "(`sealdrop-reviewer fingerprint` shows a key's id as its first four groups)"
        )
    if isinstance(error, TruncatedEnvelope):
        return (
            f"the envelope was already cut short on the server ({error}); nothing of it was "
            "saved; tell the admin (the upload may have been interrupted)"
        )
    return (
        f"the envelope matches the manifest but is not authentic or is damaged ({error}); "
        "nothing of it was saved; tell the admin, the server's copy may have been altered"
    )


def _summary(contents: Contents) -> str:
    files = len(contents.files)
    parts = ["message" if contents.message is not None else "no message"]
    parts.append(f"{files} attachment" + ("" if files == 1 else "s"))
    return ", ".join(parts)
