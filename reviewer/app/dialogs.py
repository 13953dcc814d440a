"""Small modal screens: keys help, choosing, typing a line or a note, confirming, telling.
The button Enter presses is marked (▸ ◂, and bold while it has the focus)."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ..i18n import N_, _
from .translate import translated

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        translated(self)

    def action_cancel(self) -> None:
        self.dismiss(None)


# Textual's own bindings, so that gettext finds them for the catalogs.
TEXTUAL_KEYS = (N_("Focus Next"), N_("Focus Previous"), N_("Copy selected text"))


class HelpScreen(Dialog[None]):
    """Every key of the screen it was opened over, and the app's own."""

    def __init__(self, over: Screen) -> None:
        super().__init__()
        self.over = over

    def compose(self) -> ComposeResult:
        rows = Text()
        seen: set[str] = set()
        for node in (self.over, self.app):
            for key_bindings in node._bindings.key_to_bindings.values():
                for binding in key_bindings:
                    shown = binding.key_display or self.app.get_key_display(binding)
                    if not binding.description or shown in seen or "super" in binding.key:
                        continue
                    seen.add(shown)
                    rows.append(f"{shown:>10}  ", style="bold")
                    rows.append(f"{_(binding.description)}\n")
        rows.append(f"{'↑ ↓':>10}  ", style="bold")
        rows.append(_("move in a list") + "\n")
        rows.append(f"{'Enter':>10}  ", style="bold")
        rows.append(_("open, or confirm") + "\n")
        rows.append(f"{'Esc':>10}  ", style="bold")
        rows.append(_("back, or cancel") + "\n")
        rows.append(f"{'к ы т':>10}  ", style="bold")
        rows.append(_("the letter keys work in the Russian layout too (к is r, ы is s…)") + "\n")
        with Vertical(classes="dialog", id="help"):
            yield Label(_("Keys (everything also works with the mouse)"), classes="title")
            with VerticalScroll():
                yield Static(rows)
            yield Button(_("Close"), id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)


class ChoiceDialog(Dialog[str]):
    def __init__(self, title: str, choices: list[tuple[str, str]], current: str = "") -> None:
        super().__init__()
        self.title_text, self.choices, self.current = title, choices, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            options = OptionList(*(Option(Text(label), id=value) for value, label in self.choices))
            yield options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for value, _label in self.choices]
        options.highlighted = values.index(self.current) if self.current in values else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class TextDialog(Dialog[str]):
    def __init__(
        self,
        title: str,
        value: str = "",
        placeholder: str = "",
        password: bool = False,
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder
        self.password = password
        self.suggestions = suggestions or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            suggester = SuggestFromList(self.suggestions, case_sensitive=False)
            yield Input(
                self.value,
                placeholder=self.placeholder,
                password=self.password,
                id="value",
                suggester=suggester if self.suggestions else None,
            )
            if self.suggestions:
                shown = _("In use (→ completes): ") + ", ".join(self.suggestions[:12])
                yield Label(Text(shown, style="dim"), classes="hint")
            with Horizontal(classes="buttons"):
                yield Button(_("OK"), id="ok", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(Input).value if event.button.id == "ok" else None)


class NoteDialog(Dialog[str]):
    """A text of several lines: Enter starts a new line, Ctrl+S (or the button) keeps it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "keep", "Keep", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        self.title_text, self.value = title, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="note-dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            yield TextArea(self.value, id="value", soft_wrap=True)
            with Horizontal(classes="buttons"):
                yield Button(_("Keep (Ctrl+S)"), id="ok", variant="primary")
                yield Button(_("Cancel (Esc)"), id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_keep(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(TextArea).text if event.button.id == "ok" else None)


class ConfirmDialog(Dialog[bool]):
    def __init__(self, text: str, yes: str, details: str = "") -> None:
        super().__init__()
        self.text, self.yes, self.details = text, yes, details

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.text, classes="title", markup=False)
            if self.details:
                details = VerticalScroll(classes="details")
                details.can_focus = False  # Tab goes between the two buttons only
                with details:
                    yield Static(Text(self.details))
            with Horizontal(classes="buttons"):
                yield Button(self.yes, id="yes", variant="error")
                yield Button(_("Cancel"), id="cancel", variant="primary")
            hint = _("Enter presses the marked button ▸ ◂; Tab moves the mark.")
            yield Label(Text(hint, style="dim"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe choice is the default

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        labels = {"yes": self.yes, "cancel": _("Cancel")}
        for button in self.query(Button):
            label = labels[button.id or "cancel"]
            button.label = f"▸ {label} ◂" if button is event.widget else label

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class MessageDialog(Dialog[None]):
    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            with VerticalScroll(classes="details"):
                yield Static(Text(self.text))
            yield Button(_("OK"), id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
