"""Starts the inbox app for ``sealdrop-reviewer`` with no command."""

from __future__ import annotations

from pathlib import Path

import click

from .. import i18n, localtime
from ..conversations import Inbox
from ..vault import Vault, VaultError, default_location


def run_app(vault_path: Path | None, key: Path | None) -> None:
    try:
        vault = Vault(vault_path or default_location())
        i18n.use(vault.config().get("language"))
        localtime.use(vault.config().get("timezone"))
        inbox = Inbox(vault, key)
        inbox.refresh()
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    from .app import InboxApp

    try:
        InboxApp(inbox).run()
    finally:
        inbox.close()
