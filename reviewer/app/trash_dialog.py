"""The trash in the app (key T): what colleagues destroyed, waiting its grace period
(reviewer.trash); choosing one restores it, with everything the same destroy took."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from textual.app import App

from .. import trash
from ..display import clean_name
from ..i18n import _
from ..team import Team
from ..vault import Vault, VaultError
from .dialogs import ChoiceDialog, MessageDialog


def show_trash(app: App, vault: Vault, restored: Callable[[], None]) -> None:
    entries = trash.entries(vault)
    if not entries:
        app.push_screen(MessageDialog(_("Trash"), _("The trash is empty.")))
        return
    team = Team(vault)
    choices = []
    for entry in entries:
        until = datetime.datetime.fromtimestamp(entry.expires(), datetime.UTC)
        who = clean_name(team.label_of(entry.author))
        choices.append(
            (
                entry.id,
                _("{id}: destroyed by {who}; gone for good after {date}").format(
                    id=entry.id, who=who, date=f"{until:%Y-%m-%d}"
                ),
            )
        )

    def chosen(item: str | None) -> None:
        if not item:
            return
        try:
            entry = trash.restore(vault, item)
        except VaultError as exc:
            app.push_screen(MessageDialog(_("Trash"), str(exc)))
            return
        restored()
        text = _("{id} is back, with what the same destroy took. Tell {who}.")
        who = clean_name(team.label_of(entry.author))
        app.push_screen(MessageDialog(_("Restored"), text.format(id=entry.id, who=who)))

    app.push_screen(ChoiceDialog(_("Trash: choose one to restore"), choices), chosen)
