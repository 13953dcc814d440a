"""The organisation's retention policy: closed and spam conversations are destroyed after a
number of days, counted from when they got that status.

Safeguards: only conversations whose status (as shown, so a new follow-up reopens one) is
closed or spam are ever due, never an urgent one; what is due is shown and confirmed before
anything is destroyed; each destruction is a case-log event (reviewer.caselog), so every
machine of the team applies it the same way. Set with ``sealdrop-reviewer config
--retention-closed DAYS --retention-spam DAYS`` (0 or unset: keep).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .caselog import CLOSED, SPAM
from .conversations import Conversation
from .vault import Vault


@dataclass(frozen=True)
class Policy:
    closed_days: int = 0
    spam_days: int = 0

    @property
    def active(self) -> bool:
        return bool(self.closed_days or self.spam_days)


def policy(vault: Vault) -> Policy:
    settings = vault.config().get("retention")
    if not isinstance(settings, dict):
        return Policy()
    return Policy(_days(settings.get("closed")), _days(settings.get("spam")))


def _days(value: object) -> int:
    return value if isinstance(value, int) and 0 < value < 100_000 else 0


def due(
    conversations: Sequence[Conversation], rule: Policy, now: float | None = None
) -> list[Conversation]:
    now = time.time() if now is None else now
    limits = {CLOSED: rule.closed_days, SPAM: rule.spam_days}
    chosen = []
    for conversation in conversations:
        days = limits.get(conversation.status, 0)
        since = conversation.state.status_hour
        if not days or conversation.state.urgent or not since:
            continue
        changed = calendar.timegm(time.strptime(since, "%Y-%m-%dT%H:00Z"))
        if now - changed >= days * 86400:
            chosen.append(conversation)
    return chosen
