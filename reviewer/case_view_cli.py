"""``sealdrop-reviewer export-case``: one conversation for a lawyer (reviewer.case_export)."""

from __future__ import annotations

from pathlib import Path

import click

from .case_export import export_case as write_case
from .cli_common import console, open_vault, vault_option
from .conversations import Inbox
from .vault import VaultError


@click.command(name="export-case")
@click.argument("conversation", metavar="ID")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path),
    help="A new folder, or a new file ending in .zip, to write the case to.",
)
@click.option(
    "--keep-metadata",
    is_flag=True,
    help="Keep the files' metadata (camera, GPS position) as sent: only if the lawyer must "
    "have the originals.",
)
@vault_option
def export_case(
    conversation: str, out_path: Path, keep_metadata: bool, vault_path: Path | None
) -> None:
    """Write a whole conversation for a lawyer: messages, replies, notes, and files with
    their metadata removed, to a folder or a .zip."""
    inbox = Inbox(open_vault(vault_path))
    try:
        inbox.refresh()
        found = inbox.find(conversation)
        written = write_case(inbox, found, out_path, strip=not keep_metadata)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        inbox.close()
    console().print(
        f"wrote the conversation {found.name} to {written}; it holds plaintext: carry it only "
        "on an encrypted stick, and destroy the copy when the lawyer has it"
    )
