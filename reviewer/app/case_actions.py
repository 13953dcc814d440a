"""The case actions shared by the list and the thread: status, note, tag, assign, urgent,
reply. Each asks in a dialog, records one event through the inbox, and redraws."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.screen import Screen

from .. import caselog
from ..conversations import Conversation, Inbox
from ..i18n import N_, _
from ..layout import either_layout
from ..vault import VaultError
from .dialogs import ChoiceDialog, MessageDialog, NoteDialog, TextDialog

STATUS_LABELS = {
    caselog.NEW: N_("new"),
    caselog.NEEDS_REPLY: N_("needs reply"),
    caselog.WAITING: N_("waiting for them"),
    caselog.CLOSED: N_("closed"),
    caselog.SPAM: N_("spam"),
}

# First in every screen's bindings, so that the footer shows it first even at 80 columns.
HELP_BINDING = Binding(either_layout("question_mark"), "app.help", "Keys", key_display="?")


def layout_key(letter: str, action: str, description: str, show: bool = True) -> Binding:
    """A one-letter binding that works in the Latin and the Russian layout alike (never while
    typing in a box: an input takes the letters typed into it)."""
    display = {"slash": "/", "question_mark": "?"}.get(letter, letter)
    return Binding(either_layout(letter), action, description, show=show, key_display=display)


# Only Reply in the bottom bar, so that it fits 80 columns in Russian too; the others are in
# the help (?) and are buttons on a conversation.
CASE_BINDINGS = [
    layout_key("r", "reply", "Reply"),
    layout_key("s", "status", "Status", show=False),
    layout_key("n", "note", "Note", show=False),
    layout_key("t", "tag", "Tag", show=False),
    layout_key("a", "assign", "Assign", show=False),
    layout_key("u", "urgent", "Urgent", show=False),
    layout_key("x", "spam", "Spam", show=False),
    layout_key("T", "templates", "Templates", show=False),
    layout_key("L", "export_case", "Export the case for a lawyer", show=False),
]


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


class CaseActions(Screen[None]):
    @property
    def inbox(self) -> Inbox:
        return self.app.inbox  # type: ignore[attr-defined,no-any-return]

    def current(self) -> Conversation | None:
        raise NotImplementedError

    def redraw(self) -> None:
        raise NotImplementedError

    def _apply(self, change: object) -> None:
        try:
            change()  # type: ignore[operator]
        except VaultError as exc:
            self.app.push_screen(MessageDialog(_("Not done"), str(exc)))
        self.redraw()

    def action_status(self) -> None:
        conversation = self.current()
        if conversation is None:
            return
        choices = [(value, status_label(value)) for value in caselog.STATUSES]

        def chosen(value: str | None) -> None:
            if value:
                self._apply(lambda: self.inbox.set_status(self.current_fresh(), value))

        title = _("Status of {name}").format(name=self.shown_name(conversation))
        self.app.push_screen(ChoiceDialog(title, choices, conversation.status), chosen)

    def action_note(self) -> None:
        conversation = self.current()
        if conversation is None:
            return

        def written(text: str | None) -> None:
            if text and text.strip():
                self._apply(lambda: self.inbox.add_note(self.current_fresh(), text))

        title = _("Private note on {name} (staff only; Enter starts a new line)").format(
            name=self.shown_name(conversation)
        )
        self.app.push_screen(NoteDialog(title), written)

    def action_tag(self) -> None:
        conversation = self.current()
        if conversation is None:
            return

        def tagged(text: str | None) -> None:
            if not text or not text.strip():
                return
            tag = text.strip()
            if tag.startswith("-"):
                self._apply(lambda: self.inbox.set_tag(self.current_fresh(), tag[1:], False))
            else:
                self._apply(lambda: self.inbox.set_tag(self.current_fresh(), tag.lstrip("#")))

        title = _("Tag {name} (-tag removes it)").format(name=self.shown_name(conversation))
        in_use = self.inbox.tags_in_use()
        self.app.push_screen(
            TextDialog(title, placeholder=_("e.g. legal"), suggestions=in_use), tagged
        )

    def action_assign(self) -> None:
        conversation = self.current()
        if conversation is None:
            return

        def assigned(label: str | None) -> None:
            if label is not None:
                self._apply(lambda: self.inbox.assign(self.current_fresh(), label))

        title = _("Hand {name} to (a colleague's label, or me; empty to unassign)").format(
            name=self.shown_name(conversation)
        )
        people = [_("me"), *self.inbox.colleagues()]
        self.app.push_screen(
            TextDialog(title, conversation.state.assignee, suggestions=people), assigned
        )

    def action_urgent(self) -> None:
        conversation = self.current()
        if conversation is not None:
            urgent = not conversation.state.urgent
            self._apply(lambda: self.inbox.set_urgent(conversation, urgent))

    def action_templates(self) -> None:
        from .templates_screen import TemplatesDialog

        self.app.push_screen(TemplatesDialog(self.inbox.vault), lambda _done: self.redraw())

    def action_export_case(self) -> None:
        conversation = self.current()
        if conversation is None:
            return
        folder = Path(self.inbox.vault.config().get("save_dir") or Path.home() / "sealdrop-files")
        suggested = folder / f"case-{conversation.name}.zip"
        title = _(
            "Write {name} for a lawyer (messages, replies, notes, files without metadata) to "
            "this .zip, or a folder:"
        ).format(name=self.shown_name(conversation))
        self.app.push_screen(
            TextDialog(title, str(suggested)), lambda where: self._export_case(conversation, where)
        )

    def _export_case(self, conversation: Conversation, where: str | None) -> None:
        if not where:
            return
        from ..case_export import export_case

        try:
            written = export_case(self.inbox, conversation, Path(where).expanduser())
        except VaultError as exc:
            self.app.push_screen(MessageDialog(_("Not written"), str(exc)))
            return
        self.app.push_screen(
            MessageDialog(
                _("Case written"),
                _(
                    "{path} holds the whole conversation in plain text: carry it only on an "
                    "encrypted stick, and destroy this copy once the lawyer has it."
                ).format(path=written),
            )
        )

    def action_spam(self) -> None:
        conversation = self.current()
        if conversation is not None and conversation.status != caselog.SPAM:
            self._apply(lambda: self.inbox.set_status(self.current_fresh(), caselog.SPAM))
            self.notify(_("{name} marked spam").format(name=self.shown_name(conversation)))

    def action_reply(self) -> None:
        conversation = self.current()
        if conversation is None:
            return
        if not conversation.answerable:
            self.app.push_screen(
                MessageDialog(
                    _("Cannot reply"),
                    _("Nobody in this conversation asked for replies, so it cannot be answered."),
                )
            )
            return
        self.start_reply(conversation)

    def start_reply(self, conversation: Conversation) -> None:
        """Opens the editor under the thread (the list first opens the thread)."""
        from .thread_screen import ThreadScreen

        self.app.push_screen(ThreadScreen(conversation, replying=True))

    def current_fresh(self) -> Conversation:
        """The conversation as it is now (a dialog may have stayed open across a change)."""
        conversation = self.current()
        assert conversation is not None
        return self.inbox.get(conversation.id)

    def shown_name(self, conversation: Conversation) -> str:
        from ..i18n import language
        from ..names import in_cyrillic

        return in_cyrillic(conversation.name) if language() == "ru" else conversation.name
