"""What a colleague destroyed waits here for GRACE_DAYS before it is gone for good.

A destroy from this machine's own reviewer takes effect at once (they chose it). A destroy
from a colleague, or from someone who holds a colleague's key, never wipes evidence at once:
the submission or reply moves to the trash, listed by ``sealdrop-reviewer trash`` and the
inbox, and is deleted when GRACE_DAYS have passed since it arrived there. Restoring it puts
it back and *rejects* the destroy event on this machine: the case log no longer folds it,
so the conversation's notes and status come back too, and it is not applied again.

    <vault>/trash/<id>/item/          the submission's directory, or the reply's
    <vault>/trash/<id>/trashed.json   {"kind", "event", "author", "hour", "record"}
    <vault>/caselog/rejected.json     ids of destroy events restored from (reviewer.caselog)
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto.bundle import ID_PATTERN, hour_stamp

from .caselog import CaseLog, Event
from .vault import Vault, VaultError, write_atomically

GRACE_DAYS = 14
SUBMISSION, REPLY = "submission", "reply"


@dataclass(frozen=True)
class Trashed:
    id: str
    kind: str  # SUBMISSION or REPLY
    event: str  # the destroy event's id
    author: str  # its author's key id
    hour: str  # when it came to the trash

    def expires(self) -> float:
        return calendar.timegm(time.strptime(self.hour, "%Y-%m-%dT%H:00Z")) + GRACE_DAYS * 86400


def _directory(vault: Vault) -> Path:
    return vault.root / "trash"


def _source(vault: Vault, item: str, kind: str) -> Path:
    return vault.destination(item) if kind == SUBMISSION else vault.root / "replies" / item


def put(vault: Vault, item: str, kind: str, event: Event) -> None:
    """Moves the submission or reply into the trash (a copy already there stays; the newer
    one, a repeated export, is simply deleted)."""
    source = _source(vault, item, kind)
    home = _directory(vault) / item
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if (home / "item").exists():
        shutil.rmtree(source, ignore_errors=True)
    else:  # what is written first says what the item is, should the move be cut short
        record = None
        if kind == SUBMISSION:
            found = vault.record(item)
            record = found.__dict__ if found else None
        meta = {"kind": kind, "event": event.id, "author": event.author, "hour": hour_stamp()}
        write_atomically(home / "trashed.json", json.dumps({**meta, "record": record}).encode())
        os.rename(source, home / "item")
    if kind == SUBMISSION:
        (vault.index_dir / f"{item}.json").unlink(missing_ok=True)
    else:
        (vault.root / "outbox" / f"{item}.sdenv").unlink(missing_ok=True)


def _meta(vault: Vault, item: str) -> dict[str, Any] | None:
    try:
        data = json.loads((_directory(vault) / item / "trashed.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def entries(vault: Vault) -> list[Trashed]:
    directory = _directory(vault)
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.iterdir()):
        meta = _meta(vault, path.name) if ID_PATTERN.fullmatch(path.name) else None
        if meta is not None and (path / "item").exists():
            found.append(
                Trashed(path.name, meta["kind"], meta["event"], meta["author"], meta["hour"])
            )
    return found


def restore(vault: Vault, item: str) -> Trashed:
    """Puts the item back and rejects the destroy event that trashed it (with every other
    item it named, still in the trash)."""
    chosen = next((t for t in entries(vault) if t.id == item), None)
    if chosen is None:
        raise VaultError(f"{item} is not in the trash (`sealdrop-reviewer trash` lists it)")
    CaseLog(vault).reject(chosen.event)
    for entry in entries(vault):
        if entry.event == chosen.event:
            _put_back(vault, entry)
    return chosen


def _put_back(vault: Vault, entry: Trashed) -> None:
    home = _directory(vault) / entry.id
    target = _source(vault, entry.id, entry.kind)
    if target.exists():  # arrived again meanwhile: the copy in the vault is as good
        shutil.rmtree(home)
        return
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    meta = _meta(vault, entry.id) or {}
    if entry.kind == SUBMISSION and isinstance(meta.get("record"), dict):
        write_atomically(vault.index_dir / f"{entry.id}.json", json.dumps(meta["record"]).encode())
    os.rename(home / "item", target)
    shutil.rmtree(home)


def expire(vault: Vault, now: float | None = None) -> int:
    """Deletes for good what has waited GRACE_DAYS; returns how many."""
    now = time.time() if now is None else now
    gone = 0
    for entry in entries(vault):
        if entry.expires() <= now:
            shutil.rmtree(_directory(vault) / entry.id, ignore_errors=True)
            gone += 1
    return gone


def is_trashed(vault: Vault, item: str) -> bool:
    return (_directory(vault) / item / "item").exists()
