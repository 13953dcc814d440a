"""Reply drafts, kept in the vault: ``drafts/<conversation>.txt`` holds what was being
written, so closing the editor loses nothing (the list marks conversations with a draft).
The team's templates are in reviewer.templates."""

from __future__ import annotations

import os
from pathlib import Path

from .vault import Vault, write_atomically


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


def drafted(vault: Vault) -> set[str]:
    """The conversations with a draft (one directory listing: the list asks at every draw)."""
    try:
        names = os.listdir(vault.root / "drafts")
    except OSError:
        return set()
    return {n.removesuffix(".txt") for n in names if n.endswith(".txt") and n[0] != "."}
