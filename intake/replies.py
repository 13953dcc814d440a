"""Replies from reviewers, waiting for submitters: stored ciphertext, metadata only.

    DATA_DIR/replies/<id>.sdenv   one reply envelope, sealed to a codename's reply key alone
    table `replies`               id, mailbox, hour written, size, hour it expires

The server cannot read a reply, and learns nothing about who it is for beyond the mailbox id
the reviewer's bundle names (docs/FORMAT.md §5). Replies arrive by `sealdrop-intake
import-replies FILE` (a replies bundle, §4), are published like submissions (temp file,
fsync, rename, then the row commits), and are deleted when the submitter deletes them or after
REPLY_TTL_DAYS.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import BigInteger, String, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crypto import EnvelopeError, read_header
from crypto.bundle import Bundle, BundleError, CheckedReader, Entry, parse_hour
from crypto.envelope import MAGIC, PREAMBLE_BYTES, check_length, header_length_from
from crypto.sinks import fsync_dir

from . import config as config_module
from . import epochs, ledger, team
from .config import ConfigError, Settings
from .db import Base, forget_deleted, make_engine, this_hour
from .errors import IntakeError
from .storage import BLOB_SUFFIX, Store, blur_time, remove_unlocked

DEFAULT_REPLY_TTL_DAYS = 30
# The ceiling, per process, for checks beyond each circuit's first few of a minute (those
# never meet it: intake/fairness.py CheckAdmission).
DEFAULT_CHECKS_PER_MINUTE = 600
DEFAULT_CHECKS_PER_CIRCUIT_PER_MINUTE = 10
# Off: a floor holds a thread asleep for every check, which a flood multiplies; every check
# does the same work anyway (parse, derive, one indexed lookup).
DEFAULT_FLOOR_MS = 0
_COPY = 1 << 20


class Reply(Base):
    """A stored reply: its ciphertext is replies/<id>.sdenv in the data directory."""

    __tablename__ = "replies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(26), index=True)
    received_hour: Mapped[int] = mapped_column(BigInteger)  # the hour the reviewer wrote it
    size: Mapped[int] = mapped_column(BigInteger)
    expires_hour: Mapped[int] = mapped_column(BigInteger, index=True)


class ImportError_(Exception):
    """The bundle was refused; nothing from it was stored."""


@dataclass(frozen=True)
class FollowupSettings:
    reply_ttl_days: int
    checks_per_minute: int  # checks beyond each circuit's first few, per process, all together
    checks_per_circuit_per_minute: int  # ... per Tor circuit (X-Sealdrop-Circuit), per process
    floor_seconds: float  # every codename check and mailbox lookup takes at least this long
    derivations_at_once: int = 1  # no-JS mailbox v2 derivations running at once, per process


def load_followup(config: Mapping[str, Any] | Settings | None) -> FollowupSettings:
    """REPLY_TTL_DAYS, FOLLOWUP_CHECKS_PER_MINUTE, FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE,
    FOLLOWUP_FLOOR_MS and FOLLOWUP_DERIVATIONS_AT_ONCE from a config dict, or from SEALDROP_*
    in the environment."""
    if isinstance(config, Mapping):
        raw: Mapping[str, Any] = config
    else:
        raw = {k.removeprefix("SEALDROP_"): v for k, v in os.environ.items()}

    def number(key: str, default: int, minimum: int) -> int:
        value = raw.get(key)
        if value in (None, ""):
            return default
        try:
            result = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"SEALDROP_{key} must be a whole number, not {value!r}") from None
        if result < minimum:
            raise ConfigError(f"SEALDROP_{key} must be at least {minimum}")
        return result

    return FollowupSettings(
        reply_ttl_days=number("REPLY_TTL_DAYS", DEFAULT_REPLY_TTL_DAYS, 1),
        checks_per_minute=number("FOLLOWUP_CHECKS_PER_MINUTE", DEFAULT_CHECKS_PER_MINUTE, 1),
        checks_per_circuit_per_minute=number(
            "FOLLOWUP_CHECKS_PER_CIRCUIT_PER_MINUTE", DEFAULT_CHECKS_PER_CIRCUIT_PER_MINUTE, 1
        ),
        floor_seconds=number("FOLLOWUP_FLOOR_MS", DEFAULT_FLOOR_MS, 0) / 1000,
        derivations_at_once=number("FOLLOWUP_DERIVATIONS_AT_ONCE", 1, 1),
    )


def _hour_of(entry: Entry) -> int:
    try:
        return parse_hour(entry.received)
    except ValueError:
        raise BundleError(
            f"reply {entry.id} names the hour {entry.received!r}, which does not exist"
        ) from None


class ReplyStore:
    def __init__(self, store: Store, ttl_days: int = DEFAULT_REPLY_TTL_DAYS) -> None:
        self.store = store
        self.ttl_days = ttl_days

    @property
    def directory(self) -> Path:
        return self.store.settings.data_dir / "replies"

    def path(self, reply_id: str) -> Path:
        return self.directory / f"{reply_id}{BLOB_SUFFIX}"

    def ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, exist_ok=True)

    # reading

    def list(self, mailbox: str, now: float | None = None) -> list[Reply]:
        """The mailbox's replies not yet expired, oldest first (ties broken by id)."""
        with Session(self.store.engine) as session:
            rows = session.scalars(
                select(Reply)
                .where(Reply.mailbox == mailbox, Reply.expires_hour > this_hour(now))
                .order_by(Reply.received_hour, Reply.id)
            ).all()
            session.expunge_all()
        return list(rows)

    def read(self, mailbox: str, reply_id: str, now: float | None = None) -> bytes | None:
        if not any(reply.id == reply_id for reply in self.list(mailbox, now)):
            return None
        try:
            return self.path(reply_id).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, mailbox: str, reply_id: str) -> bool:
        """Deletes the row, then the ciphertext (a crash between leaves an orphan for
        cleanup). False if the mailbox holds no such reply."""
        with self.store.engine.begin() as connection:
            sizes = connection.scalars(
                delete(Reply)
                .where(Reply.id == reply_id, Reply.mailbox == mailbox)
                .returning(Reply.size)
            ).all()
            self.store.release_stored(connection, sum(sizes))
        deleted = len(sizes)
        if deleted:
            with contextlib.suppress(FileNotFoundError):
                self.path(reply_id).unlink()
            blur_time(self.directory)
            forget_deleted(self.store.engine)  # the write-ahead log held the id and mailbox
        return bool(deleted)

    # importing

    def import_bundle(self, path: str | Path, report: dict[str, int] | None = None) -> list[str]:
        """Stores every reply in the bundle not stored yet; returns the new ids. The whole
        bundle is checked first: a damaged or altered one stores nothing. Its staff events
        and confirmations (intake.team) are stored too, counted in ``report``."""
        try:
            with Bundle(path, "replies") as bundle:
                hours = {}
                for entry, reader in bundle.envelopes():
                    _check_envelope(entry, reader, self.store.settings.max_submission_bytes)
                    hours[entry.id] = _hour_of(entry)
                for entry, reader in bundle.event_envelopes():
                    team.check_event(entry, reader)
                team.check_acks(self.store, bundle.acks)
                signed = team.check_confirmation(self.store, bundle)
                statements, set_aside = epochs.check(self.store.settings, bundle.epochs)
                with Session(self.store.engine) as session:
                    known = set(session.scalars(select(Reply.id)))
                todo = [entry for entry in bundle.entries if entry.id not in known]
                needed = sum(entry.size for entry in todo) + sum(e.size for e in bundle.events)
                self._check_room(needed)
                self._reserve(needed)
                try:
                    self.ensure_directory()
                    new = []
                    for entry, reader in bundle.envelopes():
                        if entry.id not in known and self._publish(entry, reader, hours[entry.id]):
                            new.append(entry.id)
                    events = team.import_events(self.store, bundle)
                finally:
                    self.store.recount()  # charged for what was stored, not what was reserved
                confirmed = team.record_acks(self.store, bundle.acks, signed)
                epochs.store(self.store.settings, statements)
                if report is not None:
                    report.update(events=len(events), confirmed=confirmed)
                    if statements:
                        report["epochs"] = len(statements)
                    if set_aside:
                        report["epochs_set_aside"] = set_aside
                return new
        except BundleError as error:
            raise ImportError_(str(error)) from None

    def _check_room(self, needed: int) -> None:
        try:
            self.store.check_disk(needed)
        except IntakeError:
            raise ImportError_(
                f"the server's disk has no room for this bundle's {needed} bytes of replies "
                "(above the reserve kept for submissions), so none was stored; free some space "
                "and import it again"
            ) from None

    def _reserve(self, needed: int) -> None:
        """Charges the bundle to the storage budget before a byte of it is written."""
        settings = self.store.settings
        if not ledger.reserve_staff(self.store.engine, settings, needed):
            limit = settings.general_limit or 0
            used = self.store.used_bytes()
            raise ImportError_(
                f"this bundle's {needed} bytes of replies and staff events do not fit in the "
                f"storage budget ({used} of the {limit} bytes SEALDROP_STORAGE_BUDGET_BYTES "
                "allows beside the slice kept for new texts are in use), so none of it was "
                "stored; export and purge submissions, or raise the budget, then import it again"
            )

    def _publish(self, entry: Entry, reader: CheckedReader, hour: int) -> bool:
        with self.store.new_temp() as (temp, handle):
            while block := reader.read(_COPY):
                handle.write(block)
            reader.check()
            os.fsync(handle.fileno())
            os.utime(handle.fileno(), (hour, hour))
            target = self.path(entry.id)
            os.rename(temp, target)
            blur_time(self.directory)
            fsync_dir(self.directory)
            try:
                with self.store.engine.begin() as connection:
                    connection.execute(
                        insert(Reply).values(
                            id=entry.id,
                            mailbox=entry.mailbox,
                            received_hour=hour,
                            size=entry.size,
                            expires_hour=this_hour() + self.ttl_days * 86400,
                        )
                    )
            except IntegrityError:
                return False  # imported meanwhile by another run: the same bytes, kept once
            except BaseException:
                os.rename(target, temp)
                raise
        return True

    # expiry

    def cleanup(self, now: float | None = None) -> dict[str, int]:
        """Deletes expired replies, then reply files without a row (left by a crash)."""
        with self.store.engine.begin() as connection:
            expired = list(
                connection.scalars(select(Reply.id).where(Reply.expires_hour <= this_hour(now)))
            )
            if expired:
                sizes = connection.scalars(
                    delete(Reply).where(Reply.id.in_(expired)).returning(Reply.size)
                ).all()
                self.store.release_stored(connection, sum(sizes))
        for reply_id in expired:
            with contextlib.suppress(FileNotFoundError):
                self.path(reply_id).unlink()
        if expired:
            blur_time(self.directory)
            forget_deleted(self.store.engine)
        orphans = 0
        if self.directory.is_dir():
            with Session(self.store.engine) as session:
                known = set(session.scalars(select(Reply.id)))
            for path in self.directory.glob(f"*{BLOB_SUFFIX}"):
                if path.name.removesuffix(BLOB_SUFFIX) not in known:
                    orphans += self._remove_orphan(path)
        return {"expired_replies": len(expired), "orphan_replies": orphans}

    def _remove_orphan(self, path: Path) -> int:
        def has_row(reply_id: str) -> bool:
            with Session(self.store.engine) as session:
                return session.get(Reply, reply_id) is not None

        return remove_unlocked(path, keep=has_row)


def _check_envelope(entry: Entry, reader: CheckedReader, max_bytes: int) -> None:
    """A reply must match the manifest's hash and be an envelope for exactly one recipient
    (the submitter's reply key), of a length an honest sealer writes."""
    name = f"reply {entry.id}"
    if entry.size > max_bytes:
        raise BundleError(f"{name} is larger than this server accepts ({max_bytes} bytes)")
    head = reader.read(PREAMBLE_BYTES)  # magic, version, number of recipients
    if len(head) == PREAMBLE_BYTES and head.startswith(MAGIC) and head[-1] != 1:
        raise BundleError(f"{name} is encrypted to {head[-1]} keys; a reply has exactly one")
    head += reader.read(header_length_from(head) - len(head))
    try:
        check_length(read_header(io.BytesIO(head)), entry.size)
    except EnvelopeError as error:
        raise BundleError(f"{name} is not a well-formed reply envelope: {error}") from None
    reader.check()


def _reply_store(source: Flask | Mapping[str, Any] | Settings | None) -> tuple[ReplyStore, bool]:
    if isinstance(source, Flask):
        return source.extensions["sealdrop_replies"], False
    settings = config_module.load(source)
    ttl = load_followup(source).reply_ttl_days
    return ReplyStore(Store(settings, make_engine(settings.database_url)), ttl), True


def import_replies(
    source: Flask | Mapping[str, Any] | Settings | None,
    path: str | Path,
    report: dict[str, int] | None = None,
) -> list[str]:
    """Imports a replies bundle (idempotent: ids already stored are skipped). Returns the new
    ids; raises ImportError_ (storing nothing) for a damaged, altered or wrong-kind bundle."""
    replies, owned = _reply_store(source)
    try:
        return replies.import_bundle(path, report)
    finally:
        if owned:
            replies.store.engine.dispose()


def cleanup_replies(source: Flask | Mapping[str, Any] | Settings | None) -> dict[str, int]:
    replies, owned = _reply_store(source)
    try:
        return replies.cleanup()
    finally:
        if owned:
            replies.store.engine.dispose()


@click.command("import-replies")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(bundle: Path) -> None:
    """Store the replies in BUNDLE (from `sealdrop-reviewer export-replies`)."""
    report: dict[str, int] = {}
    try:
        ids = import_replies(None, bundle, report)
        counts = cleanup_replies(None)
    except (ConfigError, ImportError_) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"imported {len(ids)} new repl{'y' if len(ids) == 1 else 'ies'} from {bundle}"
        f" ({counts['expired_replies']} expired deleted)"
    )
    if report.get("epochs"):
        click.echo(f"and the weekly keys of {report['epochs']} reviewer(s), now served to the page")
    for note in report.get("epochs_set_aside", ()):
        click.echo(f"note: {note}")
    if report.get("events") or report.get("confirmed"):
        click.echo(
            f"and {report['events']} new staff event(s) for the next export, "
            f"{report['confirmed']} confirmation(s) of what a reviewer opened"
        )
