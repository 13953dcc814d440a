"""``sealdrop-reviewer reply`` and ``export-replies``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import epochs, names, replies, sync, threads
from .caselog import CaseLogError
from .cli_common import (
    console,
    find_submission,
    identity_path,
    load_identity,
    open_vault,
    passphrase_file_option,
    vault_option,
)
from .conversations import Inbox
from .team import Team
from .vault import Vault, VaultError

_CUT = "# ------------------------ >8 ------------------------"
_TEMPLATE = f"""

{_CUT}
# Write your reply above this line; everything from it down is ignored.
# Save and close the editor to queue the reply, or close without saving to cancel.
# The reply is sealed to the person's reply key: only whoever holds their codename can read
# it. Do not write anything that would endanger them if their codename were taken.
"""


@click.command()
@click.argument("submission_id", metavar="ID")
@click.option(
    "--message",
    "-m",
    help="The reply text (default: read standard input, or open $EDITOR at a terminal).",
)
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Attach this file (repeat for several).",
)
@vault_option
def reply(
    submission_id: str, message: str | None, files: tuple[Path, ...], vault_path: Path | None
) -> None:
    """Answer a conversation (its name as `list` prints it) or a submission (its id), sealed
    so that only the person can read it; the conversation then waits for them."""
    vault = open_vault(vault_path)
    submission = find_submission(vault, submission_id)
    try:
        if names.looks_like_name(submission_id):  # its newest message that can be answered
            submission = vault.submission(_answerable(vault, submission_id))
        # Before anyone writes a reply that cannot go, or would not reach this person.
        threads.check_answerable(vault, submission, replies.order(vault))
        if message is None:
            message = _compose()
        queued, name = _queue(vault, submission.id, message, files)
        waiting = len(replies.queued(vault))
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    count = len(queued.attachments)
    extra = f" with {count} attachment{'s' if count != 1 else ''}" if count else ""
    out = console()
    out.print(f"queued reply {queued.id} to submission {submission.id}{extra}")
    if name:
        out.print(f"{name} is now waiting for them; the reply is recorded as yours")
    else:
        out.print(
            "its status was not changed: set your key once with `sealdrop-reviewer config "
            "--key identity.key` so replies are recorded as yours and set waiting for them"
        )
    out.print(
        f"{waiting} repl{'y waits' if waiting == 1 else 'ies wait'} for the server; write them "
        "to a stick with: sealdrop-reviewer export-replies --out FILE"
    )


def _queue(
    vault: Vault, submission_id: str, message: str, files: tuple[Path, ...]
) -> tuple[replies.Reply, str]:
    """Through the inbox, as the app does: recorded as yours, the conversation then waits for
    them; returns the reply and the conversation's name. Without an identity set, the reply
    alone (and no name)."""
    inbox = Inbox(vault)
    try:
        inbox.refresh()
        try:
            inbox.author()
        except CaseLogError:
            return replies.queue_reply(vault, submission_id, message, files), ""
        conversation = inbox.find(submission_id)
        written = inbox.reply(conversation, message, files, target=submission_id)
        return written, conversation.name
    finally:
        inbox.close()


def _answerable(vault: Vault, name: str) -> str:
    inbox = Inbox(vault)
    try:
        inbox.refresh()
        return inbox.answerable(inbox.find(name))
    finally:
        inbox.close()


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _compose() -> str:
    if not _stdin_is_terminal():
        return sys.stdin.read()
    text = click.edit(_TEMPLATE, extension=".txt", require_save=True)
    if text is None:
        raise replies.ReplyError("the editor was closed without saving; nothing was queued")
    return text.split(_CUT, 1)[0].rstrip()


@click.command(name="export-replies")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle file to write (on the stick that goes to the server admin).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SEALDROP_IDENTITY",
    help="Your identity.key, to sign your staff events for the team (default: the vault's).",
)
@passphrase_file_option
@vault_option
def export_replies(
    out_path: Path, key: Path | None, passphrase_file: Path | None, vault_path: Path | None
) -> None:
    """Write every reply not yet exported into one bundle for the server (with a team: also
    your staff events, signed and sealed to the team, and what you have opened)."""
    vault = open_vault(vault_path)
    events: list[tuple[str, str, bytes]] = []
    acks = None
    try:
        if Team(vault).path.exists():
            identity = load_identity(identity_path(key, vault), passphrase_file)
            events = sync.outgoing(vault, identity)
            acks = sync.pending_acks(vault, identity)
        statement = epochs.unsent_statement(vault)
        exported = replies.export_replies(vault, out_path, events, acks, statement)
        if out_path.exists():
            sync.acks_sent(vault, acks)
            epochs.mark_sent(vault, statement)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    out = console()
    lapse = epochs.lapse_warning(vault) if epochs.runway_end(vault) is not None else None
    if lapse:
        out.print(f"[bold red]WARNING[/]: {lapse}")
    if not exported and not events and acks is None and statement is None:
        out.print("No replies are waiting to be exported; no file was written.")
        return
    noun = "reply" if len(exported) == 1 else "replies"
    extra = f", {len(events)} staff event(s)" if events else ""
    extra += ", confirmations of what you opened" if acks is not None else ""
    extra += ", your new weekly keys" if statement is not None else ""
    out.print(f"exported {len(exported)} {noun}{extra} to {out_path}")
    out.print(
        "Give it to the server admin, who runs: sealdrop-admin import-replies "
        f"{out_path.name} (they are marked exported here and will not be exported again)"
    )


def destroy_replies(vault: Vault, everything: bool) -> str:
    """For `destroy`: deletes replies left without a submission (all of them with --all) and
    says how many, as the end of its sentence."""
    try:
        gone = replies.destroy_orphans(vault, everything)
    except (OSError, VaultError) as exc:
        raise click.ClickException(
            f"the submissions were destroyed but not all replies could be ({exc}); "
            "check the vault's permissions and run destroy again"
        ) from None
    if not gone:
        return ""
    return f" and {gone} repl{'y' if gone == 1 else 'ies'} you wrote to them"
