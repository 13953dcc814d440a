"""What `show` prints after a thread: the case's status, urgency, assignee, tags and staff
notes, and who wrote each reply (by team label, "you", or key id), as the app shows them."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from .caselog import CaseState, local_author
from .conversations import Inbox
from .display import clean_name, clean_text
from .team import Team
from .vault import Vault, VaultError


def who(vault: Vault, author: str) -> str:
    """A case event's author as people say it: a team label, "you", else the key id."""
    if not author:
        return "someone on the team"
    try:
        if author == local_author(vault):
            return "you"
    except VaultError:
        pass
    try:
        member = Team(vault).by_key_id(author)
    except VaultError:
        member = None
    return member.label if member is not None else f"key {author}"


@dataclass
class CaseView:
    vault: Vault
    name: str = ""
    status: str = ""
    state: CaseState | None = None
    authors: dict[str, str] = field(default_factory=dict)  # reply id -> who wrote it

    @classmethod
    def of(cls, vault: Vault, item_id: str) -> CaseView:
        """The case of the conversation a submission or reply id names (empty if none)."""
        inbox = Inbox(vault)
        try:
            inbox.refresh()
            conversation = inbox.find(item_id)
        except VaultError:
            return cls(vault)
        finally:
            inbox.close()
        state = conversation.state
        authors = {reply: who(vault, author) for reply, author in state.replies}
        return cls(vault, conversation.name, conversation.status, state, authors)

    def print(self, out: Console) -> None:
        state = self.state
        if state is None:
            return
        line = Text(f"\nCase {self.name}: ", style="bold").append(self.status.replace("-", " "))
        if state.urgent:
            line.append(" · URGENT", style="bold red")
        line.append(
            " · "
            + (
                f"assigned to @{clean_name(state.assignee)}"
                if state.assignee
                else "nobody assigned"
            )
        )
        if state.tags:
            line.append(" · " + " ".join("#" + clean_name(t) for t in sorted(state.tags)))
        out.print(line)
        for note in state.notes:
            out.print(
                Text(
                    f"Note by {clean_name(who(self.vault, note.author))}, {note.hour}:",
                    style="bold yellow",
                )
            )
            out.print(Text(clean_text(note.text).rstrip("\n")))
