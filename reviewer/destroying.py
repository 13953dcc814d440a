"""Applying what the case log says about destroying and removing (docs/FORMAT.md §8.6).

A ``destroyed`` event is applied only to messages of its own conversation: one that names a
submission or reply of another conversation on this machine is refused whole and rejected
(a member removed elsewhere, or a stolen key, must not reach other cases through it). This machine's
own destroys take effect at once; a colleague's go to the trash (reviewer.trash) for its
grace period. A ``member-removed`` event from a member removes the member it names from this
machine's team too, and undoes their destroys still waiting in the trash.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from crypto.bundle import ID_PATTERN

from . import replies, trash
from .caseevent import DESTROYED, MEMBER_REMOVED, Event
from .caselog import CaseLog, CaseLogError, conversation_id, local_author
from .team import Team
from .threads import thread_key
from .vault import Vault, VaultError


@dataclass
class Applied:
    destroyed: int = 0  # by this machine's reviewer: gone
    trashed: int = 0  # by a colleague: in the trash for its grace period
    refused: list[tuple[str, str]] = field(default_factory=list)  # (event id, why)


def me(vault: Vault) -> str | None:
    try:
        return local_author(vault)
    except CaseLogError:
        return None  # every destroy then counts as a colleague's: kept for the grace period


def _conversation(vault: Vault, item: str, kind: str) -> str | None:
    try:
        if kind == trash.SUBMISSION:
            return conversation_id(thread_key(vault.submission(item)), item)
        reply = replies.load_reply(vault, item)
        return conversation_id(reply.reply_key, reply.in_reply_to)
    except (VaultError, OSError, ValueError, KeyError):
        return None


def apply_destroyed(vault: Vault, author: str | None = None) -> Applied:
    """Destroys, or moves to the trash, what the log's destroy events name, then empties
    the trash of what has waited its grace period."""
    author = author or me(vault)
    team = Team(vault)
    applied = Applied()
    replies_dir = vault.root / "replies"
    log = CaseLog(vault)
    for event in log.events():
        if event.kind != DESTROYED:
            continue
        targets, foreign = [], []
        for item in event.payload["ids"]:
            if vault.contains(item):
                kind = trash.SUBMISSION
            elif ID_PATTERN.fullmatch(item) and (replies_dir / item).is_dir():
                kind = trash.REPLY
            else:
                continue
            if _conversation(vault, item, kind) == event.conversation:
                targets.append((item, kind))
            else:
                foreign.append(item)
        if foreign:
            log.reject(event.id)  # refused once, said once: not folded, not applied again
            applied.refused.append(
                (
                    event.id,
                    f"a destroy by {team.label_of(event.author)} names {', '.join(foreign)}, "
                    "not of its own conversation; nothing of it was destroyed",
                )
            )
            continue
        for item, kind in targets:
            if event.author == author:
                _delete(vault, item, kind)
                applied.destroyed += 1
            else:
                trash.put(vault, item, kind, event)
                applied.trashed += 1
    trash.expire(vault)
    return applied


def _delete(vault: Vault, item: str, kind: str) -> None:
    if kind == trash.SUBMISSION:
        vault.destroy(item)
    else:
        shutil.rmtree(vault.root / "replies" / item, ignore_errors=True)
        (vault.root / "outbox" / f"{item}.sdenv").unlink(missing_ok=True)


def apply_removals(vault: Vault, events: list[Event], author: str | None) -> list[str]:
    """Removes from this machine's team the members that the team's ``member-removed``
    events name (never this machine's own reviewer); returns their labels."""
    team = Team(vault)
    removed = []
    for event in events:
        if event.kind != MEMBER_REMOVED or event.payload["key"] == author:
            continue
        member = team.by_key_id(str(event.payload["key"]))
        if member is None or team.by_key_id(event.author) is None:
            continue  # already gone here, or the remover is no longer a member
        team.remove(member.key_id_hex)
        removed.append(member.label)
        for entry in trash.entries(vault):
            if entry.author == member.key_id_hex and trash.is_trashed(vault, entry.id):
                trash.restore(vault, entry.id)
    return removed
