"""``show`` for a conversation: one person's submissions (those whose trailers carry the same
reply key and that belong to its thread, reviewer.threads) and the replies sent to that key,
oldest first. A submission that names the key without belonging is shown alone, marked.

Order: by hour (received, for submissions; written, for replies), then by the order they
entered the vault (reviewer.replies.order). Everything the submitter wrote is printed inertly
(reviewer.display), as plain ``Text``, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from crypto.followup import Proof

from . import attachments, replies, threads
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
    standing: threads.Standing | None = None


def member_key(submission: Submission) -> str | None:
    """What makes submissions one conversation in the inbox (reviewer.conversations): the
    reply key it names; None for a submission on its own, or one whose proof of the codename
    is forged (it stands alone). Within a conversation, `thread` still marks an unproven
    message with another mailbox or after the person's proven ones, and `reply` refuses it."""
    key = threads.thread_key(submission)
    if key is None or threads.proof_of(submission) is Proof.FORGED:
        return None
    return key


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
    positions = replies.order(vault)
    if reply_ids:
        reply = replies.load_reply(vault, reply_ids[0])
        target, key, about = reply.id, reply.reply_key, reply.in_reply_to
    elif len(submission_ids) == 1:
        target = about = submission_ids[0]
        key = threads.thread_key(vault.submission(target))
        if key is None:
            return None
    else:
        return None  # unknown or ambiguous: plain `show` says which
    named = threads.standings(vault, key, positions)
    outsiders = {i for i, (_, standing) in named.items() if not standing.member}
    # An outsider is a thread of its own: itself and the replies written to it.
    belongs = {about} if about in outsiders else {i for i in named if i not in outsiders}
    members = [
        Message(s.id, s.record.received, positions.get(s.id, 0), submission=s, standing=standing)
        for s, standing in named.values()
        if s.id in belongs
    ]
    members += [
        Message(r.id, r.written, positions.get(r.id, 0), reply=r)
        for r in replies.replies(vault)
        if r.reply_key == key and (r.in_reply_to in belongs or r.in_reply_to not in named)
    ]
    if len(members) == 1 and members[0].submission is not None and about not in outsiders:
        return None
    members.sort(key=lambda m: (m.hour, m.position, m.id))
    return target, members


def show_thread(
    vault: Vault, prefix: str, full: bool, out: Console, authors: Mapping[str, str] = {}
) -> bool:
    """Prints the thread ``prefix`` belongs to, each reply with who wrote it (``authors``,
    from the case log); False when plain ``show`` should print it."""
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
                if message.standing is not None:
                    out.print(_standing(message.standing))
            else:
                assert message.reply is not None
                who = authors.get(message.reply.id, "")
                _print_reply(out, message.reply, message.id == target, full, who)
        latest = [m for m in members if m.submission is not None]
        answerable = [m for m in latest if m.standing is None or m.standing.member]
        if answerable:
            out.print()
            out.print(f"Answer with: sealdrop-reviewer reply {answerable[-1].id}")
        else:
            out.print()
            out.print(
                Text(
                    "This submission stands alone: it does not belong to the thread of the "
                    "reply key it names, and is not answered.",
                    style="bold red",
                )
            )
        for message in latest:
            assert message.submission is not None
            vault.mark_read(message.submission)
    except (OSError, VaultError) as exc:
        raise click.ClickException(
            f"cannot read the thread of {prefix} from the vault ({exc}); "
            "destroy the damaged entry and open its bundle again"
        ) from None
    return True


def _standing(standing: threads.Standing) -> Text:
    if not standing.member:
        style = "bold red"
    else:
        style = "green" if standing.proof is Proof.PROVEN else "yellow"
    return Text(f"  ({standing.describe()})", style=style)


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
        # Issue 20: a file that says where it was made is flagged.
        if (location := attachments.location_flag(submission.part_path(item))) is not None:
            line.append(f"  LOCATION: {location}", style="bold yellow")
        out.print(line)
    if submission.attachments:
        out.print(f"Save them with: sealdrop-reviewer save {submission.id} --out DIRECTORY")


def _print_reply(out: Console, reply: Reply, marked: bool, full: bool, who: str = "") -> None:
    state = (
        f"exported {reply.exported}"
        if reply.exported
        else "waiting for `sealdrop-reviewer export-replies`"
    )
    by = f"written by {clean_name(who)}" if who else "from staff, written"
    out.print(_heading(marked, f"Reply {reply.id} {by} {reply.written} UTC ({state})"))
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
