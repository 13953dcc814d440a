"""Staff events and reviewers' confirmations, on the server: opaque ciphertext and counts.

    DATA_DIR/events/<id>.sdenv   a staff event, sealed to every team member (FORMAT.md §8)
    table `staff_events`         id, hour it arrived, size, hour it was first exported
    table `confirmations`        (submission or event id, reviewer key id, hour confirmed,
                                  signed: whether a signature by that reviewer proved it)

Events arrive in replies bundles (`import-replies`) and leave in the next submissions export,
so one export serves every reviewer's machine. The server cannot open them: it learns how
many there are, their sizes and hours. Reviewers confirm in their replies bundle what they
have opened, signed with their team signing key (FORMAT.md §8.5), which the server reads from
the `signing-key:` line of their file in SEALDROP_RECIPIENTS (a member card); `export --again`
repeats what someone has not confirmed, `purge` keeps it, and `status` shows what is pending.
Only signed confirmations count: the unsigned ones older versions sent (and any a forger
adds) are kept as "unsigned", which keeps purge careful, and never count as confirmed.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import BigInteger, Boolean, String, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crypto import EnvelopeError, SealdropError, read_header
from crypto.bundle import Acks, Bundle, BundleError, BundleWriter, CheckedReader, Entry
from crypto.confirmation import (
    Confirmed,
    ForgedConfirmation,
    UncheckableConfirmation,
    verify_confirmation,
)
from crypto.envelope import PREAMBLE_BYTES, check_length, header_length_from
from crypto.sinks import fsync_dir
from crypto.team import SigningPublicKey

from .db import Base, Submission, this_hour
from .storage import BLOB_SUFFIX, Store, remove_unlocked

MAX_EVENT_ENVELOPE = 4 << 20
_BATCH = 200  # event files held locked at once before their rows commit
_COPY = 1 << 20


class StaffEvent(Base):
    __tablename__ = "staff_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_hour: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    exported_hour: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)


class Confirmation(Base):
    __tablename__ = "confirmations"

    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger)
    signed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


def events_dir(store: Store) -> Path:
    return store.settings.data_dir / "events"


def event_path(store: Store, event_id: str) -> Path:
    return events_dir(store) / f"{event_id}{BLOB_SUFFIX}"


# --- import -------------------------------------------------------------------------------


def check_event(entry: Entry, reader: CheckedReader) -> None:
    """An event must match the manifest's hash and look like an envelope (section 3) of a
    plausible size; what is inside only the team can check."""
    name = f"staff event {entry.id}"
    if entry.size > MAX_EVENT_ENVELOPE:
        raise BundleError(f"{name} is larger than a staff event can be")
    head = reader.read(PREAMBLE_BYTES)
    head += reader.read(header_length_from(head) - len(head))
    try:
        check_length(read_header(io.BytesIO(head)), entry.size)
    except EnvelopeError as error:
        raise BundleError(f"{name} is not a well-formed envelope: {error}") from None
    reader.check()


def import_events(store: Store, bundle: Bundle) -> list[str]:
    """Stores the bundle's staff events not stored yet (call after checking them all). Each
    file is fsynced and renamed into events/ while locked; then, per batch, the folder is
    synced once and the rows commit in one transaction, so a crash leaves at worst files
    without rows (cleanup's orphans), never a row without its file."""
    with Session(store.engine) as session:
        known = set(session.scalars(select(StaffEvent.id)))
    events_dir(store).mkdir(mode=0o700, exist_ok=True)
    new: list[str] = []
    pending: list[tuple[Entry, Path, Path]] = []
    stack = contextlib.ExitStack()
    try:
        for entry, reader in bundle.event_envelopes():
            if entry.id in known:
                continue
            known.add(entry.id)
            store.check_disk(entry.size)
            temp, handle = stack.enter_context(store.new_temp())
            while block := reader.read(_COPY):
                handle.write(block)
            reader.check()
            os.fsync(handle.fileno())
            hour = this_hour()
            os.utime(handle.fileno(), (hour, hour))
            target = event_path(store, entry.id)
            os.rename(temp, target)
            pending.append((entry, temp, target))
            if len(pending) == _BATCH:
                new += _commit(store, pending)
                pending = []
                stack.close()
                stack = contextlib.ExitStack()
        new += _commit(store, pending)
    finally:
        stack.close()
    return new


def _commit(store: Store, pending: list[tuple[Entry, Path, Path]]) -> list[str]:
    if not pending:
        return []
    directory = events_dir(store)
    hour = this_hour()
    fsync_dir(directory)
    os.utime(directory, (hour, hour))  # no more precise time on disk than in the database
    rows = [{"id": e.id, "received_hour": hour, "size": e.size} for e, _, _ in pending]
    try:
        with store.engine.begin() as connection:
            connection.execute(insert(StaffEvent), rows)
        return [row["id"] for row in rows]
    except IntegrityError:  # another import stored some meanwhile: keep the rest
        stored = []
        for row in rows:
            with contextlib.suppress(IntegrityError), store.engine.begin() as connection:
                connection.execute(insert(StaffEvent).values(**row))
                stored.append(row["id"])
        return stored
    except BaseException:
        for _, temp, target in pending:
            with contextlib.suppress(FileNotFoundError):
                os.rename(target, temp)
        raise


def check_acks(store: Store, acks: Acks | None) -> None:
    if acks is not None and acks.reviewer not in recipient_ids(store):
        raise BundleError(
            f"the bundle confirms on behalf of key {acks.reviewer}, which is not one of this "
            "server's SEALDROP_RECIPIENTS; nothing was imported"
        )


def signing_keys(store: Store) -> dict[str, SigningPublicKey]:
    """Reviewer key id -> their signing key, from the `signing-key:` line of their file in
    SEALDROP_RECIPIENTS (a member card, FORMAT.md §8.1); a plain public key file has none."""
    keys = {}
    for path, key in zip(store.settings.recipient_files, store.settings.recipients, strict=True):
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            name, sep, value = line.partition(":")
            if sep and name.strip() == "signing-key":
                with contextlib.suppress(SealdropError):
                    keys[key.key_id_hex] = SigningPublicKey.from_line(value.strip())
    return keys


def check_confirmation(store: Store, bundle: Bundle) -> Confirmed | None:
    """The bundle's signed confirmation, checked against the reviewers' signing keys. A forged
    one refuses the bundle (it was altered); one from a reviewer whose signing key the server
    was not given is None here, and ``record_confirmations`` notes it as unsigned."""
    if bundle.confirmation is None:
        return None
    try:
        confirmed = verify_confirmation(bundle.confirmation, signing_keys(store))
    except UncheckableConfirmation:
        return None
    except ForgedConfirmation as exc:
        raise BundleError(f"{exc}: the bundle was altered; nothing was imported") from None
    if confirmed.reviewer not in recipient_ids(store):
        raise BundleError(
            f"the bundle confirms on behalf of key {confirmed.reviewer}, which is not one of "
            "this server's SEALDROP_RECIPIENTS; nothing was imported"
        )
    return confirmed


def record_acks(store: Store, acks: Acks | None, confirmed: Confirmed | None = None) -> int:
    """Records a reviewer's confirmations of items this server holds (others are ignored:
    purged already, or handed over between reviewers). Only a signed ``confirmed`` counts;
    unsigned ``acks`` (an older reviewer tool) are kept as unsigned, never as confirmed.
    Returns how many items became confirmed."""
    fresh = 0
    if confirmed is not None:
        items = set(confirmed.submissions) | set(confirmed.events)
        fresh = _record(store, confirmed.reviewer, items, signed=True)
    if acks is not None:
        check_acks(store, acks)
        _record(store, acks.reviewer, set(acks.submissions) | set(acks.events), signed=False)
    return fresh


# Kept per reviewer once they have confirmed anything (never an item id, never purged):
# purge keeps waiting for confirmations even after it deleted every confirmed item.
CONFIRMING = "-"


def _record(store: Store, reviewer: str, items: set[str], *, signed: bool) -> int:
    with Session(store.engine) as session, session.begin():
        if session.get(Confirmation, (CONFIRMING, reviewer)) is None:
            session.add(Confirmation(item=CONFIRMING, reviewer=reviewer, hour=0, signed=False))
        held = set()
        listed = sorted(items)
        for start in range(0, len(listed), 500):
            chunk = listed[start : start + 500]
            held |= set(session.scalars(select(Submission.id).where(Submission.id.in_(chunk))))
            held |= set(session.scalars(select(StaffEvent.id).where(StaffEvent.id.in_(chunk))))
        known = dict(
            session.execute(
                select(Confirmation.item, Confirmation.signed).where(
                    Confirmation.reviewer == reviewer
                )
            ).all()
        )
        fresh = sorted(held - set(known))
        for item in fresh:
            session.execute(
                insert(Confirmation).values(
                    item=item, reviewer=reviewer, hour=this_hour(), signed=signed
                )
            )
        upgraded = sorted(i for i in held & set(known) if signed and not known[i])
        for start in range(0, len(upgraded), 500):
            session.execute(
                update(Confirmation)
                .where(Confirmation.reviewer == reviewer)
                .where(Confirmation.item.in_(upgraded[start : start + 500]))
                .values(signed=True)
            )
    return len(fresh) + len(upgraded) if signed else 0


def recipient_ids(store: Store) -> list[str]:
    return [key.key_id_hex for key in store.settings.recipients]


# --- export -------------------------------------------------------------------------------


def sealed_to(store: Store, item: str) -> set[str]:
    """The current recipients an item must be confirmed by: those its envelope header names
    (a reviewer added later cannot open older submissions, so is not waited for). All of
    them if the header cannot be read."""
    everyone = set(recipient_ids(store))
    for path in (store.blob_path(item), event_path(store, item)):
        try:
            with open(path, "rb") as source:
                return everyone & set(read_header(source).key_ids)
        except FileNotFoundError:
            continue
        except (OSError, EnvelopeError):
            break
    return everyone


def unconfirmed(store: Store, session: Session, ids: Iterable[str]) -> set[str]:
    """The ids some reviewer they were sealed to has not confirmed."""
    listed = sorted(set(ids))
    confirmed: dict[str, set[str]] = {}
    for start in range(0, len(listed), 500):
        chunk = listed[start : start + 500]
        for item, reviewer in session.execute(
            select(Confirmation.item, Confirmation.reviewer)
            .where(Confirmation.item.in_(chunk))
            .where(Confirmation.signed.is_(True))
        ):
            confirmed.setdefault(item, set()).add(reviewer)
    return {i for i in listed if not sealed_to(store, i) <= confirmed.get(i, set())}


def events_to_export(store: Store, again_since: int | None) -> list[tuple[str, int, int]]:
    """(id, hour, size) of the events for this export: those never exported, or with
    ``again_since``, those exported since then that a reviewer has not confirmed."""
    with Session(store.engine) as session:
        query = select(StaffEvent.id, StaffEvent.received_hour, StaffEvent.size)
        if again_since is None:
            query = query.where(StaffEvent.exported_hour.is_(None))
        else:
            query = query.where(StaffEvent.exported_hour >= again_since)
        rows = session.execute(query.order_by(StaffEvent.id)).all()
        if again_since is not None:
            pending = unconfirmed(store, session, [r[0] for r in rows])
            rows = [r for r in rows if r[0] in pending]
    return [(r[0], r[1], r[2]) for r in rows]


def add_events(store: Store, writer: BundleWriter, rows: Sequence[tuple[str, int, int]]) -> None:
    from crypto.bundle import hour_stamp

    for event_id, hour, size in rows:
        try:
            source = open(event_path(store, event_id), "rb")
        except FileNotFoundError:
            raise BundleError(f"the ciphertext of staff event {event_id} is missing") from None
        with source:
            writer.add_event(event_id, hour_stamp(hour), source, size)


def mark_events_exported(store: Store, ids: Sequence[str]) -> None:
    with Session(store.engine) as session, session.begin():
        for start in range(0, len(ids), 500):
            session.execute(
                update(StaffEvent)
                .where(StaffEvent.id.in_(ids[start : start + 500]))
                .where(StaffEvent.exported_hour.is_(None))
                .values(exported_hour=this_hour())
            )


# --- purge and status ----------------------------------------------------------------------


def confirmations_in_use(session: Session) -> bool:
    return session.scalars(select(Confirmation.item).limit(1)).first() is not None


def purge_confirmed_events(store: Store) -> int:
    """Deletes exported events every current recipient has confirmed."""
    with Session(store.engine) as session, session.begin():
        exported = list(
            session.scalars(select(StaffEvent.id).where(StaffEvent.exported_hour.is_not(None)))
        )
        doomed = sorted(set(exported) - unconfirmed(store, session, exported))
        for start in range(0, len(doomed), 500):
            chunk = doomed[start : start + 500]
            session.execute(delete(StaffEvent).where(StaffEvent.id.in_(chunk)))
            session.execute(delete(Confirmation).where(Confirmation.item.in_(chunk)))
    for event_id in doomed:
        with contextlib.suppress(FileNotFoundError):
            event_path(store, event_id).unlink()
    return len(doomed)


def cleanup_events(store: Store) -> dict[str, int]:
    """Deletes event files without a row (a crash between the file and its row)."""
    directory = events_dir(store)
    if not directory.is_dir():
        return {"orphan_events": 0}
    with Session(store.engine) as session:
        known = set(session.scalars(select(StaffEvent.id)))

    def has_row(event_id: str) -> bool:
        with Session(store.engine) as session:
            return session.get(StaffEvent, event_id) is not None

    orphans = sum(
        remove_unlocked(path, keep=has_row)
        for path in directory.glob(f"*{BLOB_SUFFIX}")
        if path.name.removesuffix(BLOB_SUFFIX) not in known
    )
    return {"orphan_events": orphans}


def forget_confirmations(store: Store, ids: Sequence[str]) -> None:
    with Session(store.engine) as session, session.begin():
        for start in range(0, len(ids), 500):
            session.execute(
                delete(Confirmation).where(Confirmation.item.in_(ids[start : start + 500]))
            )


@dataclass(frozen=True)
class Status:
    submissions_new: int
    events_new: int
    # reviewer key id -> (submissions, events) exported but not confirmed by them
    pending: dict[str, tuple[int, int]]
    signing_keys: frozenset[str] = frozenset()  # reviewers whose confirmations can be checked


def status(store: Store) -> Status:
    reviewers = recipient_ids(store)
    with Session(store.engine) as session:
        new_subs = len(
            list(session.scalars(select(Submission.id).where(Submission.exported_hour.is_(None))))
        )
        new_events = len(
            list(session.scalars(select(StaffEvent.id).where(StaffEvent.exported_hour.is_(None))))
        )
        subs = list(
            session.scalars(select(Submission.id).where(Submission.exported_hour.is_not(None)))
        )
        events = list(
            session.scalars(select(StaffEvent.id).where(StaffEvent.exported_hour.is_not(None)))
        )
        confirmed: dict[str, set[str]] = {}
        for item, reviewer in session.execute(
            select(Confirmation.item, Confirmation.reviewer).where(Confirmation.signed.is_(True))
        ):
            confirmed.setdefault(reviewer, set()).add(item)
    owed = {i: sealed_to(store, i) for i in subs + events}
    pending = {
        r: (
            sum(r in owed[i] and i not in confirmed.get(r, set()) for i in subs),
            sum(r in owed[i] and i not in confirmed.get(r, set()) for i in events),
        )
        for r in reviewers
    }
    return Status(new_subs, new_events, pending, frozenset(signing_keys(store)))
