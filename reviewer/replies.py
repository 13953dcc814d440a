"""Replies to submitters (docs/FORMAT.md, section 5), written and sealed on the offline computer.

A submission whose trailer carries a ``reply_key`` (and ``mailbox``) can be answered: the reply
is an ordinary envelope sealed to that key alone (message = the reply text, files =
attachments, trailer ``{}``). Sealed replies wait in the outbox until ``export_replies`` writes
them as one replies bundle for the server. The reviewer cannot open a sealed reply (only the
codename's holder can), so the vault also keeps what was written, in plaintext, for the thread.

Vault additions (directories 0700, files 0600; see reviewer.vault for the rest)::

    replies/<id>/               the reply as written; appears whole or not at all
        contents.json           {"id", "in_reply_to", "reply_key", "mailbox", "written", "parts"}
        part-000, ...           the message, then the attachments
        exported.json           {"exported": hour}, once it left in a bundle
    outbox/<id>.sdenv           the sealed reply, until exported
    order.json                  {id: n}: the order submissions and replies entered the vault

The outbox envelope is renamed into place before the reply's directory, so a queued reply (a
directory without exported.json) always has its envelope.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import mimetypes
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from crypto.bundle import (
    HOUR_PATTERN,
    ID_PATTERN,
    MAILBOX_PATTERN,
    REPLIES,
    Bundle,
    BundleError,
    BundleWriter,
    hour_stamp,
)
from crypto.sinks import fsync_dir

from .threads import ReplyError, check_answerable, reply_target, thread_key
from .vault import Submission, Vault, VaultError, write_atomically

if TYPE_CHECKING:  # sealing is imported when a reply is written: the inbox starts without it
    from crypto import PartInfo, PublicKey, Sealer
    from crypto.confirmation import SignedConfirmation

_FILE_MODE = 0o600
_PARTIAL = ".partial-"
_SUFFIX = ".sdenv"
MESSAGE = "message"
FILE = "file"


def new_id() -> str:
    """128 random bits, lowercase base32: reveals nothing, not even the order of replies."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


@dataclass
class Reply:
    id: str
    in_reply_to: str
    reply_key: str
    mailbox: str
    written: str
    path: Path
    parts: list[dict[str, Any]] = field(default_factory=list)
    exported: str | None = None

    @property
    def message(self) -> dict[str, Any] | None:
        return next((p for p in self.parts if p["kind"] == MESSAGE), None)

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return [p for p in self.parts if p["kind"] == FILE]

    def part_path(self, part: dict[str, Any]) -> Path:
        name = str(part["file"])
        if not name.startswith("part-") or "/" in name:
            raise _damaged(self.path)
        return self.path / name


# --- writing a reply -----------------------------------------------------------------------


def queue_reply(
    vault: Vault | str | Path, submission_id: str, text: str, files: Sequence[str | Path] = ()
) -> Reply:
    """Seals a reply to a submission's reply key and puts it in the outbox. ``submission_id``
    may be a prefix. Nothing is kept unless the whole reply was written."""
    vault = _vault(vault)
    submission = vault.find(submission_id)
    public_key, mailbox = reply_target(submission)
    check_answerable(vault, submission, order(vault))
    if not text.strip() and not files:
        raise ReplyError("the reply is empty: write a message or attach a file; nothing was queued")
    sources = [_check_readable(Path(path)) for path in files]
    with _exclusive(vault):
        reply_id = _queue(vault, submission, public_key, mailbox, text, sources)
    order(vault)
    return load_reply(vault, reply_id)


def _queue(
    vault: Vault,
    submission: Submission,
    public_key: PublicKey,
    mailbox: str,
    text: str,
    sources: list[Path],
) -> str:
    replies_dir, outbox = _dirs(vault)
    remove_partials(vault)
    reply_id = new_id()
    written = hour_stamp()
    workdir = Path(tempfile.mkdtemp(prefix=f".{reply_id}{_PARTIAL}", dir=replies_dir))
    pending = outbox / f".{reply_id}{_PARTIAL}{_SUFFIX}"
    try:
        parts = _seal(workdir, pending, public_key, text, sources)
        listing = {
            "id": reply_id,
            "in_reply_to": submission.id,
            "reply_key": public_key.line,
            "mailbox": mailbox,
            "written": written,
            "parts": parts,
        }
        _write_new(workdir / "contents.json", json.dumps(listing, indent=2).encode("utf-8"))
        os.rename(pending, outbox / f"{reply_id}{_SUFFIX}")
        fsync_dir(outbox)
        os.rename(workdir, replies_dir / reply_id)
        fsync_dir(replies_dir)
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        pending.unlink(missing_ok=True)
        raise ReplyError(
            f"could not write the reply into the vault {vault.root} ({exc.strerror}); "
            "nothing was queued; free some space or check permissions and write it again"
        ) from None
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        pending.unlink(missing_ok=True)
        raise
    return reply_id


def _check_readable(path: Path) -> Path:
    try:
        with path.open("rb"):
            pass
        if not path.is_file():
            raise IsADirectoryError(21, "not a regular file")
    except OSError as exc:
        raise ReplyError(
            f"cannot attach {path} ({exc.strerror}); nothing was queued; check the path"
        ) from None
    return path


def _seal(
    workdir: Path, envelope_path: Path, key: PublicKey, text: str, sources: list[Path]
) -> list[dict[str, Any]]:
    """Writes the envelope and, beside it, the plaintext of each part, in one pass."""
    from crypto import PartInfo, Sealer
    from crypto.envelope import REPLY_VERSION

    parts: list[dict[str, Any]] = []
    fd = os.open(envelope_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    with os.fdopen(fd, "wb") as envelope:
        sealer = Sealer(envelope, [key], version=REPLY_VERSION)
        message = io.BytesIO(text.encode("utf-8"))
        parts.append(_tee(workdir, len(parts), sealer, PartInfo(MESSAGE), message))
        for source in sources:
            media_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
            info = PartInfo(FILE, source.name, media_type)
            with source.open("rb") as handle:
                parts.append(_tee(workdir, len(parts), sealer, info, handle))
        sealer.close({})
        envelope.flush()
        os.fsync(envelope.fileno())
    return parts


def _tee(
    workdir: Path, index: int, sealer: Sealer, info: PartInfo, source: BinaryIO
) -> dict[str, Any]:
    from crypto import CHUNK_SIZE

    name = f"part-{index:03d}"
    size = 0
    fd = os.open(workdir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    with os.fdopen(fd, "wb") as copy:
        sealer.begin_part(info)
        while block := source.read(CHUNK_SIZE):
            sealer.write(block)
            copy.write(block)
            size += len(block)
        sealer.end_part()
        copy.flush()
        os.fsync(copy.fileno())
    return {
        "file": name,
        "kind": info.kind,
        "name": info.name,
        "type": info.media_type,
        "size": size,
    }


# --- reading replies -----------------------------------------------------------------------


def reply_ids(vault: Vault) -> list[str]:
    replies_dir, _ = _dirs(vault)
    return sorted(
        entry.name
        for entry in replies_dir.iterdir()
        if ID_PATTERN.fullmatch(entry.name) and entry.is_dir()
    )


def load_reply(vault: Vault, reply_id: str) -> Reply:
    replies_dir, _ = _dirs(vault)
    path = replies_dir / reply_id
    try:
        data = json.loads((path / "contents.json").read_text(encoding="utf-8"))
        reply = Reply(
            str(data["id"]),
            str(data["in_reply_to"]),
            str(data["reply_key"]),
            str(data["mailbox"]),
            str(data["written"]),
            path,
            list(data["parts"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        raise _damaged(path) from None
    try:
        reply.exported = str(json.loads((path / "exported.json").read_text("utf-8"))["exported"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError):
        reply.exported = "unknown"
    well_formed = MAILBOX_PATTERN.fullmatch(reply.mailbox) and HOUR_PATTERN.fullmatch(reply.written)
    if reply.id != reply_id or not well_formed:
        raise _damaged(path)
    return reply


def _damaged(path: Path) -> VaultError:
    return VaultError(
        f"the vault's copy of reply {path.name} is damaged; delete the folder {path} "
        "(and its sealed copy in the outbox, if any) and write that reply again"
    )


def replies(vault: Vault) -> list[Reply]:
    return [load_reply(vault, reply_id) for reply_id in reply_ids(vault)]


def queued(vault: Vault) -> list[Reply]:
    """Replies not yet exported, in the order they were written."""
    positions = order(vault)
    waiting = [reply for reply in replies(vault) if reply.exported is None]
    return sorted(waiting, key=lambda r: (positions.get(r.id, 0), r.id))


def replies_directory(vault: Vault) -> Path:
    return _dirs(vault)[0]


def queued_count(vault: Vault) -> int:
    """How many replies wait for export, without reading them (the inbox shows it)."""
    _, outbox = _dirs(vault)
    with os.scandir(outbox) as entries:
        return sum(entry.name.endswith(_SUFFIX) for entry in entries)


# --- exporting -----------------------------------------------------------------------------


def export_replies(
    vault: Vault | str | Path,
    out_path: str | Path,
    events: Sequence[tuple[str, str, bytes]] = (),
    acks: SignedConfirmation | None = None,
    epoch_statement: str | None = None,
) -> list[str]:
    """Writes every queued reply into one replies bundle at ``out_path`` and marks them
    exported. Returns their ids; with nothing queued, writes no file and returns []. Staff
    events (id, hour, sealed envelope) and confirmations (reviewer.sync) go in the same
    bundle, which is then written even without replies."""
    vault = _vault(vault)
    with _exclusive(vault):
        remove_partials(vault)
        return _export(vault, Path(out_path), events, acks, epoch_statement)


def _export(
    vault: Vault,
    out_path: Path,
    events: Sequence[tuple[str, str, bytes]],
    acks: SignedConfirmation | None,
    epoch_statement: str | None = None,
) -> list[str]:
    todo = queued(vault)
    if not todo and not events and acks is None and epoch_statement is None:
        return []
    if out_path.exists():
        raise ReplyError(
            f"{out_path} already exists; give a new file name to --out (nothing was exported)"
        )
    _, outbox = _dirs(vault)
    temporary = out_path.with_name(f".{out_path.name}{_PARTIAL}{os.getpid()}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            writer = BundleWriter(out, kind=REPLIES)
            for reply in todo:
                envelope = outbox / f"{reply.id}{_SUFFIX}"
                with envelope.open("rb") as source:
                    size = os.fstat(source.fileno()).st_size
                    writer.add(reply.id, reply.written, source, size, mailbox=reply.mailbox)
            for event_id, hour, envelope in events:
                writer.add_event(event_id, hour, io.BytesIO(envelope), len(envelope))
            writer.close(
                epochs=[epoch_statement] if epoch_statement else [],
                confirmation=acks.text if acks is not None else None,
            )
            out.flush()
            os.fsync(out.fileno())
        _verify(temporary, [reply.id for reply in todo])
        os.rename(temporary, out_path)
        fsync_dir(out_path.parent)
    except FileNotFoundError as exc:
        temporary.unlink(missing_ok=True)
        if exc.filename and str(exc.filename).startswith(str(outbox)):
            raise ReplyError(
                f"the sealed copy of a queued reply is missing from {outbox}; "
                "nothing was exported; write that reply again"
            ) from None
        raise ReplyError(
            f"cannot write {out_path} ({exc.strerror}); check the folder exists "
            "(nothing was exported)"
        ) from None
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ReplyError(
            f"cannot write {out_path} ({exc.strerror}); check the stick is writable and has "
            "free space, then export again (nothing was exported)"
        ) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    # A crash from here on exports these replies again next time; the server skips an id it
    # already has, so the worst outcome is a bundle with nothing new.
    stamp = json.dumps({"exported": hour_stamp()}).encode("utf-8")
    try:
        for reply in todo:
            _write_new(reply.path / "exported.json", stamp)
            (outbox / f"{reply.id}{_SUFFIX}").unlink(missing_ok=True)
        fsync_dir(outbox)
    except OSError as exc:
        raise ReplyError(
            f"{out_path} was written and can go to the server, but the vault could not mark "
            f"its replies exported ({exc.strerror}); the next export will include some of "
            "them again, which the server ignores"
        ) from None
    return [reply.id for reply in todo]


def _verify(path: Path, ids: list[str]) -> None:
    """Reads the bundle back as the server will, so a bad write is caught before we forget."""
    try:
        with Bundle(path, REPLIES) as bundle:
            for _, reader in bundle.envelopes():
                reader.check()
            listed = [entry.id for entry in bundle.entries]
    except BundleError as exc:
        raise ReplyError(
            f"the bundle just written is unreadable ({exc}); nothing was exported"
        ) from None
    if listed != ids:
        raise ReplyError("the bundle just written does not list every reply; nothing was exported")


# --- destroying ---------------------------------------------------------------------------


def destroy_orphans(vault: Vault, everything: bool = False) -> int:
    """Deletes exported replies whose thread has no submission left in the vault (a queued
    reply is kept until it has gone out), or, with ``everything``, every reply and sealed
    copy. Returns how many replies were deleted."""
    with _exclusive(vault):
        return _destroy(vault, everything)


def _destroy(vault: Vault, everything: bool) -> int:
    replies_dir, outbox = _dirs(vault)
    if everything:
        doomed = reply_ids(vault)
    else:
        threads = {thread_key(submission) for submission in vault.submissions()}
        doomed = [
            reply.id
            for reply in replies(vault)
            if reply.exported is not None and reply.reply_key not in threads
        ]
    for reply_id in doomed:
        (outbox / f"{reply_id}{_SUFFIX}").unlink(missing_ok=True)
        # Renamed first so a half-deleted reply is never shown as if whole.
        hidden = replies_dir / f".{reply_id}{_PARTIAL}destroy"
        os.rename(replies_dir / reply_id, hidden)
        shutil.rmtree(hidden)
    if everything:
        for entry in outbox.iterdir():
            entry.unlink(missing_ok=True)
    return len(doomed)


# --- order of entry ------------------------------------------------------------------------


def _known_order(path: Path) -> dict[str, int]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): int(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def number_in_order(vault: Vault, ids: Sequence[str]) -> None:
    """Numbers these new submissions in the order given: a bundle's, which is the order the
    server published them in (FORMAT.md §4), so one hour's messages read in the order sent.
    (They are opened in parallel, so the times their files were written say nothing.)"""
    path = vault.root / "order.json"
    known = _known_order(path)
    new = [i for i in dict.fromkeys(ids) if i not in known]
    if new:
        start = max(known.values(), default=0) + 1
        known.update({i: start + n for n, i in enumerate(new)})
        write_atomically(path, json.dumps(known).encode("utf-8"))


def order(vault: Vault) -> dict[str, int]:
    """Numbers every submission and reply in the order it entered the vault. A bundle's
    submissions are numbered as they are opened (``number_in_order``); any other one first
    seen here is numbered then, after those seen before, in the order their contents were
    written (file modification times)."""
    path = vault.root / "order.json"
    known = _known_order(path)
    replies_dir, _ = _dirs(vault)
    present = {i: vault.destination(i) for i in vault.ids()}
    present.update({i: replies_dir / i for i in reply_ids(vault)})
    new = sorted((i for i in present if i not in known), key=lambda i: (_mtime(present[i]), i))
    current = {i: n for i, n in known.items() if i in present}
    if not new and current == known:
        return known
    start = max(known.values(), default=0) + 1
    current.update({i: start + n for n, i in enumerate(new)})
    write_atomically(path, json.dumps(current).encode("utf-8"))
    return current


def _mtime(directory: Path) -> int:
    try:
        return (directory / "contents.json").stat().st_mtime_ns
    except OSError:
        return 0


# --- files ---------------------------------------------------------------------------------


@contextmanager
def _exclusive(vault: Vault) -> Iterator[None]:
    """Held while replies are written, exported or destroyed: each tidies away what an
    interrupted one left, which must not be another's work in progress."""
    try:
        fd = os.open(vault.root / ".replies.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise ReplyError(
            f"cannot use the vault {vault.root} ({exc.strerror}); check its permissions"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReplyError(
                "another `sealdrop-reviewer reply`, `export-replies` or `destroy` is using the "
                f"vault {vault.root}; wait for it to finish, then try again"
            ) from None
        yield
    finally:
        os.close(fd)


def _vault(vault: Vault | str | Path) -> Vault:
    return vault if isinstance(vault, Vault) else Vault(vault)


def _dirs(vault: Vault) -> tuple[Path, Path]:
    replies_dir, outbox = vault.root / "replies", vault.root / "outbox"
    try:
        for directory in (replies_dir, outbox):
            directory.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise VaultError(
            f"cannot use {vault.root} as the vault ({exc.strerror}); "
            "choose another directory with --vault"
        ) from None
    return replies_dir, outbox


def remove_partials(vault: Vault) -> None:
    """Deletes what an interrupted reply or export left, and envelopes already exported."""
    replies_dir, outbox = _dirs(vault)
    for entry in replies_dir.iterdir():
        if entry.name.startswith(".") and _PARTIAL in entry.name:
            shutil.rmtree(entry, ignore_errors=True)
    for entry in outbox.iterdir():
        stem = entry.name.removesuffix(_SUFFIX)
        exported = (replies_dir / stem / "exported.json").exists()
        if (entry.name.startswith(".") and _PARTIAL in entry.name) or exported:
            entry.unlink(missing_ok=True)


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
