"""Answering in place: a built-in editor, the draft kept in the vault, the team's templates,
attachments; sending seals and queues the reply (reviewer.replies) for the next export."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, TextArea

from .. import drafts
from ..conversations import Conversation, Inbox
from ..display import clean_name
from ..i18n import _, language
from ..names import in_cyrillic
from ..vault import VaultError
from .dialogs import MessageDialog
from .translate import translated


class ReplyScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Seal and queue", priority=True),
        Binding("escape", "close", "Keep draft and close", priority=True),
    ]

    def __init__(self, conversation: Conversation) -> None:
        super().__init__()
        translated(self)
        self.conversation = conversation

    @property
    def inbox(self) -> Inbox:
        return self.app.inbox  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        name = self.conversation.name
        shown = in_cyrillic(name) if language() == "ru" else name
        yield Label(
            Text(
                _(
                    "Reply to {name}: only whoever holds their codename can read it. Write "
                    "nothing that would endanger them if it were taken."
                ).format(name=shown)
            ),
            id="reply-head",
        )
        templates = drafts.templates(self.inbox.vault)
        yield Select(
            [(Text(clean_name(t.title)), index) for index, t in enumerate(templates)],
            prompt=_("Insert a team template") if templates else _("No templates (templates.txt)"),
            id="template",
            disabled=not templates,
        )
        yield TextArea(drafts.load_draft(self.inbox.vault, self.conversation.id), id="editor")
        yield Input(
            placeholder=_("Attach files: paths separated by ; (optional)"), id="attachments"
        )
        with Horizontal(classes="buttons"):
            yield Button(_("Seal and queue (Ctrl+S)"), id="send", variant="primary")
            yield Button(_("Keep draft and close (Esc)"), id="close")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            template = drafts.templates(self.inbox.vault)[event.value]
            self.query_one(TextArea).insert(template.text)
            self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()
        elif event.button.id == "close":
            self.action_close()

    def action_close(self) -> None:
        drafts.save_draft(self.inbox.vault, self.conversation.id, self.query_one(TextArea).text)
        self.dismiss(False)

    def action_send(self) -> None:
        text = self.query_one(TextArea).text
        raw = self.query_one("#attachments", Input).value
        files = [Path(p.strip()).expanduser() for p in raw.split(";") if p.strip()]
        try:
            written = self.inbox.reply(self.inbox.get(self.conversation.id), text, files)
        except VaultError as exc:
            drafts.save_draft(self.inbox.vault, self.conversation.id, text)
            self.app.push_screen(MessageDialog(_("Not sent"), str(exc)))
            return
        drafts.save_draft(self.inbox.vault, self.conversation.id, "")
        self.app.notify(
            _("Reply {id} sealed and queued; export replies (e) to send it.").format(id=written.id)
        )
        self.dismiss(True)
