"""``sealdrop-reviewer team ...`` and ``handover`` (registered on reviewer.cli.main)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from crypto import PublicKey, SealdropError
from crypto.team import Member, team_file_text

from . import handover as handing
from . import removal, setaside
from .cli_common import (
    console,
    conversation_of,
    identity_path,
    load_identity,
    open_vault,
    passphrase_file_option,
    vault_option,
)
from .display import clean_name
from .team import Team, TeamError, read_card_file
from .vault import VaultError

key_option = click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SEALDROP_IDENTITY",
    help="Your identity.key (default: $SEALDROP_IDENTITY, else the vault's setting).",
)


@click.group()
def team() -> None:
    """The colleagues whose case notes, statuses and replies this vault shares."""


@team.command()
@key_option
@click.option("--label", required=True, help="Your name as colleagues will call you.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write your member card (a public file).",
)
@passphrase_file_option
@vault_option
def card(
    key: Path | None,
    label: str,
    out_path: Path,
    passphrase_file: Path | None,
    vault_path: Path | None,
) -> None:
    """Write your member card (public keys) for colleagues, and show its fingerprint."""
    vault = open_vault(vault_path)
    identity = load_identity(identity_path(key, vault), passphrase_file)
    member = Member.of(identity, label)
    _write_new(out_path, member.card_text())
    try:
        vault.set_config(label=member.label)
        Team(vault).ensure_self(identity, member.label)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"member card: {out_path}")
    click.echo(f"team fingerprint: {member.fingerprint}")
    click.echo(
        "Read this team fingerprint (upper case, dashes) to each colleague who adds you; they "
        "compare it. The admin compares the other one, your key fingerprint (lower case)."
    )


@team.command()
@click.argument("card_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--label", help="What to call this colleague (default: the name on the card).")
@click.option("--yes", is_flag=True, help="The fingerprint was compared; do not ask.")
@vault_option
def add(card_file: Path, label: str | None, yes: bool, vault_path: Path | None) -> None:
    """Add a colleague's member card (or every member of a team file) after comparing the
    team fingerprint with them in person."""
    vault = open_vault(vault_path)
    the_team = Team(vault)
    try:
        members = read_card_file(card_file, label)
        for member in members:
            name = clean_name(member.label)
            click.echo(f"{name}: team fingerprint {member.fingerprint}")
            if not yes:
                click.confirm(
                    f"Is this the fingerprint {name} reads to you from their own machine "
                    "(`sealdrop-reviewer team card`)?",
                    abort=True,
                )
            the_team.add(member)
            click.echo(f"added {name} (key id {member.key_id_hex})")
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None


@team.command(name="list")
@vault_option
def list_(vault_path: Path | None) -> None:
    """Show the team: labels, key ids and fingerprints."""
    vault = open_vault(vault_path)
    try:
        members = Team(vault).members()
        own = vault.config().get("identity")
        me = PublicKey.from_file(own).key_id_hex if own else None
    except (VaultError, SealdropError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    out = console()
    if not members:
        out.print("No team yet: add colleagues with `sealdrop-reviewer team add CARD`.")
        return
    table = Table("label", "key id", "team fingerprint", "")
    for member in members:
        table.add_row(
            Text(clean_name(member.label)),
            member.key_id_hex,
            member.fingerprint,
            "you" if member.key_id_hex == me else "",
        )
    out.print(table)


@team.command(name="set-aside")
@vault_option
def set_aside(vault_path: Path | None) -> None:
    """Show the staff events this machine refused, with the reason for each (they were
    confirmed to the server as seen, so they do not arrive again)."""
    vault = open_vault(vault_path)
    records = setaside.listed(vault)
    if not records:
        click.echo("No staff event was set aside on this machine.")
        return
    for record in records:
        click.echo(clean_name(f"{record['hour']}  {record['entry']}: {record['why']}"))
    if setaside.waiting(vault):
        click.echo(
            "Events signed by a key not in your team are kept; they are opened again at the "
            "next `open` after you add a colleague."
        )


@team.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@vault_option
def remove(name: str, yes: bool, vault_path: Path | None) -> None:
    """Remove a member: their events from now on are refused on this machine, and on your
    colleagues' once your next export-replies reaches them."""
    vault = open_vault(vault_path)
    the_team = Team(vault)
    try:
        member = the_team.find(name)
        if not yes:
            click.confirm(f"Remove {clean_name(member.label)} from the team?", abort=True)
        announced = removal.remove_member(vault, member)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    if announced:
        click.echo(
            f"removed {clean_name(member.label)}; your next export-replies tells every "
            "colleague's machine"
        )
    else:
        click.echo(
            f"removed {clean_name(member.label)} here only (no identity is set, so the "
            "removal cannot be signed): do the same on every team machine"
        )


@team.command(name="export")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@vault_option
def export_team(out_path: Path, vault_path: Path | None) -> None:
    """Write the team file (public keys only): for colleagues' `team add`, and for the admin's
    `sealdrop-intake check --team FILE`."""
    vault = open_vault(vault_path)
    try:
        members = Team(vault).members()
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    if not members:
        raise click.ClickException("the team is empty; add members first")
    _write_new(out_path, team_file_text(members))
    click.echo(f"wrote the {len(members)} members' public keys to {out_path}")


@click.command()
@click.option(
    "--to",
    "to_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new member's card (already added with `team add`).",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle to write, on a stick that goes straight to them (never the server).",
)
@click.argument("ids", metavar="[ID]...", nargs=-1)
@key_option
@passphrase_file_option
@vault_option
def handover(
    to_file: Path,
    out_path: Path,
    ids: tuple[str, ...],
    key: Path | None,
    passphrase_file: Path | None,
    vault_path: Path | None,
) -> None:
    """Give a colleague past conversations (the given names or ids as `list` prints them, or
    all) with their history, sealed to their key alone; they open it with `sealdrop-reviewer
    open`."""
    vault = open_vault(vault_path)
    try:
        (card,) = read_card_file(to_file, "?")  # the name is the team's, found by key
        member = Team(vault).by_key_id(card.key_id_hex)
        if member is None or member.signing_key != card.signing_key:
            raise TeamError(
                f"{clean_name(card.label)} is not in your team with these keys; compare "
                "fingerprints and `sealdrop-reviewer team add` their card first"
            )
        identity = load_identity(identity_path(key, vault), passphrase_file)
        chosen = [conversation_of(vault, text)[-1] for text in ids]  # names as `list` prints
        submissions, events = handing.handover(vault, identity, member, chosen, out_path)
    except (VaultError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"wrote {submissions} submission(s) and {events} staff event(s) for "
        f"{clean_name(member.label)} to {out_path}; hand the stick over in person"
    )


def _write_new(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise click.ClickException(f"{path} already exists; choose another file name") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path} ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
