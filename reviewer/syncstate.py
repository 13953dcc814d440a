"""What this machine remembers of its exchanges with the server (layout in reviewer.sync):
which of its own events came back, what it must still confirm, what it has confirmed."""

from __future__ import annotations

import json
import os

from crypto.sinks import fsync_dir
from crypto.team import intact

from .vault import Vault, write_atomically


class SyncState:
    def __init__(self, vault: Vault) -> None:
        self.directory = vault.root / "sync"
        self.signed = self.directory / "signed"
        self.signed.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = self.directory / "state.json"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError):
            data = {}  # only bookkeeping: at worst events are sent or confirmed again
        acks = data.get("acks") if isinstance(data.get("acks"), dict) else {}
        self.back: set[str] = set(data.get("back", []))
        self.acked_submissions: set[str] = set(acks.get("submissions", []))
        self.acked_events: set[str] = set(acks.get("events", []))
        self.confirmed: set[str] = set(data.get("confirmed", []))

    def save(self) -> None:
        data = {
            "back": sorted(self.back),
            "acks": {
                "submissions": sorted(self.acked_submissions),
                "events": sorted(self.acked_events),
            },
            "confirmed": sorted(self.confirmed),
        }
        fsync_dir(self.signed)
        write_atomically(self.path, json.dumps(data).encode("utf-8"))

    def blob(self, event_id: str) -> bytes | None:
        try:
            blob = (self.signed / event_id).read_bytes()
        except FileNotFoundError:
            return None
        return blob if intact(blob) else None

    def keep(self, event_id: str, blob: bytes) -> None:
        """Keeps a signed item without an fsync each (``save`` syncs the folder once): one
        lost in a crash is signed again (Ed25519 is deterministic) or arrives again."""
        path = self.signed / event_id
        if self.blob(event_id) is not None:
            return
        temporary = self.signed / f".{event_id}.partial"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
        os.replace(temporary, path)
