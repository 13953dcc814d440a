"""Staff events this machine has seen and set aside (docs/FORMAT.md §8.3).

An event refused for what it *is* (forged, malformed, not sealed to this reviewer, a clock
too far ahead, an id reused, signed by a member after their removal) is refused the same way
every time it arrives, so it is confirmed to the server like an event merged: it stops
travelling, and ``purge`` may delete it. Its reason stays in ``sync/refused.jsonl`` (and
``sealdrop-reviewer team set-aside`` lists them). An event that could not be *read* (the
bundle damaged on the way) is not confirmed: the server's copy may be whole.

One refusal can change: an event signed by a key that is not in this machine's team may be
from a colleague not added here yet. Its envelope (ciphertext, as it arrived) is kept in
``sync/set-aside/``, within a budget, and opened again at the next ``open`` after the team
changed; once it merges, its copy is deleted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from crypto.bundle import ID_PATTERN

from .vault import Vault, write_atomically

BUDGET = 256 << 20  # bytes of kept envelopes; beyond it one is confirmed and not kept
MAX_KEPT = 10_000  # and files
SUFFIX = ".sdenv"


def _directory(vault: Vault) -> Path:
    path = vault.root / "sync" / "set-aside"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


class Keeper:
    """Keeps envelopes signed by an unknown key, within BUDGET bytes and MAX_KEPT files (what
    is kept is measured once, so a bundle of many tiny forgeries costs linear time)."""

    def __init__(self, vault: Vault) -> None:
        self.directory = _directory(vault)
        self._used: tuple[int, int] | None = None

    def keep(self, entry_id: str, envelope: bytes) -> bool:
        """False when the budget is spent (the event is then confirmed and not kept)."""
        if self._used is None:
            sizes = [p.stat().st_size for p in self.directory.glob(f"*{SUFFIX}")]
            self._used = (sum(sizes), len(sizes))
        size, count = self._used
        if not ID_PATTERN.fullmatch(entry_id) or size + len(envelope) > BUDGET:
            return False
        if count >= MAX_KEPT:
            return False
        write_atomically(self.directory / f"{entry_id}{SUFFIX}", envelope)
        self._used = (size + len(envelope), count + 1)
        return True


def drop(vault: Vault, entry_id: str) -> None:
    (_directory(vault) / f"{entry_id}{SUFFIX}").unlink(missing_ok=True)


def waiting(vault: Vault) -> bool:
    return any(_directory(vault).glob(f"*{SUFFIX}"))


def due(vault: Vault, member_keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """The kept envelopes, when the team's members differ from those they were last tried
    against (nothing otherwise: they would be refused the same way)."""
    directory = _directory(vault)
    marker = directory / "team.json"
    members = sorted(member_keys)
    try:
        tried = json.loads(marker.read_text("utf-8"))
    except (OSError, ValueError):
        tried = None
    if tried == members:
        return
    write_atomically(marker, json.dumps(members).encode("utf-8"))
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            yield path.name.removesuffix(SUFFIX), path.read_bytes()
        except OSError:
            continue


def listed(vault: Vault) -> list[dict[str, str]]:
    """What ``sync/refused.jsonl`` says, oldest first: {"hour", "entry", "why"}."""
    try:
        lines = (vault.root / "sync" / "refused.jsonl").read_text("utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if isinstance(record, dict):
            found.append({k: str(record.get(k, "")) for k in ("hour", "entry", "why")})
    return found


def log(vault: Vault, refused: list[tuple[str, str]], hour: str) -> None:
    """Appends refusals, with their reasons, to ``sync/refused.jsonl``."""
    if not refused:
        return
    lines = "".join(
        json.dumps({"hour": hour, "entry": entry, "why": why}) + "\n" for entry, why in refused
    )
    path = vault.root / "sync" / "refused.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(lines)
