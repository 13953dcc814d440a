"""The caseload from a script: ``list`` by conversation, ``status``, ``note``, ``tag``,
``assign``, ``urgent``, ``search``. They record the same events as the app
(reviewer.conversations), under the key id of the identity given or configured."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import caselog
from .cli_common import console, key_option, open_vault, vault_option
from .conversations import ALL, VIEWS, Conversation, Inbox
from .display import clean_name, human_size
from .vault import VaultError

_VIEW_CHOICES = click.Choice([*caselog.STATUSES, *VIEWS])


@contextmanager
def _inbox(vault_path: Path | None, key: Path | None = None) -> Iterator[Inbox]:
    inbox = Inbox(open_vault(vault_path), key)
    try:
        inbox.refresh()
        yield inbox
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        inbox.close()


def _wide_console() -> Console:
    """Full ids when the output is not a terminal (a script or a file reads it)."""
    out = console()
    if not out.is_terminal:
        out = Console(highlight=False, emoji=False, markup=False, width=max(out.width, 400))
    return out


def flags(conversation: Conversation) -> str:
    state = conversation.state
    marks = []
    if state.urgent:
        marks.append("URGENT")
    if conversation.follow_up:
        marks.append("new follow-up")
    if state.assignee:
        marks.append(f"@{state.assignee}")
    marks += [f"#{tag}" for tag in sorted(state.tags)]
    return " ".join(clean_name(m) for m in marks)


def print_conversations(inbox: Inbox, chosen: list[Conversation], out: Console) -> None:
    table = Table(
        "id", "received (UTC)", "size", "attachments", "read", "conversation", "case", "flags"
    )
    for conversation in chosen:
        for number, submission_id in enumerate(conversation.submission_ids):
            submission = inbox.vault.submission(submission_id)
            first = number == 0
            extra = len(conversation.reply_ids)
            case = f"{conversation.status}, {extra} repl{'y' if extra == 1 else 'ies'}"
            table.add_row(
                submission.id,
                submission.record.received,
                human_size(submission.size),
                str(len(submission.attachments)),
                Text("read") if submission.record.read else Text("unread", style="bold"),
                conversation.name if first else "",
                case if first else "",
                Text(flags(conversation)) if first else "",
                end_section=number == len(conversation.submission_ids) - 1,
            )
    out.print(table)


@click.command(name="list")
@click.option(
    "--status",
    "view",
    type=_VIEW_CHOICES,
    default=ALL,
    show_default=True,
    help="Only conversations with this status (todo = new and needs-reply).",
)
@vault_option
def list_(view: str, vault_path: Path | None) -> None:
    """List the conversations, newest activity first, each with its submissions."""
    with _inbox(vault_path) as inbox:
        out = _wide_console()
        if not inbox.vault.ids():
            out.print(
                f"The vault {inbox.vault.root} is empty; open a bundle with "
                "`sealdrop-reviewer open`."
            )
            return
        chosen = inbox.conversations(view)
        if not chosen:
            out.print(f"No conversation has the status {view}.")
            return
        print_conversations(inbox, chosen, out)


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--status", "view", type=_VIEW_CHOICES, default=ALL, show_default=True)
@vault_option
def search(query: tuple[str, ...], view: str, vault_path: Path | None) -> None:
    """Find conversations by words in messages, replies, notes and attachment names (Russian
    words in any form), by #tag, @assignee or by name."""
    with _inbox(vault_path) as inbox:
        chosen = inbox.conversations(view, " ".join(query))
        out = _wide_console()
        if not chosen:
            out.print("Nothing found.")
            return
        print_conversations(inbox, chosen, out)


def _change(
    name: str, help_text: str, value_name: str, act: Callable[[Inbox, Conversation, str], str]
) -> click.Command:
    @click.command(name=name, help=help_text)
    @click.argument("conversation", metavar="ID")
    @click.argument("value", metavar=value_name)
    @key_option
    @vault_option
    def command(conversation: str, value: str, key: Path | None, vault_path: Path | None) -> None:
        with _inbox(vault_path, key) as inbox:
            found = inbox.find(conversation)
            said = act(inbox, found, value)
            console().print(f"{found.name} ({found.id}): {said}")

    return command


def _status(inbox: Inbox, conversation: Conversation, value: str) -> str:
    inbox.set_status(conversation, value.lower())
    return f"status {value.lower()}"


def _note(inbox: Inbox, conversation: Conversation, value: str) -> str:
    inbox.add_note(conversation, value)
    return "note added"


def _tag(inbox: Inbox, conversation: Conversation, value: str) -> str:
    if value.startswith("-"):
        inbox.set_tag(conversation, value[1:], present=False)
        return f"tag {value[1:]} removed"
    inbox.set_tag(conversation, value)
    return f"tagged {value}"


def _assign(inbox: Inbox, conversation: Conversation, value: str) -> str:
    inbox.assign(conversation, value)
    return f"assigned to {value}" if value.strip() else "unassigned"


def _urgent(inbox: Inbox, conversation: Conversation, value: str) -> str:
    if value.lower() not in ("yes", "no"):
        raise VaultError("say yes or no")
    inbox.set_urgent(conversation, value.lower() == "yes")
    return "marked urgent" if value.lower() == "yes" else "no longer urgent"


COMMANDS = [
    list_,
    search,
    _change(
        "status",
        "Set a conversation's status: new, needs-reply, waiting, closed or spam.",
        "STATUS",
        _status,
    ),
    _change("note", "Add a private note to a conversation (staff only).", "TEXT", _note),
    _change("tag", "Tag a conversation; -TAG removes the tag.", "TAG", _tag),
    _change(
        "assign",
        "Hand a conversation to a colleague by label (me: yourself; '' to unassign).",
        "LABEL",
        _assign,
    ),
    _change("urgent", "Mark a conversation urgent (yes) or not (no).", "YES/NO", _urgent),
]
