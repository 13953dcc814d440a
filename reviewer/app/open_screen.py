"""Opening a bundle from the app: its path and the passphrase, a progress bar, then what
opened and which envelopes were set aside, by id (reviewer.opening decides all of that)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, ProgressBar, Static

from crypto import Identity, SealdropError, WrongPassphrase
from crypto.bundle import Bundle, BundleError

from .. import opening, sync
from ..display import clean_name
from ..i18n import _, ngettext
from ..vault import VaultError
from .dialogs import Dialog
from .translate import layout_hint


class OpenBundleScreen(Dialog[list[opening.Outcome]]):
    def __init__(self) -> None:
        super().__init__()
        self.outcomes: list[opening.Outcome] = []
        self.staff: sync.Received | None = None  # the team's events it carried

    @property
    def vault(self):  # type: ignore[no-untyped-def]
        return self.app.inbox.vault  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        folder = self.vault.config().get("import_dir") or str(Path.home())
        with Vertical(classes="dialog", id="open"):
            yield Label(_("Open a bundle exported from the server"), classes="title")
            yield Input(folder, placeholder=_("the bundle file"), id="bundle")
            yield Input(password=True, placeholder=_("your passphrase"), id="passphrase")
            yield ProgressBar(id="progress", show_eta=False)
            with VerticalScroll(classes="details"):
                yield Static("", id="outcome")
            with Horizontal(classes="buttons"):
                yield Button(_("Open"), id="go", variant="primary")
                yield Button(_("Close"), id="close")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "bundle":
            self.query_one("#passphrase", Input).focus()
        else:
            self._start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go":
            self._start()
        else:
            self.dismiss(self.outcomes)

    def action_cancel(self) -> None:
        self.dismiss(self.outcomes)

    def _say(self, text: str, style: str = "") -> None:
        self.query_one("#outcome", Static).update(Text(text, style=style))

    def _start(self) -> None:
        path = Path(self.query_one("#bundle", Input).value).expanduser()
        passphrase = self.query_one("#passphrase", Input).value
        self.query_one("#go", Button).disabled = True
        self._say(_("Unlocking your key…"))
        self._open(path, passphrase)

    @work(thread=True, exclusive=True)
    def _open(self, path: Path, passphrase: str) -> None:
        try:
            outcomes = self._open_bundle(path, passphrase)
        except (OSError, VaultError, BundleError, SealdropError, opening.DiskFull) as exc:
            message = clean_name(str(exc))
            if isinstance(exc, WrongPassphrase):
                message += " " + layout_hint(passphrase)
            self.app.call_from_thread(self._failed, message.strip())
            return
        self.app.call_from_thread(self._done, outcomes)

    def _open_bundle(self, path: Path, passphrase: str) -> list[opening.Outcome]:
        vault = self.vault
        key = self.app.inbox.identity or vault.config().get("identity")  # type: ignore[attr-defined]
        if not key:
            raise VaultError(
                _("No identity is set; run: sealdrop-reviewer config --key identity.key")
            )
        with vault.exclusive():
            vault.remove_partials()
            with Bundle(path) as bundle:
                todo, outcomes = opening.plan(bundle, vault)
                staff = opening.wants_identity(bundle, vault)  # the team's events
                if not todo and not staff:
                    opening.merge_staff_events(bundle, vault, outcomes, None)
                    return outcomes
                identity = Identity.from_file_text(Path(key).read_text("utf-8"), passphrase)
                total = sum(entry.size for entry in todo)
                self.app.call_from_thread(self._progress, total, 0)
                self.app.call_from_thread(self._say, _("Opening…"))
                outcomes += opening.open_entries(
                    bundle,
                    vault,
                    todo,
                    [identity],
                    lambda n: self.app.call_from_thread(self._progress, None, n),
                )
                self.staff = opening.merge_staff_events(bundle, vault, outcomes, identity)
        vault.set_config(import_dir=str(path.parent.resolve()))
        return outcomes

    def _progress(self, total: int | None, advance: int) -> None:
        bar = self.query_one(ProgressBar)
        if total is not None:
            bar.update(total=max(total, 1), progress=0)
        bar.advance(advance)

    def _failed(self, message: str) -> None:
        self.query_one("#go", Button).disabled = False
        self._say(_("Nothing was opened: {reason}").format(reason=message), "bold red")

    def _done(self, outcomes: list[opening.Outcome]) -> None:
        self.outcomes += outcomes
        self.query_one("#go", Button).disabled = False  # another bundle may follow
        bar = self.query_one(ProgressBar)
        bar.update(total=max(bar.total or 1, 1), progress=bar.total or 1)
        opened = sum(o.status == opening.OPENED for o in outcomes)
        already = sum(o.status == opening.ALREADY for o in outcomes)
        failed = [o for o in outcomes if o.status == opening.FAILED]
        text = Text(
            ngettext("{n} opened", "{n} opened", opened).format(n=opened)
            + ", "
            + _("{n} already in the vault").format(n=already)
            + ", "
            + ngettext("{n} set aside", "{n} set aside", len(failed)).format(n=len(failed))
            + "\n",
            style="bold",
        )
        earlier = [o for o in outcomes if o.status == opening.BEFORE_YOU]
        if earlier:
            colleagues = sorted({name for o in earlier for name in o.detail.split(", ")})
            text.append(
                ngettext(
                    "{n} submission predates you: it was sealed to {who} before your key was "
                    "added to the team. Nothing is wrong; ask one of them for a hand-over "
                    "(sealdrop-reviewer handover), then open it here.",
                    "{n} submissions predate you: they were sealed to {who} before your key "
                    "was added to the team. Nothing is wrong; ask one of them for a hand-over "
                    "(sealdrop-reviewer handover), then open it here.",
                    len(earlier),
                ).format(n=len(earlier), who=clean_name(", ".join(colleagues)))
                + "\n"
            )
        for outcome in failed:
            text.append(clean_name(f"{outcome.id}: {outcome.detail}") + "\n", style="red")
        if self.staff is not None:
            text.append(
                _("Team: {new} new changes, {refused} refused").format(
                    new=self.staff.merged, refused=len(self.staff.refused)
                )
                + "\n"
            )
            for entry_id, why in self.staff.refused:
                text.append(clean_name(f"{entry_id}: {why}") + "\n", style="red")
        self.query_one("#outcome", Static).update(text)
        self.query_one("#close", Button).focus()
