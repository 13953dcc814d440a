"""The vault commands: ``open`` a bundle, ``show``, ``save``, ``config``, ``destroy``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from crypto.bundle import Bundle, BundleError

from . import attachments, case_view, epochs, localtime, names, opening, sync, threadview, trash
from .cli_common import (
    console,
    conversation_of,
    find_submission,
    identity_path,
    key_option,
    load_identity,
    open_vault,
    passphrase_file_option,
    strip_option,
    vault_option,
)
from .display import clean_name, clean_text, decode, human_size
from .reply_cli import destroy_replies
from .vault import Submission, Vault, VaultError


@contextmanager
def _progress(total: int) -> Iterator[tuple[Callable[[int], None], Callable[[str], None]]]:
    """A progress bar on stderr when it is a terminal, and how to print a line: above the bar
    when stdout is the same terminal, so that the two never run into each other."""
    err = console(stderr=True)
    progress = Progress(
        TextColumn("opening"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    task = progress.add_task("opening", total=total)

    def echo(line: str) -> None:
        if err.is_terminal and sys.stdout.isatty():
            progress.console.print(Text.from_ansi(line))
        else:
            click.echo(line)

    with progress:
        yield (lambda n: progress.advance(task, n)), echo


@click.command(name="open")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(dir_okay=False, path_type=Path))
@key_option
@passphrase_file_option
@vault_option
def open_bundle(
    bundle_path: Path, key: Path | None, passphrase_file: Path | None, vault_path: Path | None
) -> None:
    """Check a bundle exported from the server and decrypt its submissions into the vault."""
    vault = open_vault(vault_path)
    try:
        with vault.exclusive():
            outcomes, received = _open_into(vault, bundle_path, key, passphrase_file)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    out = console()
    opened = sum(o.status == opening.OPENED for o in outcomes)
    already = sum(o.status == opening.ALREADY for o in outcomes)
    failed = sum(o.status == opening.FAILED for o in outcomes)
    out.print(f"{opened} opened, {already} already in the vault, {failed} failed ({vault.root})")
    earlier = [o for o in outcomes if o.status == opening.BEFORE_YOU]
    if earlier:
        out.print(before_you(earlier))
    if received is not None:
        _report_staff_events(received)
    if failed:
        raise click.ClickException(
            f"{failed} of the bundle's {len(outcomes)} submissions could not be opened and "
            "nothing of them was saved; see the reason given for each above"
        )


def _open_into(
    vault: Vault, bundle_path: Path, key: Path | None, passphrase_file: Path | None
) -> tuple[list[opening.Outcome], sync.Received | None]:
    vault.remove_partials()
    try:
        bundle = Bundle(bundle_path)
    except BundleError as exc:
        message = clean_name(str(exc))  # it may quote the bundle's (untrusted) contents
        raise click.ClickException(f"{message}; nothing was added to the vault") from None
    with bundle:
        todo, outcomes = opening.plan(bundle, vault)
        for outcome in outcomes:
            _print_outcome(outcome)
        staff = opening.wants_identity(bundle, vault)  # the team's events (reviewer.sync)
        if not todo and not staff:
            return outcomes, opening.merge_staff_events(bundle, vault, outcomes, None)
        identity = load_identity(identity_path(key, vault), passphrase_file)
        if todo:
            with _progress(sum(entry.size for entry in todo)) as (advance, echo):
                try:
                    outcomes = outcomes + opening.open_entries(
                        bundle, vault, todo, [identity], advance, lambda o: _print_outcome(o, echo)
                    )
                except opening.DiskFull as exc:
                    raise click.ClickException(str(exc)) from None
        else:  # asked for the key to make new weeks (opening.wants_identity)
            epochs.renew(vault, identity)
        return outcomes, opening.merge_staff_events(bundle, vault, outcomes, identity)


def _report_staff_events(received: sync.Received) -> None:
    for entry_id, why in received.refused:
        click.echo(
            click.style("REFUSED ", fg="red", bold=True)
            + clean_name(f"staff event {entry_id}: {why}")
        )
    click.echo(
        f"staff events: {received.merged} new, {received.own_back} of yours came back, "
        f"{len(received.refused)} refused"
        + (f"; {received.destroyed} destroyed by you elsewhere" if received.destroyed else "")
        + (
            f"; {received.trashed} destroyed by a colleague, in the trash for "
            f"{trash.GRACE_DAYS} days (`sealdrop-reviewer trash`)"
            if received.trashed
            else ""
        )
    )
    for label in received.removed:
        click.echo(f"{clean_name(label)} was removed from the team by a colleague")
    if received.refused:
        raise click.ClickException(
            f"{len(received.refused)} staff event(s) were refused for the reasons above and "
            "set aside (`sealdrop-reviewer team set-aside` lists them); nothing of them was "
            "merged. If a colleague is missing from your team, add them "
            "(`sealdrop-reviewer team add`): what they signed is opened again at your next "
            "`open`. Otherwise tell the admin: someone is sealing false events to the team"
        )


def before_you(earlier: list[opening.Outcome]) -> str:
    """One paragraph for what was sealed before this reviewer joined (not a failure)."""
    colleagues = sorted({name for o in earlier for name in o.detail.split(", ")})
    return (
        f"{len(earlier)} submission(s) predate you: they were sealed to "
        f"{clean_name(', '.join(colleagues))} before your key was added to the team. Nothing "
        "is wrong. Ask one of them for a hand-over: `sealdrop-reviewer handover --to "
        "your.card --out FILE` on their computer, then open FILE here (docs/REVIEWER.md, "
        '"A new colleague")'
    )


def _print_outcome(outcome: opening.Outcome, echo: Callable[[str], None] = click.echo) -> None:
    if outcome.status == opening.BEFORE_YOU:
        return  # one line for all of them at the end, not a row each
    # click.echo, not rich: a bundle may hold thousands, and rich costs ~0.3 ms a line.
    label, color = {
        opening.OPENED: ("opened", "green"),
        opening.ALREADY: ("already", None),
        opening.FAILED: ("FAILED", "red"),
    }[outcome.status]
    text = clean_name(f"{outcome.id}  received {outcome.received}: {outcome.detail}")
    echo(click.style(f"{label:<8}", fg=color, bold=outcome.status == opening.FAILED) + text)


SHOW_LIMIT = 1 << 20


@click.command()
@click.argument("submission_id", metavar="ID")
@click.option("--full", is_flag=True, help="Show all of a message longer than 1 MiB.")
@vault_option
def show(submission_id: str, full: bool, vault_path: Path | None) -> None:
    """Show a conversation (its name as `list` prints it) or a submission (an id prefix is
    enough): the whole thread, then the case's status, tags, assignee and notes."""
    vault = open_vault(vault_path)
    if names.looks_like_name(submission_id):  # as `list` prints it
        submission_id = find_submission(vault, submission_id).id
    case = case_view.CaseView.of(vault, submission_id)
    if threadview.show_thread(vault, submission_id, full, console(), case.authors):
        case.print(console())
        return
    submission = find_submission(vault, submission_id)
    out = console()
    record = submission.record
    out.print(Text(f"Submission {submission.id}, received {record.received} UTC", style="bold"))
    message = submission.message
    try:
        if message is None or not message["size"]:
            out.print(Text("(no message)", style="dim"))
        else:
            out.print(Text(clean_text(_read_text(submission.part_path(message), full))))
            if not full and int(message["size"]) > SHOW_LIMIT:
                out.print(
                    Text(
                        f"(the message is {human_size(int(message['size']))}; this is its first "
                        f"MiB. See all of it with: sealdrop-reviewer show {submission.id} --full)",
                        style="bold",
                    )
                )
        for item in submission.fields:
            value = _read_text(submission.part_path(item), full)
            line = Text(f"{clean_name(item['name'])}: ", style="bold")
            out.print(line.append(clean_text(value), style=""))
        files = submission.attachments
        if files:
            out.print()
            table = Table("#", "name", "claimed type", "size", "warning", title="Attachments")
            for number, item in enumerate(files, 1):
                with submission.part_path(item).open("rb") as handle:
                    head = handle.read(512)
                warning = attachments.risks(item["name"], item["type"], head)
                if (location := attachments.location_flag(submission.part_path(item))) is not None:
                    warning = [*warning, f"LOCATION: {location}"]  # issue 20
                table.add_row(
                    str(number),
                    Text(clean_name(item["name"])),
                    Text(clean_name(item["type"] or "")),
                    human_size(int(item["size"])),
                    Text("; ".join(warning), style="bold red") if warning else "",
                )
            out.print(table)
            out.print(f"Save them with: sealdrop-reviewer save {submission.id} --out DIRECTORY")
        else:
            out.print(Text("(no attachments)", style="dim"))
        case.print(out)
        vault.mark_read(submission)
    except (OSError, VaultError) as exc:
        raise click.ClickException(
            f"cannot read submission {submission.id} from the vault ({exc}); "
            "destroy it and open its bundle again"
        ) from None


def _read_text(path: Path, full: bool) -> str:
    with path.open("rb") as handle:
        return decode(handle.read(-1 if full else SHOW_LIMIT))


@click.command()
@click.argument("submission_id", metavar="ID")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to copy the attachments into (created if missing).",
)
@strip_option
@vault_option
def save(submission_id: str, out_dir: Path, strip: bool | None, vault_path: Path | None) -> None:
    """Copy the attachments of a conversation (its name as `list` prints it) or of one
    submission (its id) out of the vault, under safe names."""
    vault = open_vault(vault_path)
    try:
        chosen = [vault.submission(i) for i in conversation_of(vault, submission_id)]
    except VaultError as exc:  # damaged since it was listed
        raise click.ClickException(str(exc)) from None
    if strip is None:
        try:
            strip = attachments.strip_by_default(vault.config())
        except VaultError as exc:
            raise click.ClickException(str(exc)) from None
    mat2 = attachments.mat2_path()
    out = console()
    if not any(submission.attachments for submission in chosen):
        what = f"Submission {chosen[0].id}" if len(chosen) == 1 else submission_id
        out.print(f"{what} has no attachments; nothing to save.")
        return
    for submission in chosen:
        _save_files(vault, submission, out_dir, strip, mat2, out)


def _save_files(
    vault: Vault, submission: Submission, out_dir: Path, strip: bool, mat2: str | None, out: Console
) -> None:
    files = submission.attachments
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for index, item in enumerate(files):
            source = submission.part_path(item)
            path = attachments.copy_out(source, out_dir, item["name"], index)
            with path.open("rb") as handle:
                head = handle.read(512)
            note = attachments.clean_saved(path, mat2) if strip else ""
            line = Text(f"saved {clean_name(path.name)} ({human_size(int(item['size']))})")
            if item["name"] is not None and path.name != item["name"]:
                line.append(f" from the name {clean_name(item['name'])}")
            if note:
                style = "red" if "NOT removed" in note else ""
                line.append(f"; {clean_name(note)}", style=style)
            out.print(line)
            for warning in attachments.risks(item["name"], item["type"], head):
                out.print(Text(f"  WARNING: {path.name} is {warning}", style="bold red"))
    except OSError as exc:
        raise click.ClickException(
            f"could not save into {out_dir} ({exc.strerror}); check the directory is writable "
            "and has free space, then save again (files already saved are kept)"
        ) from None
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    vault.mark_read(submission)


@click.command()
@click.option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Remember this identity.key as the default for `open` (its key id signs case changes).",
)
@strip_option
@click.option(
    "--language",
    type=click.Choice(["en", "ru", "auto"]),
    help="The inbox app's language (auto: from the environment).",
)
@click.option(
    "--timezone",
    help="Show hours in this zone, e.g. Europe/Moscow (auto: the computer's own).",
)
@click.option(
    "--retention-closed",
    "closed_days",
    type=click.IntRange(0, 99_999),
    help="Destroy closed conversations this many days after they were closed (0: keep).",
)
@click.option(
    "--retention-spam",
    "spam_days",
    type=click.IntRange(0, 99_999),
    help="Destroy conversations marked spam this many days after (0: keep).",
)
@vault_option
def config(
    key: Path | None,
    strip: bool | None,
    language: str | None,
    timezone: str | None,
    closed_days: int | None,
    spam_days: int | None,
    vault_path: Path | None,
) -> None:
    """Show or change the vault's settings (default key, metadata stripping, language, time
    zone, retention policy)."""
    vault = open_vault(vault_path)
    changes: dict[str, object] = {}
    try:
        current = vault.config()
        if key is not None:
            changes["identity"] = str(key.resolve())
        if strip is not None:
            changes["strip_metadata"] = strip
        if language is not None:
            changes["language"] = None if language == "auto" else language
        if timezone is not None:
            changes["timezone"] = None if timezone == "auto" else localtime.check_zone(timezone)
        if closed_days is not None or spam_days is not None:
            policy = dict(current.get("retention") or {})
            if closed_days is not None:
                policy["closed"] = closed_days
            if spam_days is not None:
                policy["spam"] = spam_days
            changes["retention"] = policy
        settings = vault.set_config(**changes) if changes else current
    except (VaultError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    out = console()
    out.print(f"vault:          {vault.root}")
    out.print(f"identity:       {settings.get('identity', '(none; pass --key to open)')}")
    stripping = attachments.strip_by_default(settings)
    out.print(f"strip metadata: {'yes' if stripping else 'no'}")
    out.print(f"language:       {settings.get('language') or 'from the environment'}")
    out.print(f"time zone:      {settings.get('timezone') or 'the computer’s own'}")
    policy = settings.get("retention") or {}
    kept = {k: f"destroyed after {v} days" if v else "kept" for k, v in policy.items()}
    out.print(
        f"retention:      closed {kept.get('closed', 'kept')}, spam {kept.get('spam', 'kept')}"
    )
    if stripping and attachments.mat2_path() is None:
        out.print(
            "mat2 is not installed: `save` cleans photos (JPEG, PNG, WebP) itself and says "
            "which other files keep their metadata (sudo apt install mat2)"
        )


@click.command()
@click.argument("submission_ids", metavar="ID...", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Destroy every submission in the vault.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@vault_option
def destroy(
    submission_ids: tuple[str, ...], everything: bool, yes: bool, vault_path: Path | None
) -> None:
    """Delete submissions from the vault (see docs/REVIEWER.md on what deleting can't erase)."""
    vault = open_vault(vault_path)
    if everything:
        ids = vault.ids()
    elif submission_ids:
        ids = [i for prefix in submission_ids for i in conversation_of(vault, prefix)]
    else:
        raise click.ClickException("name the submissions to destroy, or pass --all")
    if not ids:
        console().print("The vault is empty; nothing to destroy.")
        return
    if not yes:
        click.confirm(f"Destroy {len(ids)} submission(s) from {vault.root}?", abort=True)
    for submission_id in ids:
        try:
            vault.destroy(submission_id)
        except OSError as exc:
            raise click.ClickException(
                f"could not delete {submission_id} ({exc.strerror}); check the vault's "
                "permissions and run destroy again"
            ) from None
    console().print(f"destroyed {len(ids)} submission(s){destroy_replies(vault, everything)}")
