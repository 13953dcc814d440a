"""What the ``sealdrop-reviewer`` commands share: options, the console, finding things."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from crypto import Identity, SealdropError, WrongPassphrase

from . import names
from .layout import passphrase_hint
from .passphrase import read_passphrase
from .vault import Submission, Vault, VaultError, default_location

passphrase_file_option = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from the first line of this file instead of asking.",
)
key_option = click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SEALDROP_IDENTITY",
    help="Your identity.key (default: $SEALDROP_IDENTITY, else the vault's setting).",
)
vault_option = click.option(
    "--vault",
    "vault_path",
    envvar="SEALDROP_VAULT",
    type=click.Path(file_okay=False, path_type=Path),
    help="The vault directory (default: $SEALDROP_VAULT, else ~/.local/share/sealdrop/vault).",
)
strip_option = click.option(
    "--strip-metadata/--keep-metadata",
    "strip",
    default=None,
    help="Remove location and device details from saved copies: photos by sealdrop itself, "
    "other files with mat2 (default: the vault's setting, else remove; the vault keeps the "
    "original).",
)


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, emoji=False, markup=False)


def open_vault(vault_path: Path | None) -> Vault:
    try:
        return Vault(vault_path or default_location())
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None


def find_submission(vault: Vault, submission_id: str) -> Submission:
    """A submission by its id (a prefix is enough) or a conversation's name as `list` prints
    it, in either script (then its newest submission)."""
    try:
        return vault.submission(conversation_of(vault, submission_id)[-1])
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None


def conversation_of(vault: Vault, text: str) -> list[str]:
    """The submission ids a command's ID names, oldest first: a conversation's name gives all
    of the conversation's, an id (or its first characters) the one submission."""
    try:
        if not names.looks_like_name(text.strip()):
            return [vault.find(text).id]
        from .conversations import Inbox  # the index: only paid for when a name is given

        inbox = Inbox(vault)
        try:
            return list(inbox.find(text).submission_ids)
        finally:
            inbox.close()
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None


def identity_path(key: Path | None, vault: Vault) -> Path:
    if key is not None:
        return key
    try:
        configured = vault.config().get("identity")
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    if not configured:
        raise click.ClickException(
            "no identity given; pass --key with your identity.key (made by "
            "`sealdrop-reviewer keygen`), or set it once with `sealdrop-reviewer config --key`"
        )
    return Path(configured)


def load_identity(path: Path, passphrase_file: Path | None) -> Identity:
    """Unlocks an identity file, turning every failure into one clear sentence."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the identity file {path}: {exc}") from None
    passphrase = read_passphrase(passphrase_file)
    try:
        return Identity.from_file_text(text, passphrase)
    except SealdropError as exc:
        hint = passphrase_hint(passphrase) if isinstance(exc, WrongPassphrase) else ""
        raise click.ClickException(f"{path}: {exc} {hint}".strip()) from None
