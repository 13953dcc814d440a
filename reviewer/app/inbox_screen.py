"""The main screen: views by status, the search box, the conversation list."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Label, Tab, Tabs

from crypto import SealdropError, WrongPassphrase

from .. import caselog, drafts, replies, retention, runway
from ..conversations import ALL, SPAM, TODO, URGENT_VIEW, Conversation
from ..display import clean_name
from ..i18n import N_, _, ngettext
from ..localtime import zone_name
from ..vault import VaultError
from .case_actions import (
    CASE_BINDINGS,
    HELP_BINDING,
    CaseActions,
    layout_key,
    status_label,
)
from .dialogs import ConfirmDialog, MessageDialog, TextDialog
from .rows import NARROW, PREVIEW, Columns
from .translate import layout_hint, translated

VIEW_LABELS = {
    TODO: N_("Needs reply"),
    caselog.WAITING: N_("Waiting"),
    caselog.CLOSED: N_("Closed"),
    caselog.SPAM: N_("Spam"),
    URGENT_VIEW: N_("Urgent"),
    ALL: N_("All"),
}
SHOWN = 200  # rows in the list at once; nobody scrolls further, they search or filter


class InboxScreen(CaseActions):
    AUTO_FOCUS = "#conversations"  # focused before the first paint: the list is drawn once
    BINDINGS: ClassVar[list[BindingType]] = [
        HELP_BINDING,
        layout_key("slash", "search", "Search"),
        Binding("escape", "clear_search", "Clear search", show=False),
        *CASE_BINDINGS,
        layout_key("o", "open_bundle", "Open bundle"),
        layout_key("e", "export", "Export replies"),
        layout_key("D", "destroy_spam", "Destroy spam", show=False),
        layout_key("R", "retention", "Retention", show=False),
        *(
            Binding(str(n), f"view('{view}')", VIEW_LABELS[view], show=False)
            for n, view in enumerate(VIEW_LABELS, 1)
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        translated(self)
        self.view = TODO
        self.query_text = ""
        self.rows: list[Conversation] = []
        self.matching = 0
        self.drawn_width = 0
        self.away = False
        self.columns: Columns | None = None

    def compose(self) -> ComposeResult:
        yield Tabs(*(Tab(_(label), id=view) for view, label in VIEW_LABELS.items()), id="views")
        yield Input(placeholder=_("/ search: words, #tag, @colleague or a name"), id="search")
        yield Label("", id="lapse", markup=False)
        yield DataTable(id="conversations", cursor_type="row", zebra_stripes=True)
        yield Label("", id="summary", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.redraw()
        self.warn_lapse()

    def warn_lapse(self) -> None:
        """Weeks before the weekly keys run out, a notice above the list says so and what to
        do (as `export-replies` does in the CLI)."""
        try:
            lapse = runway.ends_soon(self.inbox.vault)
        except (OSError, ValueError, KeyError, TypeError, VaultError) as exc:
            text = _(
                "Your weekly keys in {path} could not be read ({error}), so the app cannot "
                "tell when they run out."
            ).format(path=runway.directory(self.inbox.vault), error=exc)
        else:
            if lapse is None:
                self.query_one("#lapse", Label).display = False
                return
            text = self._lapse_text(lapse).format(day=runway.day_text(lapse.end))
        notice = self.query_one("#lapse", Label)
        notice.update(Text(text))
        notice.display = True

    @staticmethod
    def _lapse_text(lapse: runway.Lapse) -> str:
        if lapse.unsent:  # the vault has newer weeks the server was not sent
            return _(
                "The server has your weekly keys only until {day}: after that, new submissions "
                "are sealed to your long-term key, without forward secrecy (whoever later takes "
                "your key and passphrase can read them). Your newer weeks are ready: export "
                "replies (e) and give the file to the admin."
            )
        if lapse.end > time.time():
            text = _(
                "Your weekly keys run out on {day}: after that, new submissions are sealed "
                "to your long-term key, without forward secrecy (whoever later takes your "
                "key and passphrase can read them)."
            )
        else:
            text = _(
                "Your weekly keys ran out on {day}: since then, new submissions are sealed "
                "to your long-term key, without forward secrecy (whoever later takes your "
                "key and passphrase can read them)."
            )
        renew = _(
            "To renew them, open a new bundle (o), then export replies (e) and give the file "
            "to the admin."
        )
        return text + " " + renew

    # --- showing ---------------------------------------------------------------------------

    def current(self) -> Conversation | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _columns(self) -> Columns:
        columns = Columns(narrow=self.size.width < NARROW)
        table = self.query_one(DataTable)
        if columns != self.columns or not table.columns:
            table.clear(columns=True)
            for key, label in columns.heads():
                table.add_column(label, key=key)
            self.columns = columns
        return columns

    def redraw(self) -> None:
        inbox = self.inbox
        previous = self.current()
        try:
            self.rows = inbox.conversations(self.view, self.query_text)
        except VaultError as exc:
            self.rows = []
            self.app.push_screen(MessageDialog(_("Not done"), str(exc)))
        counts = inbox.counts()
        tabs = self.query_one(Tabs)
        for view, label in VIEW_LABELS.items():
            tabs.query_one(f"#{view}", Tab).label = f"{_(label)} {counts[view]}"
        self.matching = len(self.rows)
        self.rows = self.rows[:SHOWN]
        self.drawn_width = self.size.width
        columns = self._columns()
        table = self.query_one(DataTable)
        table.clear()
        drafted = drafts.drafted(inbox.vault)
        why = inbox.why(self.query_text, self.rows) if self.query_text else {}
        rows = [
            columns.cells(c, self.shown_name(c), c.id in drafted, why.get(c.id, ""))
            for c in self.rows
        ]
        fixed = sum(
            max([column.label.cell_len, *(row[i].cell_len for row in rows)]) + 2
            for i, column in enumerate(list(table.columns.values())[:-1])
        )
        room = max(12, min(PREVIEW, self.size.width - fixed - 4))  # its padding, a scrollbar
        for conversation, cells in zip(self.rows, rows, strict=True):
            cells[-1].truncate(room, overflow="ellipsis")
            table.add_row(*cells, key=conversation.id)
        if previous is not None and previous.id in {c.id for c in self.rows}:
            table.move_cursor(row=[c.id for c in self.rows].index(previous.id))
        self._summarise()

    def _summarise(self) -> None:
        queued = replies.queued_count(self.inbox.vault)
        shown = self.matching
        text = ngettext("{n} conversation", "{n} conversations", shown).format(n=shown)
        if shown > len(self.rows):
            text += " · " + _("the newest {n} shown; search to find the others").format(
                n=len(self.rows)
            )
        if self.query_text:
            text += " · " + _("search: {query}").format(query=clean_name(self.query_text))
        text += " · " + _("hours in {zone}").format(zone=zone_name())
        if queued:
            text += " · " + ngettext(
                "{n} reply to export (e)", "{n} replies to export (e)", queued
            ).format(n=queued)
        self.query_one("#summary", Label).update(Text(text))

    # --- navigating ------------------------------------------------------------------------

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id and event.tab.id != self.view:
            self.view = event.tab.id
            self.redraw()

    def action_view(self, view: str) -> None:
        self.query_one(Tabs).active = view

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.query_text = event.value.strip()
            if (
                self.query_text
                and self.view != ALL
                and not self.inbox.conversations(self.view, self.query_text)
            ):
                self.view = ALL  # an old case is found even when it is closed
                self.query_one(Tabs).active = ALL
            self.redraw()
            self.query_one(DataTable).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.value or self.query_text:
            search.value, self.query_text = "", ""
            self.redraw()
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        conversation = self.current()
        if conversation is not None:
            from .thread_screen import ThreadScreen

            self.app.push_screen(ThreadScreen(conversation), lambda _result: self.redraw())

    def on_screen_suspend(self) -> None:
        self.away = True

    def on_screen_resume(self) -> None:
        if self.away:  # back from another screen (the first showing is on_mount's)
            self.away = False
            self.redraw()

    def on_resize(self) -> None:
        if self.is_mounted and self.drawn_width and self.size.width != self.drawn_width:
            self.redraw()

    # --- the vault -------------------------------------------------------------------------

    def action_open_bundle(self) -> None:
        from .open_screen import OpenBundleScreen

        self.app.push_screen(OpenBundleScreen(), self._opened)

    def _opened(self, result: object) -> None:
        self.inbox.refresh()
        self.redraw()
        self.warn_lapse()  # the open made new weeks
        self.action_retention(after_open=True)

    def action_export(self) -> None:
        from .. import epochs

        waiting = replies.queued_count(self.inbox.vault)
        keys = epochs.unsent_statement(self.inbox.vault) is not None
        if not waiting and not keys and not self._team():
            self.app.push_screen(
                MessageDialog(_("Export replies"), _("No replies are waiting to be exported."))
            )
            return
        folder = Path(self.inbox.vault.config().get("export_dir") or Path.home())
        stamp = time.strftime("%Y-%m-%dT%H", time.gmtime())
        suggested = folder / f"sealdrop-replies-{stamp}.tar"
        title = ngettext(
            "Export {n} reply for the server to this file:",
            "Export {n} replies for the server to this file:",
            waiting,
        ).format(n=waiting)
        self.app.push_screen(TextDialog(title, str(suggested)), self._export_to)

    def _team(self) -> bool:
        from ..team import Team  # team work: imported when used, for a quick start

        return Team(self.inbox.vault).path.exists()

    def _export_to(self, path: str | None) -> None:
        if not path:
            return
        target = Path(path).expanduser()
        if self._team():  # the team's changes go too, signed: that needs the key
            title = _("Your passphrase, to sign your changes for the team:")
            self.app.push_screen(
                TextDialog(title, password=True), lambda secret: self._export(target, secret)
            )
            return
        self._export(target, None)

    def _export(self, target: Path, passphrase: str | None) -> None:
        from crypto import Identity

        from .. import epochs, sync

        vault = self.inbox.vault
        try:
            events, acks = [], None
            if passphrase is not None:
                key = self.inbox.identity or vault.config().get("identity")
                if not passphrase or not key:
                    return
                identity = Identity.from_file_text(Path(key).read_text("utf-8"), passphrase)
                events = sync.outgoing(vault, identity)
                acks = sync.pending_acks(vault, identity)
            statement = epochs.unsent_statement(vault)  # new weekly keys, as the CLI sends
            exported = replies.export_replies(vault, target, events, acks, statement)
            if target.exists():
                sync.acks_sent(vault, acks)
                epochs.mark_sent(vault, statement)
        except (OSError, VaultError, SealdropError) as exc:
            reason = str(exc)
            if isinstance(exc, WrongPassphrase) and passphrase:
                reason += " " + layout_hint(passphrase)
            self.app.push_screen(MessageDialog(_("Not exported"), reason.strip()))
            return
        if not target.exists():
            self.app.push_screen(MessageDialog(_("Export replies"), _("Nothing to export.")))
            return
        self.inbox.vault.set_config(export_dir=str(target.parent.resolve()))
        text = ngettext(
            "{n} reply was written to {path}.",
            "{n} replies were written to {path}.",
            len(exported),
        ).format(n=len(exported), path=target.resolve())
        if events:
            text += " " + _("Your {n} changes for the team went with them.").format(n=len(events))
        if statement is not None:
            text += " " + _("Your new weekly keys went with them.")
        text += " " + _(
            "Give the file to the server admin, who imports it with "
            "`sealdrop-admin import-replies`. They will not be exported again."
        )
        self.app.push_screen(MessageDialog(_("Replies exported"), text))
        self.redraw()
        self.warn_lapse()  # the server now has the newer weeks

    def action_destroy_spam(self) -> None:
        doomed = [c for c in self.rows if c.status == SPAM]
        if not doomed:
            self.app.push_screen(
                MessageDialog(
                    _("Destroy spam"),
                    _(
                        "No conversation in this list is marked spam. Mark them spam first (s), "
                        "then open the Spam view and press D."
                    ),
                )
            )
            return
        question = ngettext(
            "Destroy {n} conversation marked spam, with everything in it?",
            "Destroy {n} conversations marked spam, with everything in them?",
            len(doomed),
        ).format(n=len(doomed))
        names = ", ".join(self.shown_name(c) for c in doomed[:50])
        details = _("This cannot be undone. Only conversations marked spam in this list: ")
        self.app.push_screen(
            ConfirmDialog(question, _("Destroy {n}").format(n=len(doomed)), details + names),
            lambda yes: self._destroy(doomed, "spam") if yes else None,
        )

    def _destroy(self, doomed: list[Conversation], reason: str) -> None:
        try:
            count = self.inbox.destroy(doomed, reason)
        except (OSError, VaultError) as exc:
            self.app.push_screen(MessageDialog(_("Not done"), str(exc)))
            return
        self.redraw()
        self.notify(
            ngettext("{n} conversation destroyed", "{n} conversations destroyed", count).format(
                n=count
            )
        )

    def action_retention(self, after_open: bool = False) -> None:
        rule = retention.policy(self.inbox.vault)
        if not rule.active:
            if not after_open:
                self.app.push_screen(
                    MessageDialog(
                        _("Retention"),
                        _(
                            "No retention policy is set. Set one with: sealdrop-reviewer config "
                            "--retention-closed DAYS --retention-spam DAYS"
                        ),
                    )
                )
            return
        due = retention.due(self.inbox.refresh(), rule)
        policy_text = _(
            "Policy: closed conversations are destroyed after {closed} days, spam "
            "after {spam} days (0: kept). Open and urgent cases are never touched."
        )
        policy_text = policy_text.format(closed=rule.closed_days, spam=rule.spam_days)
        if not due:
            if not after_open:
                self.app.push_screen(
                    MessageDialog(_("Retention"), policy_text + " " + _("Nothing is due."))
                )
            return
        question = ngettext(
            "The retention policy destroys {n} conversation now.",
            "The retention policy destroys {n} conversations now.",
            len(due),
        ).format(n=len(due))
        listed = "\n".join(
            f"{self.shown_name(c)}  {status_label(c.status)}  {c.state.status_hour}" for c in due
        )
        self.app.push_screen(
            ConfirmDialog(
                question, _("Destroy {n}").format(n=len(due)), policy_text + "\n\n" + listed
            ),
            lambda yes: self._destroy(due, "retention") if yes else None,
        )
