"""Opening a bundle into the vault: one pass over each envelope, committed only when whole.

Each envelope's bytes are hashed (CheckedReader) as they are read from the bundle, and a
submission reaches the vault through a crypto.DirectorySink committed only once the FINAL
chunk verified *and* the hash matched the manifest. Anything else discards the sink, so a
failed submission leaves nothing in the vault.

Small envelopes (up to 1 MiB) are read and hash-checked, then decrypted and verified whole in
memory by a pool of threads before anything is written: no plaintext of a damaged one ever
touches the disk, and the threads overlap the fsync waits that dominate their cost. Large
ones are streamed: read and hashed in a second thread while this one decrypts into the sink's
private work directory (reviewer.streaming).
"""

from __future__ import annotations

import errno
import io
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from crypto import (
    Contents,
    DirectorySink,
    EnvelopeError,
    EpochKeyDeleted,
    Identity,
    MalformedContent,
    MemorySink,
    NotForYou,
    TruncatedEnvelope,
    open_envelope,
)
from crypto.bundle import Bundle, BundleError, CheckedReader, Entry
from crypto.epochs import DeletedKey
from crypto.errors import StanzaNotForYourKey

from . import epochs, handover, replies, runway, setaside, sync
from .streaming import Prefetcher, SpanReader, VerifiedSink
from .team import Team
from .vault import Record, Vault

OPENED, ALREADY, FAILED = "opened", "already in vault", "failed"
# Sealed only to colleagues, before this reviewer's key was added: not a failure, a hand-over.
BEFORE_YOU = "sealed before you joined"
SMALL = 1 << 20  # envelopes up to this size are read whole and opened by the thread pool
WORKERS = 8  # enough to overlap fsync waits; each extra thread adds GIL hand-offs
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
    if identities:  # this week's keys and the deleted ones (FORMAT.md 10.4), after pruning
        identities = [*identities, *epochs.for_opening(vault, identities[0])]  # type: ignore[list-item]
    wanted = {entry.id for entry in todo}
    outcomes: list[Outcome] = []
    pending: deque[tuple[Entry, Future[Outcome]]] = deque()

    def settle_oldest() -> None:
        entry, future = pending.popleft()
        outcome = future.result()
        advance(entry.size)
        outcomes.append(outcome)
        report(outcome)

    fd = os.open(bundle.path, os.O_RDONLY)
    try:
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="sealdrop-open") as pool:
            try:
                for entry in bundle.entries:
                    if entry.id not in wanted:
                        continue
                    reader = CheckedReader(entry, SpanReader(fd, *bundle.span(entry)))
                    if entry.size <= SMALL:
                        pending.append(
                            (entry, _submit_small(pool, vault, entry, reader, identities))
                        )
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
    finally:
        os.close(fd)
        replies.number_in_order(vault, [o.id for o in outcomes if o.status == OPENED])
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
    except (BundleError, OSError) as exc:
        done: Future[Outcome] = Future()
        done.set_result(Outcome(entry.id, FAILED, _unreadable(exc), entry.received))
        return done
    return pool.submit(_open_small, vault, entry, data, identities)


def _open_small(vault: Vault, entry: Entry, data: bytes, identities: Sequence[Identity]) -> Outcome:
    """Decrypts and verifies the whole envelope in memory before anything is written, so a
    damaged or altered small submission puts no plaintext on disk at all."""

    def run() -> Contents:
        contents = open_envelope(io.BytesIO(data), identities, MemorySink(len(data)))
        sink = DirectorySink(vault.destination(entry.id))
        try:
            for part in contents.parts:
                sink.begin_part(part.info)
                sink.write(memoryview(part.data or b""))
                sink.end_part(part.size)
            sink.commit(contents)
        except BaseException:
            sink.discard()
            raise
        return contents

    return _attempt(vault, entry, None, identities, run)


def _open_large(
    vault: Vault,
    entry: Entry,
    reader: CheckedReader,
    identities: Sequence[Identity],
    advance: Callable[[int], None],
) -> Outcome:
    """Streams the envelope through a private work directory in the vault (too large for
    memory), published only once the FINAL chunk and the manifest hash both verified."""
    source = Prefetcher(reader, advance)

    def run() -> Contents:
        sink = VerifiedSink(DirectorySink(vault.destination(entry.id)), source)
        return open_envelope(source, identities, sink)  # type: ignore[arg-type]

    try:
        return _attempt(vault, entry, source, identities, run)
    finally:
        source.close()
        advance(entry.size - source.reported)


def _attempt(
    vault: Vault,
    entry: Entry,
    checker: Prefetcher | None,
    identities: Sequence[Identity],
    run: Callable[[], Contents],
) -> Outcome:
    """Runs one open and turns its failure into an outcome. ``checker`` is the reader whose
    manifest hash is still to be checked (None if it was checked before decrypting)."""
    try:
        vault.write_record(Record(entry.id, entry.received, entry.sha256), new=True)
        contents = run()
    except EnvelopeError as exc:
        colleagues = _colleagues(vault, exc, entry.received, identities)
        if colleagues and (checker is None or _intact(checker)):
            outcome = Outcome(entry.id, BEFORE_YOU, ", ".join(colleagues), entry.received)
        else:
            outcome = Outcome(entry.id, FAILED, _explain(checker, exc, identities), entry.received)
    except BundleError as exc:
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
    except Exception as exc:  # one bad envelope must never stop the others
        outcome = Outcome(
            entry.id,
            FAILED,
            f"sealdrop met an error it did not expect while opening it ({type(exc).__name__}); "
            "nothing of it was saved; the other submissions were opened; please report this",
            entry.received,
        )
    else:
        return Outcome(entry.id, OPENED, _summary(contents), entry.received)
    vault.forget_record(entry.id)
    return outcome


def _colleagues(
    vault: Vault, error: EnvelopeError, received: str, identities: Sequence[Identity]
) -> list[str]:
    """The colleagues an envelope was sealed to instead of this reviewer, when the server
    received it before this reviewer joined the team here (an earlier hour than their own
    entry in the team list): then it predates them. Empty otherwise: a failure."""
    if not isinstance(error, NotForYou) or not sync.in_team(vault):
        return []
    team = Team(vault)
    joined = [team.added(i.public_key.key_id_hex) for i in _own(identities)]
    if not joined or not all(joined) or not received < min(joined):
        return []
    found = [team.by_key_id(key_id) for key_id in error.key_ids]
    return sorted({member.label for member in found if member is not None})


def _own(identities: Sequence[Identity]) -> list[Identity]:
    """The reviewer's own long-term keys, without the epoch keys that open_entries adds."""
    return [i for i in identities if not isinstance(i, (epochs.EpochIdentity, DeletedKey))]


def _intact(checker: Prefetcher) -> bool:
    try:
        checker.check()
    except (BundleError, OSError):
        return False
    return True


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
        except (BundleError, OSError) as exc:
            return _unreadable(exc)
    if isinstance(error, NotForYou):
        yours = ", ".join(i.public_key.key_id_hex for i in _own(identities))
        return (
            f"it is not encrypted to your key (yours is {yours}; it was sealed to "
            f"{', '.join(error.key_ids)}); open it with the identity of one of those keys "
            "(`sealdrop-reviewer fingerprint` shows a key's id as its first four groups)"
        )
    if isinstance(error, EpochKeyDeleted):
        return f"{error}; this is how forward secrecy works (docs/REVIEWER.md, epoch keys)"
    if isinstance(error, StanzaNotForYourKey):
        return f"{error}; nothing of it was saved"
    if isinstance(error, MalformedContent):
        return (
            f"it opened with your key, but what was sealed inside breaks the format ({error}); "
            "nothing of it was saved; it was written by faulty or hostile software, not "
            "altered on the server"
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


# --- staff events: the team hook (reviewer.sync), run after the submissions ----------------


def wants_identity(bundle: Bundle, vault: Vault) -> bool:
    """Whether the open needs the identity unlocked even with nothing new to open: the bundle
    carries staff events, or the weekly keys run out soon and the vault has none beyond (the
    open makes new weeks, so that a quiet drop does not lapse)."""
    lapse = runway.ends_soon(vault)
    return bool(bundle.events) or (lapse is not None and not lapse.unsent)


def merge_staff_events(
    bundle: Bundle, vault: Vault, outcomes: Sequence[Outcome], identity: Identity | None
) -> sync.Received | None:
    """With a team: confirms to the server what is now in the vault, merges the bundle's
    events (``identity`` is needed only when there are some) and destroys here what the
    team destroyed. None when there were no events to report."""
    if not bundle.events and not sync.in_team(vault):
        return None
    handover.adopt_handed_over(vault, [o.id for o in outcomes if o.status == OPENED])
    sync.record_opened(vault, [o.id for o in outcomes if o.status in (OPENED, ALREADY)])
    if identity is None or not (bundle.events or setaside.waiting(vault)):
        sync.settle(vault)
        return None
    return sync.receive(vault, bundle, identity)
