"""A case for a lawyer: one conversation written out of the vault, whole and readable.

``case.txt`` holds, in the order they happened, the person's messages and form fields, our
replies (who wrote each) and the staff notes, headed by the case's status, tags and assignee;
``files/`` holds every attachment under a safe name with its metadata removed by mat2
(reviewer.attachments), and ``case.txt`` says for each file whether that worked. Written to a
new folder, or to a single .zip file. Nothing is written if mat2 is missing, unless the
caller asked to keep metadata: a lawyer must not receive a photo with its GPS position by
surprise.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from . import attachments
from .case_view import who
from .conversations import Conversation, Inbox
from .display import clean_name, clean_text, decode
from .index import NOTE, REPLY
from .vault import VaultError


class CaseExportError(VaultError):
    """The case could not be written; the message says why and what to do."""


def export_case(inbox: Inbox, conversation: Conversation, out: Path, strip: bool = True) -> Path:
    """Writes the conversation to ``out`` (a new folder, or a new file ending in .zip);
    returns what was written."""
    if out.exists():
        raise CaseExportError(f"{out} already exists; choose a new name (nothing was written)")
    mat2 = attachments.mat2_path()
    if strip and mat2 is None:
        raise CaseExportError(
            "mat2 is not installed, so the files' metadata (camera, GPS position, author) "
            "cannot be removed and nothing was written; install the Debian package mat2, or "
            "export with --keep-metadata if the lawyer must have the originals"
        )
    as_zip = out.suffix.lower() == ".zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        folder = work / (out.stem if as_zip else out.name)
        folder.mkdir(mode=0o700)
        _write(inbox, conversation, folder, mat2 if strip else None)
        if as_zip:
            _zip(folder, work / out.name)
            os.replace(work / out.name, out)
        else:
            os.replace(folder, out)
    except OSError as exc:
        raise CaseExportError(
            f"could not write {out} ({exc.strerror or exc}); check the place is writable and "
            "has room (nothing was written)"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _write(inbox: Inbox, conversation: Conversation, folder: Path, mat2: str | None) -> None:
    vault, state = inbox.vault, conversation.state
    files = folder / "files"
    files.mkdir(mode=0o700)
    lines = [
        f"Conversation {conversation.name} ({conversation.id})",
        f"Status: {conversation.status.replace('-', ' ')}"
        + (" · URGENT" if state.urgent else "")
        + (f" · assigned to {clean_name(state.assignee)}" if state.assignee else "")
        + "".join(f" · #{clean_name(tag)}" for tag in sorted(state.tags)),
        "Hours are UTC, rounded down to the hour (the server keeps nothing finer).",
        "",
    ]
    number = 0
    for entry in inbox.thread(conversation):
        if entry.kind == NOTE:
            assert entry.note is not None
            lines += [f"--- Staff note by {clean_name(who(vault, entry.author))}, {entry.hour}"]
            lines += [clean_text(entry.note.text), ""]
            continue
        if entry.kind == REPLY:
            assert entry.reply is not None
            reply = entry.reply
            lines += [f"--- Our reply, {reply.written}, written by {who(vault, entry.author)}"]
            lines += [_text(reply.part_path(reply.message)) if reply.message else "(no text)"]
            parts, source = reply.attachments, reply
        else:
            assert entry.submission is not None
            source = entry.submission
            lines += [f"--- From them, {source.record.received} (submission {source.id})"]
            message = source.message
            lines += [_text(source.part_path(message)) if message else "(no message)"]
            for item in source.fields:
                value = _text(source.part_path(item))
                lines.append(f"{clean_name(item.get('name'))}: {value}")
            parts = source.attachments
        for item in parts:
            number += 1
            path = attachments.copy_out(source.part_path(item), files, item.get("name"), number)
            note = attachments.strip_metadata(path, mat2) if mat2 else "metadata kept as sent"
            lines.append(f"[file files/{clean_name(path.name)}: {clean_name(note)}]")
        lines.append("")
    if not number:
        files.rmdir()
    (folder / "case.txt").write_text("\n".join(lines), encoding="utf-8")


def _text(path: Path) -> str:
    with path.open("rb") as handle:
        return clean_text(decode(handle.read())).rstrip("\n")


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "x", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                # A fixed time in the archive, as on the server: no trace of when it was made.
                info = zipfile.ZipInfo(str(path.relative_to(folder.parent)), (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                with path.open("rb") as source, archive.open(info, "w") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
