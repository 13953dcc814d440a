"""Opening a bundle into the vault: one pass over each envelope, committed only when whole.

Each envelope's bytes are hashed (CheckedReader) as they are read, and decrypted into a
crypto.DirectorySink, which is committed only once the FINAL chunk verified *and* the hash
matches the manifest. Anything else discards the sink, so a failed submission leaves nothing
in the vault.

Small envelopes are read and hash-checked first, then decrypted by a pool of threads: their
cost is mostly waiting for fsync, which threads overlap. Large ones are streamed, read and
hashed in a second thread while this one decrypts (reviewer.streaming), never held whole.
"""

from __future__ import annotations

import errno
import io
import tarfile
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

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

from .streaming import Prefetcher, VerifiedSink
from .vault import Record, Vault

OPENED, ALREADY, FAILED = "opened", "already in vault", "failed"
SMALL = 1 << 20  # envelopes up to this size are read whole and opened by the thread pool
WORKERS = 16
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class DiskFull(Exception):
    """The vault's disk filled up; nothing partial was kept."""


@dataclass(frozen=True)
class Outcome:
    id: str
    status: str
    detail: str
    received: str = ""


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
    """Opens ``todo`` into the vault, reporting each outcome in bundle order; raises DiskFull
    (after discarding what was in progress) if the vault's disk fills up."""
    wanted = {entry.id for entry in todo}
    outcomes: list[Outcome] = []
    pending: deque[tuple[Entry, Future[Outcome]]] = deque()

    def settle_oldest() -> None:
        entry, future = pending.popleft()
        outcome = future.result()
        advance(entry.size)
        outcomes.append(outcome)
        report(outcome)

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="sealdrop-open") as pool:
        try:
            for entry, reader in bundle.envelopes():
                if entry.id not in wanted:
                    continue
                if entry.size <= SMALL:
                    pending.append((entry, _submit_small(pool, vault, entry, reader, identities)))
                    while len(pending) > 4 * WORKERS:
                        settle_oldest()
                    continue
                while pending:
                    settle_oldest()
                outcome = _open_large(vault, entry, reader, identities, advance)
                outcomes.append(outcome)
                report(outcome)
            while pending:
                settle_oldest()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return outcomes


def _submit_small(
    pool: ThreadPoolExecutor,
    vault: Vault,
    entry: Entry,
    reader: CheckedReader,
    identities: Sequence[Identity],
) -> Future[Outcome]:
    try:
        data = reader.read()
        reader.check()
    except (BundleError, OSError, tarfile.TarError) as exc:
        done: Future[Outcome] = Future()
        done.set_result(Outcome(entry.id, FAILED, _unreadable(exc), entry.received))
        return done
    return pool.submit(_open_one, vault, entry, io.BytesIO(data), None, identities)


def _open_large(
    vault: Vault,
    entry: Entry,
    reader: CheckedReader,
    identities: Sequence[Identity],
    advance: Callable[[int], None],
) -> Outcome:
    source = Prefetcher(reader, advance)
    try:
        return _open_one(vault, entry, source, source, identities)
    finally:
        source.close()
        advance(entry.size - source.reported)


def _open_one(
    vault: Vault,
    entry: Entry,
    source: BinaryIO | Prefetcher,
    checker: Prefetcher | None,
    identities: Sequence[Identity],
) -> Outcome:
    """Opens one envelope. ``checker`` verifies the manifest hash before the commit, unless
    the caller already did (``None``)."""
    try:
        vault.write_record(Record(entry.id, entry.received, entry.sha256), new=True)
        directory = DirectorySink(vault.destination(entry.id))
        sink = directory if checker is None else VerifiedSink(directory, checker)
        contents = open_envelope(source, identities, sink)  # type: ignore[arg-type]
    except EnvelopeError as exc:
        outcome = Outcome(entry.id, FAILED, _explain(checker, exc, identities), entry.received)
    except (BundleError, tarfile.TarError) as exc:
        outcome = Outcome(entry.id, FAILED, _unreadable(exc), entry.received)
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
        return Outcome(entry.id, OPENED, _summary(contents), entry.received)
    vault.forget_record(entry.id)
    return outcome


def _unreadable(exc: BaseException) -> str:
    if isinstance(exc, BundleError):
        return str(exc)
    detail = exc.strerror if isinstance(exc, OSError) else str(exc)
    return f"the bundle could not be read ({detail}); copy it from the server again"


def _explain(
    checker: Prefetcher | None, error: EnvelopeError, identities: Sequence[Identity]
) -> str:
    """Says whether the envelope was damaged after export (hash differs) or before it."""
    if checker is not None:
        try:
            checker.check()
        except (BundleError, OSError, tarfile.TarError) as exc:
            return _unreadable(exc)
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
