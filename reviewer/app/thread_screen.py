"""One conversation, in order: their messages with attachments (risk warnings, save and
strip), our replies and who wrote them, and staff notes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Label, Static

from .. import attachments
from ..conversations import Conversation, Entry
from ..display import clean_message, clean_name, decode, human_size
from ..i18n import _
from ..index import NOTE, REPLY
from ..localtime import hour_label
from ..team import Team
from ..vault import Submission, VaultError
from .case_actions import (
    CASE_BINDINGS,
    HELP_BINDING,
    CaseActions,
    layout_key,
    status_label,
)
from .dialogs import MessageDialog, TextDialog
from .reply_panel import ReplyPanel
from .translate import translated

SHOWN = 256 * 1024  # of a message; `sealdrop-reviewer show --full` prints all of it


class ThreadScreen(CaseActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        HELP_BINDING,
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "send", "Seal and queue", show=False, priority=True),
        *CASE_BINDINGS,
        layout_key("f", "save_all", "Save files"),
    ]

    def __init__(self, conversation: Conversation, replying: bool = False) -> None:
        super().__init__()
        translated(self)
        self.conversation = conversation
        self.replying = replying  # opened by r in the list: the editor opens at once
        self.files: dict[str, tuple[Submission, dict]] = {}

    def current(self) -> Conversation | None:
        return self.conversation

    def compose(self) -> ComposeResult:
        yield Label("", id="case", markup=False)
        with Horizontal(id="actions"):
            for action, label in (
                ("reply", _("Reply")),
                ("status", _("Status")),
                ("note", _("Note")),
                ("tag", _("Tag")),
                ("assign", _("Assign")),
                ("urgent", _("Urgent")),
                ("back", _("Back")),
            ):
                yield Button(label, id=f"do-{action}", compact=True)
        yield VerticalScroll(id="thread")
        yield ReplyPanel()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ReplyPanel).display = False
        self.redraw()
        self.inbox.mark_read(self.conversation)
        self.query_one("#thread").focus()
        if self.replying:
            self.action_reply()

    def redraw(self) -> None:
        try:
            self.conversation = self.inbox.get(self.conversation.id)
        except VaultError:
            self.dismiss(None)  # destroyed meanwhile
            return
        self.query_one("#case", Label).update(self._case_line())
        thread = self.query_one("#thread", VerticalScroll)
        thread.remove_children()
        try:
            entries = self.inbox.thread(self.conversation)
        except VaultError as exc:
            thread.mount(Static(Text(str(exc), style="bold red")))
            return
        self.files.clear()
        thread.mount_all([self._entry(entry) for entry in entries])
        panel = self.query_one(ReplyPanel)
        if panel.open:
            panel.load_templates()  # they may have been edited meanwhile (T)

    def _case_line(self) -> Text:
        conversation, state = self.conversation, self.conversation.state
        line = Text(self.shown_name(conversation), style="bold")
        line.append(" · " + status_label(conversation.status))
        if state.urgent:
            line.append(" · ")
            line.append(_("URGENT"), style="bold red")
        if state.assignee:
            line.append(" · @" + clean_name(state.assignee))
        for tag in sorted(state.tags):
            line.append(" · #" + clean_name(tag))
        line.append(" · ")
        line.append(conversation.id, style="dim")
        return line

    def _entry(self, entry: Entry) -> Vertical:
        if entry.kind == NOTE:
            assert entry.note is not None
            head = _("Note by {who}, {hour}").format(
                who=self._who(entry.author), hour=hour_label(entry.hour)
            )
            return Vertical(
                Label(Text(head, style="bold")),
                Static(Text(clean_message(entry.note.text))),
                classes="entry note",
            )
        if entry.kind == REPLY:
            assert entry.reply is not None
            reply = entry.reply
            head = _("Our reply, {hour}, written by {who}").format(
                hour=hour_label(reply.written), who=self._who(entry.author)
            )
            head += "  " + (_("sent out") if reply.exported else _("waiting for export"))
            body = _read(reply.part_path(reply.message)) if reply.message else ""
            names = [clean_name(part.get("name")) for part in reply.attachments]
            widgets = [Label(Text(head, style="bold")), Static(Text(clean_message(body)))]
            if names:
                widgets.append(Static(Text(_("Attached: ") + ", ".join(names), style="dim")))
            return Vertical(*widgets, classes="entry reply")
        assert entry.submission is not None
        return self._submission(entry.submission)

    def _submission(self, submission: Submission) -> Vertical:
        head = _("From them, {hour}").format(hour=hour_label(submission.record.received))
        widgets = [Label(Text(head + " · ", style="bold") + Text(submission.id, style="dim"))]
        message = submission.message
        text = _read(submission.part_path(message)) if message else ""
        widgets.append(Static(Text(clean_message(text) if text else _("(no message)"))))
        if message and int(message["size"]) > SHOWN:
            widgets.append(
                Static(
                    Text(
                        _(
                            "(only the beginning is shown; see all of it with: "
                            "sealdrop-reviewer show {id} --full)"
                        ).format(id=submission.id),
                        style="bold",
                    )
                )
            )
        for item in submission.fields:
            value = clean_message(_read(submission.part_path(item)))
            widgets.append(
                Static(Text(clean_name(item.get("name")) + ": ", style="bold") + Text(value))
            )
        for number, item in enumerate(submission.attachments):
            key = f"{submission.id}-{number}"
            self.files[key] = (submission, item)
            with submission.part_path(item).open("rb") as handle:
                head_bytes = handle.read(512)
            warning = attachments.risks(item.get("name"), item.get("type"), head_bytes)
            line = Text("▪ " if not warning else "⚠ ", style="bold red" if warning else "")
            line.append(clean_name(item.get("name")))
            line.append(f"  {clean_name(item.get('type') or '?')}  {human_size(int(item['size']))}")
            row = [Label(line, classes="file-name")]
            row.append(Button(_("Save"), id=f"save-{key}", compact=True))
            row.append(Button(_("Save, strip metadata"), id=f"strip-{key}", compact=True))
            widgets.append(Horizontal(*row, classes="file"))
            for reason in warning:
                widgets.append(Static(Text("  " + _("WARNING: ") + reason, style="bold red")))
            # Location flag (issue 20): a file that says where it was made.
            if attachments.location_flag(submission.part_path(item)) is not None:
                flag = _("LOCATION: this file says where it was made (a GPS position)")
                widgets.append(Static(Text("  " + flag, style="bold yellow"), classes="location"))
        return Vertical(*widgets, classes="entry submission")

    def _who(self, author: str) -> str:
        if not author:
            return _("someone on the team")
        try:
            if author == self.inbox.author():
                return _("you")
            member = Team(self.inbox.vault).by_key_id(author)
            if member is not None:
                return member.label
        except VaultError:
            pass
        return _("key {key_id}").format(key_id=author)

    # --- actions ---------------------------------------------------------------------------

    def action_back(self) -> None:
        panel = self.query_one(ReplyPanel)
        if panel.open:
            panel.close()
        else:
            self.dismiss(None)

    def start_reply(self, conversation: Conversation) -> None:
        panel = self.query_one(ReplyPanel)
        if panel.open:  # already writing: back to the editor, what is in it kept
            panel.query_one("#editor").focus()
            return
        panel.start(conversation, self.shown_name(conversation))
        self.call_after_refresh(self._show_latest)

    def _show_latest(self) -> None:
        self.query_one("#thread", VerticalScroll).scroll_end(animate=False)

    def action_send(self) -> None:
        panel = self.query_one(ReplyPanel)
        if panel.open:
            panel.send()

    def on_reply_panel_closed(self, event: ReplyPanel.Closed) -> None:
        if event.sent:
            self.redraw()
            self.call_after_refresh(self._show_latest)
        self.query_one("#thread").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button.startswith("do-"):
            getattr(self, f"action_{button.removeprefix('do-')}")()
        elif button.startswith(("save-", "strip-")):
            kind, _sep, key = button.partition("-")
            # Strip-on-save is the default (issue 20); the vault's setting can keep metadata.
            default = attachments.strip_by_default(self.inbox.vault.config())
            self._ask_where([self.files[key]], strip=kind == "strip" or default)

    def action_save_all(self) -> None:
        if self.files:
            default = attachments.strip_by_default(self.inbox.vault.config())
            self._ask_where(list(self.files.values()), strip=default)

    def _ask_where(self, chosen: list[tuple[Submission, dict]], strip: bool) -> None:
        folder = self.inbox.vault.config().get("save_dir") or str(Path.home() / "sealdrop-files")
        title = _("Save into this folder (outside the vault):")
        self.app.push_screen(
            TextDialog(title, folder), lambda where: self._save(chosen, where, strip)
        )

    def _save(self, chosen: list[tuple[Submission, dict]], where: str | None, strip: bool) -> None:
        if not where:
            return
        directory = Path(where).expanduser()
        mat2 = attachments.mat2_path()
        lines = []
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            for submission, item in chosen:
                index = submission.attachments.index(item)
                path = attachments.copy_out(
                    submission.part_path(item), directory, item.get("name"), index
                )
                line = _("saved {path}").format(path=clean_name(str(path)))
                if strip:
                    line += "; " + clean_name(attachments.clean_saved(path, mat2))
                lines.append(line)
        except (OSError, VaultError) as exc:
            lines.append(
                _("could not save into {folder}: {error}").format(folder=directory, error=exc)
            )
        self.inbox.vault.set_config(save_dir=str(directory.resolve()))
        self.app.push_screen(MessageDialog(_("Files saved"), "\n".join(lines)))


def _read(path: Path) -> str:
    with path.open("rb") as handle:
        return decode(handle.read(SHOWN))
