"""``show`` for a conversation: one person's submissions (those whose trailers carry the same
reply key) and the replies sent to that key, oldest first.

Order: by hour (received, for submissions; written, for replies), then by the order they
entered the vault (reviewer.replies.order). Everything the submitter wrote is printed inertly
(reviewer.display), as plain ``Text``, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from . import attachments, replies
from .display import clean_name, clean_text, decode, human_size
from .replies import Reply
from .vault import Submission, Vault, VaultError

TEXT_LIMIT = 1 << 20  # as `show`: a longer message is shown in part unless --full


@dataclass(frozen=True)
class Message:
    id: str
    hour: str
    position: int
    submission: Submission | None = None
    reply: Reply | None = None


def member_key(submission: Submission) -> str | None:
    """What makes submissions one conversation: those with the same key are one person's
    (None: a submission on its own). The inbox (reviewer.conversations) groups by this too."""
    return replies.thread_key(submission)


def thread(vault: Vault, prefix: str) -> tuple[str, list[Message]] | None:
    """The thread of the submission or reply ``prefix`` names, and that message's id; None
    when it names no reply and no submission with others in its thread (plain ``show``)."""
    prefix = prefix.strip().lower()
    if not prefix:
        return None
    submission_ids = [i for i in vault.ids() if i.startswith(prefix)]
    reply_ids = [i for i in replies.reply_ids(vault) if i.startswith(prefix)]
    if prefix in submission_ids or prefix in reply_ids:
        submission_ids = [i for i in submission_ids if i == prefix]
        reply_ids = [i for i in reply_ids if i == prefix]
    if reply_ids and len(submission_ids) + len(reply_ids) > 1:
        raise VaultError(
            f"{len(submission_ids) + len(reply_ids)} submissions and replies start with "
            f"{prefix!r}; type more of the id"
        )
    if reply_ids:
        target, key = reply_ids[0], replies.load_reply(vault, reply_ids[0]).reply_key
    elif len(submission_ids) == 1:
        target, key = submission_ids[0], member_key(vault.submission(submission_ids[0]))
        if key is None:
            return None
    else:
        return None  # unknown or ambiguous: plain `show` says which
    positions = replies.order(vault)
    members = [
        Message(s.id, s.record.received, positions.get(s.id, 0), submission=s)
        for s in vault.submissions()
        if member_key(s) == key
    ]
    members += [
        Message(r.id, r.written, positions.get(r.id, 0), reply=r)
        for r in replies.replies(vault)
        if r.reply_key == key
    ]
    if len(members) == 1 and members[0].submission is not None:
        return None
    members.sort(key=lambda m: (m.hour, m.position, m.id))
    return target, members


def show_thread(vault: Vault, prefix: str, full: bool, out: Console) -> bool:
    """Prints the thread ``prefix`` belongs to; False when plain ``show`` should print it."""
    try:
        found = thread(vault, prefix)
        if found is None:
            return False
        target, members = found
        out.print(
            Text(
                f"Thread of {len(members)} messages sharing one reply key (one person, "
                "or whoever holds their codename), oldest first:",
                style="bold",
            )
        )
        for message in members:
            out.print()
            if message.submission is not None:
                _print_submission(out, message.submission, message.id == target, full)
            else:
                assert message.reply is not None
                _print_reply(out, message.reply, message.id == target, full)
        latest = [m for m in members if m.submission is not None]
        if latest:
            out.print()
            out.print(f"Answer with: sealdrop-reviewer reply {latest[-1].id}")
        for message in latest:
            assert message.submission is not None
            vault.mark_read(message.submission)
    except (OSError, VaultError) as exc:
        raise click.ClickException(
            f"cannot read the thread of {prefix} from the vault ({exc}); "
            "destroy the damaged entry and open its bundle again"
        ) from None
    return True


def _heading(marked: bool, text: str) -> Text:
    line = Text("▶ " if marked else "  ", style="bold")
    return line.append(text, style="bold reverse" if marked else "bold")


def _print_submission(out: Console, submission: Submission, marked: bool, full: bool) -> None:
    out.print(
        _heading(marked, f"Submission {submission.id}, received {submission.record.received} UTC")
    )
    message = submission.message
    _print_text(out, submission.part_path(message) if message else None, message, full)
    for item in submission.fields:
        value = _read_text(submission.part_path(item), full)
        out.print(Text(f"{clean_name(item['name'])}: ", style="bold").append(clean_text(value)))
    for number, item in enumerate(submission.attachments, 1):
        with submission.part_path(item).open("rb") as handle:
            head = handle.read(512)
        line = Text(
            f"attachment {number}: {clean_name(item['name'])} "
            f"({clean_name(item['type'] or 'no type')}, {human_size(int(item['size']))})"
        )
        for warning in attachments.risks(item["name"], item["type"], head):
            line.append(f"  WARNING: {warning}", style="bold red")
        out.print(line)
    if submission.attachments:
        out.print(f"Save them with: sealdrop-reviewer save {submission.id} --out DIRECTORY")


def _print_reply(out: Console, reply: Reply, marked: bool, full: bool) -> None:
    state = (
        f"exported {reply.exported}"
        if reply.exported
        else "waiting for `sealdrop-reviewer export-replies`"
    )
    out.print(
        _heading(marked, f"Reply {reply.id} from staff, written {reply.written} UTC ({state})")
    )
    message = reply.message
    _print_text(out, reply.part_path(message) if message else None, message, full)
    for number, item in enumerate(reply.attachments, 1):
        out.print(
            Text(
                f"attachment {number}: {clean_name(item['name'])} ({human_size(int(item['size']))})"
            )
        )


def _print_text(out: Console, path: Path | None, part: dict | None, full: bool) -> None:
    if path is None or part is None or not int(part["size"]):
        out.print(Text("(no message)", style="dim"))
        return
    out.print(Text(clean_text(_read_text(path, full)).rstrip("\n")))
    if not full and int(part["size"]) > TEXT_LIMIT:
        out.print(
            Text(
                f"(the message is {human_size(int(part['size']))}; this is its first MiB. "
                "See all of it with --full)",
                style="bold",
            )
        )


def _read_text(path: Path, full: bool) -> str:
    with path.open("rb") as handle:
        return decode(handle.read(-1 if full else TEXT_LIMIT))
