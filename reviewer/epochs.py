"""The reviewer's runway of epoch keys (docs/FORMAT.md section 10), kept in the vault.

Each week's key lives in ``epochs/<key id>.json``, its secret encrypted under a key derived
from the reviewer's identity (so it is as safe at rest as the identity file). ``top_up`` makes
the weeks from now to RUNWAY_WEEKS ahead and signs their public halves; every replies export
calls it and carries the statement to the server. ``for_opening`` deletes the secrets of
weeks that ended more than the grace ago (what gives forward secrecy: afterwards not even the
identity and passphrase open those envelopes) and returns the keys to open with, the deleted
ones standing in so a late envelope is told why it cannot be opened.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from crypto import Identity, PublicKey, _sodium
from crypto.epochs import DeletedKey, Epoch, Statement, week_start, weeks
from crypto.team import Signer

from . import runway
from .runway import WARN_DAYS as WARN_DAYS  # the warnings' names, where they were
from .runway import lapse_warning as lapse_warning
from .runway import runway_end as runway_end
from .vault import Vault, write_atomically

RUNWAY_WEEKS = 13
DEFAULT_GRACE_DAYS = 35  # the server's upload lifetime plus an export interval, with margin


def _write(vault: Vault, record: dict[str, Any]) -> None:
    key = PublicKey.from_line(record["public_key"])
    path = runway.directory(vault, create=True) / f"{key.key_id_hex}.json"
    write_atomically(path, json.dumps(record, indent=1).encode("utf-8"))


def grace_seconds(vault: Vault) -> int:
    return int(vault.config().get("epoch_grace_days", DEFAULT_GRACE_DAYS)) * 86400


def top_up(vault: Vault, identity: Identity, now: float | None = None) -> str:
    """Makes the missing weeks up to RUNWAY_WEEKS ahead; returns the signed statement of every
    week not over yet (also kept as ``epochs/statement.txt``)."""
    now = time.time() if now is None else now
    have = {r["not_before"] for r in runway.records(vault)}
    box_key = identity.epoch_vault_key()
    for not_before, not_after in weeks(week_start(now), RUNWAY_WEEKS + 1):
        if not_before in have:
            continue
        epoch_identity = Identity.generate()
        secret = _sodium.secretbox_seal(box_key, epoch_identity._secret)
        _write(
            vault,
            {
                "not_before": not_before,
                "not_after": not_after,
                "public_key": epoch_identity.public_key.line,
                "secret": base64.b64encode(secret).decode("ascii"),
            },
        )
    current = [
        Epoch(r["not_before"], r["not_after"], PublicKey.from_line(r["public_key"]))
        for r in runway.records(vault)
        if r["not_after"] > now and "secret" in r
    ]
    signer = Signer(identity)
    statement = Statement(
        identity.public_key, signer.public_key, int(now) // 3600 * 3600, tuple(current)
    )
    text = statement.signed_by(signer)
    path = runway.directory(vault, create=True) / "statement.txt"
    if not path.exists() or path.read_text("ascii") != text:
        write_atomically(path, text.encode("ascii"))
    return text


def prune(vault: Vault, now: float | None = None) -> list[str]:
    """Deletes the secrets of weeks over for longer than the grace; returns their key ids."""
    now = time.time() if now is None else now
    grace = grace_seconds(vault)
    pruned = []
    for record in runway.records(vault):
        if "secret" in record and record["not_after"] + grace <= now:
            record = {k: v for k, v in record.items() if k != "secret"}
            record["deleted"] = int(now) // 86400 * 86400
            _write(vault, record)  # replaces the file; see THREAT_MODEL.md on flash and backups
            pruned.append(PublicKey.from_line(record["public_key"]).key_id_hex)
    return pruned


def renew(vault: Vault, identity: Identity, now: float | None = None) -> None:
    """What every open does: deletes the weeks over for longer than the grace, and makes the
    weeks missing ahead."""
    prune(vault, now)
    top_up(vault, identity, now)


class EpochIdentity(Identity):
    """A live epoch key: it opens what was sealed to its week, but it is not the reviewer's own
    key (not in the team list, not what a reviewer is told to compare)."""

    __slots__ = ()


def for_opening(
    vault: Vault, identity: Identity, now: float | None = None
) -> Sequence[Identity | DeletedKey]:
    """Prunes, tops the runway up, then: the live epoch identities, and the deleted ones
    standing in."""
    renew(vault, identity, now)
    box_key = identity.epoch_vault_key()
    keys: list[Identity | DeletedKey] = []
    for record in runway.records(vault):
        public = PublicKey.from_line(record["public_key"])
        if "secret" in record:
            secret = _sodium.secretbox_open(box_key, base64.b64decode(record["secret"]))
            keys.append(EpochIdentity(secret))
        else:
            keys.append(DeletedKey(public, record["not_after"], record["deleted"]))
    return keys


def statement(vault: Vault) -> str | None:
    """The last signed statement (``top_up``), for the next replies export."""
    path = runway.directory(vault) / "statement.txt"
    return path.read_text("ascii") if path.exists() else None


def unsent_statement(vault: Vault) -> str | None:
    """The statement, if the server has not been sent this one yet."""
    text = statement(vault)
    if text is None or vault.config().get("epochs_sent") == _digest(text):
        return None
    return text


def mark_sent(vault: Vault, text: str | None) -> None:
    """Records that the server was sent this statement, and how far it reaches (every week
    with a key: what ``top_up`` signed)."""
    if text is not None:
        vault.set_config(epochs_sent=_digest(text), epochs_sent_until=runway.runway_end(vault))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()
