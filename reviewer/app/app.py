"""The inbox app: the caseload on the offline computer, in a terminal (Textual).

Screens: the conversation list (reviewer.app.inbox_screen), a thread (thread_screen), the
reply editor (reply_screen), and dialogs (dialogs). Everything is in reviewer.conversations;
the app only shows it and records what staff do. Every string a submitter wrote is shown as
plain text after reviewer.display cleaned it, never as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from ..conversations import Inbox
from ..i18n import DOMAIN, LOCALE_DIR
from ..layout import either_layout
from .dialogs import HelpScreen
from .inbox_screen import InboxScreen
from .translate import translated


class InboxApp(App[None]):
    CSS_PATH = "inbox.tcss"
    TITLE = "sealdrop"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(either_layout("q"), "quit", "Quit", key_display="q"),
        Binding(either_layout("question_mark"), "help", "Keys", key_display="?", show=False),
        Binding("f1", "help", "Keys (also while writing)", show=False),
        Binding(
            either_layout("B"),
            "trash",
            "Trash",
            key_display="B",
            show=False,
        ),
    ]

    def __init__(self, inbox: Inbox, passphrase_file: Path | None = None) -> None:
        super().__init__()
        translated(self)
        self.inbox = inbox
        self.passphrase_file = passphrase_file

    def on_mount(self) -> None:
        self.push_screen(InboxScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_trash(self) -> None:
        from .trash_dialog import show_trash

        def restored() -> None:
            self.inbox.refresh()
            for screen in self.screen_stack:
                if isinstance(screen, InboxScreen):
                    screen.redraw()

        show_trash(self, self.inbox.vault, restored)

    @staticmethod
    def check_resources() -> None:
        """Fails if the styles or the Russian catalog are missing from the install."""
        assert (Path(__file__).parent / InboxApp.CSS_PATH).is_file()
        assert (LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
