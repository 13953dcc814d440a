"""``sealdrop-reviewer trash``: what colleagues destroyed, waiting its grace period
(reviewer.trash), and ``trash restore ID`` to take one back."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from . import trash as binned
from .cli_common import console, open_vault, vault_option
from .team import Team
from .vault import VaultError


@click.group(invoke_without_command=True)
@vault_option
@click.pass_context
def trash(ctx: click.Context, vault_path: Path | None) -> None:
    """What colleagues destroyed: kept here for a grace period, then deleted."""
    if ctx.invoked_subcommand is not None:
        return
    vault = open_vault(vault_path)
    team = Team(vault)
    entries = binned.entries(vault)
    out = console()
    if not entries:
        out.print("The trash is empty.")
        return
    for entry in entries:
        until = datetime.datetime.fromtimestamp(entry.expires(), datetime.UTC)
        out.print(
            f"{entry.kind} {entry.id}: destroyed by {team.label_of(entry.author)}, "
            f"deleted for good after {until:%Y-%m-%d %H:00} UTC"
        )
    out.print("Take one back with: sealdrop-reviewer trash restore ID")


@trash.command()
@click.argument("item")
@vault_option
def restore(item: str, vault_path: Path | None) -> None:
    """Put ITEM back, with everything the same destroy took, and ignore that destroy here."""
    vault = open_vault(vault_path)
    try:
        chosen = binned.restore(vault, item)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    console().print(
        f"restored {chosen.id} and what the same destroy by "
        f"{Team(vault).label_of(chosen.author)} took; this machine ignores that destroy from "
        "now on (tell your colleague)"
    )
