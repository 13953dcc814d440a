"""Answering with the question in view: an editor under the thread, the draft kept in the
vault, the team's templates, attachments; sending seals and queues the reply
(reviewer.replies) for the next export."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, TextArea

from .. import drafts, templates
from ..conversations import Conversation, Inbox
from ..display import clean_name
from ..i18n import _
from ..vault import VaultError
from .dialogs import MessageDialog


class ReplyPanel(Vertical):
    """Hidden until ``start``; ``Closed`` tells the thread whether a reply was queued."""

    class Closed(Message):
        def __init__(self, sent: bool) -> None:
            super().__init__()
            self.sent = sent

    def __init__(self) -> None:
        super().__init__(id="reply")
        self.conversation: Conversation | None = None
        self.templates: list[templates.Template] = []

    @property
    def inbox(self) -> Inbox:
        return self.app.inbox  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        yield Label("", id="reply-head", markup=False)
        with Horizontal(id="reply-tools"):
            yield Select([], prompt=_("Insert a template"), id="template", compact=True)
            yield Input(
                placeholder=_("Attach files: paths separated by ;"),
                id="attachments",
                compact=True,
            )
        yield TextArea(id="editor", soft_wrap=True)
        with Horizontal(classes="buttons", id="reply-buttons"):
            yield Button(_("Seal and queue (Ctrl+S)"), id="send", variant="primary", compact=True)
            yield Button(_("Keep draft, close (Esc)"), id="close", compact=True)

    def start(self, conversation: Conversation, shown_name: str) -> None:
        self.conversation = conversation
        self.query_one("#reply-head", Label).update(
            Text(
                _(
                    "Reply to {name}: only whoever holds their codename can read it. Write "
                    "nothing that would endanger them if it were taken."
                ).format(name=shown_name),
                style="bold",
            )
        )
        self.load_templates()
        editor = self.query_one(TextArea)
        editor.text = drafts.load_draft(self.inbox.vault, conversation.id)
        self.query_one("#attachments", Input).value = ""
        self.display = True
        editor.focus()
        editor.move_cursor(editor.document.end)

    def load_templates(self) -> None:
        known = self.templates = templates.current(self.inbox.vault, self.inbox.log)
        select = self.query_one("#template", Select)
        select.set_options([(Text(clean_name(t.title)), t.id) for t in known])
        select.disabled = not known
        select.prompt = _("Insert a template") if known else _("No templates yet (T to make one)")

    @property
    def open(self) -> bool:
        return self.display and self.conversation is not None

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        chosen = {t.id: t for t in self.templates}.get(str(event.value))
        if chosen is not None:
            editor = self.query_one(TextArea)
            editor.insert(chosen.text)
            editor.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.send()
        elif event.button.id == "close":
            self.close()

    def keep_draft(self) -> None:
        if self.conversation is not None:
            text = self.query_one(TextArea).text
            drafts.save_draft(self.inbox.vault, self.conversation.id, text)

    def close(self, sent: bool = False) -> None:
        if not sent:
            self.keep_draft()
        self.display = False
        self.conversation = None
        self.post_message(self.Closed(sent))

    def send(self) -> None:
        if self.conversation is None:
            return
        text = self.query_one(TextArea).text
        raw = self.query_one("#attachments", Input).value
        files = [Path(p.strip()).expanduser() for p in raw.split(";") if p.strip()]
        try:
            written = self.inbox.reply(self.inbox.get(self.conversation.id), text, files)
        except VaultError as exc:
            self.keep_draft()
            self.app.push_screen(MessageDialog(_("Not sent"), str(exc)))
            return
        drafts.save_draft(self.inbox.vault, self.conversation.id, "")
        self.app.notify(
            _("Reply {id} sealed and queued; export replies (e) to send it.").format(id=written.id)
        )
        self.close(sent=True)
