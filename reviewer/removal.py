"""Removing a team member here, and telling the team through the same sync (FORMAT.md §8.6):
a ``member-removed`` event, signed like every staff event when it is exported."""

from __future__ import annotations

from crypto.team import Member

from .caseevent import MEMBER_REMOVED, TEAM_CONVERSATION
from .caselog import CaseLog, CaseLogError, local_author
from .team import Team, TeamError
from .vault import Vault


def remove_member(vault: Vault, member: Member) -> bool:
    """Removes ``member`` from this machine's team and records the removal for the team;
    False when no identity is set, so that the removal stays on this machine."""
    try:
        author = local_author(vault)
    except CaseLogError:
        author = None
    if author == member.key_id_hex:
        raise TeamError("you cannot remove yourself; ask a colleague to remove you")
    Team(vault).remove(member.key_id_hex)
    if author is None:
        return False
    payload = {"key": member.key_id_hex, "label": member.label}
    CaseLog(vault).new(author, TEAM_CONVERSATION, MEMBER_REMOVED, payload)
    return True
