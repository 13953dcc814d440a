"""How far the reviewer's weekly keys reach (reviewer.epochs keeps them), read without any key:
for the warnings of the CLI and the staff app, weeks before the runway ends.

When it ends, the server seals people's submissions to the reviewer's long-term key: nothing
is lost, but without forward secrecy (docs/THREAT_MODEL.md). Opening a bundle makes new weeks;
exporting replies carries them to the server.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .vault import Vault, VaultError

WARN_DAYS = 21


def directory(vault: Vault, *, create: bool = False) -> Path:
    path = vault.root / "epochs"
    if create:
        path.mkdir(mode=0o700, exist_ok=True)
    return path


def records(vault: Vault) -> list[dict[str, Any]]:
    """Every week's record, earliest first."""
    found = []
    if not directory(vault).is_dir():
        return found
    for path in sorted(directory(vault).glob("*.json")):
        try:
            record = json.loads(path.read_text("utf-8"))
            int(record["not_before"]), int(record["not_after"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VaultError(
                f"the weekly key file {path} is damaged ({exc}); move it out of the folder "
                "and open again (what was sealed to that week can then not be opened)"
            ) from None
        found.append(record)
    return sorted(found, key=lambda r: r["not_before"])


def runway_end(vault: Vault) -> int | None:
    """When the last week with a key ends (None: no runway at all)."""
    ends = [r["not_after"] for r in records(vault) if "secret" in r]
    return max(ends) if ends else None


def sent_until(vault: Vault) -> int | None:
    """When the weekly keys the server was last sent run out (None: not known yet)."""
    value = vault.config().get("epochs_sent_until")
    return int(value) if value else None


@dataclass(frozen=True)
class Lapse:
    end: int
    unsent: bool  # the vault has later weeks: exporting replies is enough to renew


def ends_soon(vault: Vault, now: float | None = None) -> Lapse | None:
    """When the weekly keys the server seals to run out, if that is within WARN_DAYS or past:
    the vault's own runway, or the part of it the server was sent when that ends sooner. None
    when they reach further, or the vault never had weekly keys (it has not opened a bundle
    since they came)."""
    now = time.time() if now is None else now
    end = runway_end(vault)
    if end is None:
        return None
    sent = sent_until(vault)
    lapse = Lapse(sent, unsent=True) if sent is not None and sent < end else Lapse(end, False)
    return None if lapse.end - now > WARN_DAYS * 86400 else lapse


def day_text(when: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(when))


def lapse_warning(vault: Vault, now: float | None = None) -> str | None:
    """The CLI's sentence when the runway ends within WARN_DAYS."""
    now = time.time() if now is None else now
    end = runway_end(vault)
    if end is not None and end - now > WARN_DAYS * 86400:
        return None
    when = "has no epoch keys" if end is None else f"ends on {day_text(end)}"
    return (
        f"your runway of weekly keys {when}: after that people's submissions are sealed to "
        "your long-term key, without forward secrecy; open the newest bundle (that makes new "
        "weeks), then run `sealdrop-reviewer export-replies` (it carries them to the server) "
        "and give the bundle to the admin"
    )
