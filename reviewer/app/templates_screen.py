"""The team's reply templates: listed, made, edited and deleted in the app (T). They are
case-log events (reviewer.templates), so they reach colleagues with the next round trip."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, TextArea
from textual.widgets.option_list import Option

from .. import templates
from ..display import clean_name
from ..i18n import _
from ..vault import Vault, VaultError
from .dialogs import Dialog, MessageDialog


class TemplatesDialog(Dialog[None]):
    """The list: Enter edits the one chosen, N makes a new one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close"),
        Binding("ctrl+n", "new", "New template"),
    ]

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.vault = vault

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                _("The team's reply templates (they travel to colleagues with your export)"),
                classes="title",
            )
            yield OptionList(id="templates")
            with Horizontal(classes="buttons"):
                yield Button(_("New template (Ctrl+N)"), id="new", variant="primary")
                yield Button(_("Close (Esc)"), id="close")

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        known = templates.current(self.vault)
        options.add_options(
            Option(Text(clean_name(t.title)) + Text("  " + _first_line(t.text), style="dim"), t.id)
            for t in known
        )
        if known:
            options.highlighted = 0
            options.focus()
        else:
            self.query_one("#new", Button).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = {t.id: t for t in templates.current(self.vault)}.get(str(event.option.id))
        if chosen is not None:
            self.app.push_screen(TemplateEditor(chosen), self._edited)

    def action_new(self) -> None:
        self.app.push_screen(TemplateEditor(None), self._edited)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "new":
            self.action_new()
        else:
            self.dismiss(None)

    def _edited(self, result: tuple[str, str, str] | None) -> None:
        if result is None:
            return
        template_id, title, text = result
        try:
            templates.save(self.vault, title, text, template_id)
        except VaultError as exc:
            self.app.push_screen(MessageDialog(_("Not kept"), str(exc)))
            return
        self._fill()


class TemplateEditor(Dialog[tuple[str, str, str]]):
    """A title and a text; returns (id, title, text), an empty text to delete."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "keep", "Keep", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, template: templates.Template | None) -> None:
        super().__init__()
        self.template = template

    def compose(self) -> ComposeResult:
        template = self.template
        with Vertical(classes="dialog", id="template-editor"):
            yield Label(
                _("Edit the template") if template else _("A new template"), classes="title"
            )
            yield Input(
                template.title if template else "",
                placeholder=_("its title, e.g. First answer"),
                id="title",
            )
            yield TextArea(template.text if template else "", id="text", soft_wrap=True)
            with Horizontal(classes="buttons"):
                yield Button(_("Keep (Ctrl+S)"), id="keep", variant="primary")
                if template is not None:
                    yield Button(_("Delete"), id="delete", variant="error")
                yield Button(_("Cancel (Esc)"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#title" if self.template is None else "#text").focus()

    def action_keep(self) -> None:
        title = self.query_one("#title", Input).value
        text = self.query_one("#text", TextArea).text
        if not title.strip() or not text.strip():
            self.app.push_screen(
                MessageDialog(_("Not kept"), _("A template needs a title and a text."))
            )
            return
        self.dismiss((self.template.id if self.template else "", title, text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#text", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "keep":
            self.action_keep()
        elif event.button.id == "delete" and self.template is not None:
            self.dismiss((self.template.id, self.template.title, ""))
        else:
            self.dismiss(None)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return clean_name(line[:50])
