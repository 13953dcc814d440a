"""Reply drafts and the team's reply templates, kept in the vault.

``drafts/<conversation>.txt`` holds what was being written, so closing the editor loses
nothing. ``templates.txt`` holds the team's templates: each starts with a line ``## Title``
and runs to the next such line. The file can be shared among the team like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .vault import Vault, write_atomically


@dataclass(frozen=True)
class Template:
    title: str
    text: str


def _draft_path(vault: Vault, conversation_id: str) -> Path:
    directory = vault.root / "drafts"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory / f"{conversation_id}.txt"


def load_draft(vault: Vault, conversation_id: str) -> str:
    try:
        return _draft_path(vault, conversation_id).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def save_draft(vault: Vault, conversation_id: str, text: str) -> None:
    path = _draft_path(vault, conversation_id)
    if text.strip():
        write_atomically(path, text.encode("utf-8"))
    else:
        path.unlink(missing_ok=True)


def templates_path(vault: Vault) -> Path:
    return vault.root / "templates.txt"


def templates(vault: Vault) -> list[Template]:
    try:
        text = templates_path(vault).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    found: list[Template] = []
    title, lines = None, []
    for line in [*text.splitlines(), "## "]:
        if line.startswith("## "):
            if title:
                found.append(Template(title, "\n".join(lines).strip("\n")))
            title, lines = line[3:].strip(), []
        elif title is not None:
            lines.append(line)
    return found
