"""``sealdrop-reviewer``: the offline staff tool.

Keys (keygen, fingerprint), then the vault: open a bundle, list, show, save, destroy. Every
error a person can meet ends the command with one sentence saying what to do next and a
non-zero exit status. Nothing here opens a network connection.
"""

from __future__ import annotations

import os
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

from crypto import Identity, PublicKey, SealdropError
from crypto.bundle import Bundle, BundleError
from crypto.team import Member

from . import attachments, opening, sync, threadview
from .display import clean_name, clean_text, decode, human_size
from .passphrase import read_passphrase
from .vault import Submission, Vault, VaultError, default_location

IDENTITY_FILE = "identity.key"
PUBLIC_FILE = "public.key"

passphrase_file_option = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from the first line of this file instead of asking.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """sealdrop's offline reviewer tool: keys, and reading what people sent."""


@main.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the new identity.key (private) and public.key.",
)
@click.option("--name", default="", help="A label for the public key file, e.g. your name.")
@passphrase_file_option
def keygen(out_dir: Path, name: str, passphrase_file: Path | None) -> None:
    """Create a reviewer identity: a passphrase-protected private key and a public key."""
    identity_path, public_path = out_dir / IDENTITY_FILE, out_dir / PUBLIC_FILE
    for path in (identity_path, public_path):
        if path.exists():
            raise click.ClickException(
                f"{path} already exists; choose another --out directory (never overwrite keys)"
            )
    passphrase = read_passphrase(passphrase_file, confirm=True)
    identity = Identity.generate()
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_new(identity_path, identity.to_file_text(passphrase), 0o600)
    pk = identity.public_key
    label = f"# {name}\n" if name else ""
    card = Member.of(identity, name or "unnamed")  # also a team member card (docs/REVIEWER.md)
    _write_new(
        public_path,
        f"# sealdrop reviewer public key; give this file to the server admin.\n{label}"
        f"# fingerprint: {pk.fingerprint}\n# team fingerprint: {card.fingerprint}\n"
        f"{pk.line}\nsigning-key: {card.signing_key.line}\n"
        + (f"member: {name}\n" if name else ""),
        0o644,
    )
    click.echo(f"private key: {identity_path}  (keep it offline, with a backup)")
    click.echo(f"public key:  {public_path}  (give this to the admin)")
    click.echo(f"fingerprint: {pk.fingerprint}")


@main.command()
@click.argument("key_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def fingerprint(key_file: Path) -> None:
    """Print the fingerprint of a public key file (or of an identity file's public key)."""
    try:
        pk = PublicKey.from_file(key_file)
    except (SealdropError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{key_file}: {exc}") from None
    click.echo(pk.fingerprint)


def _write_new(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def load_identity(path: Path, passphrase_file: Path | None) -> Identity:
    """Unlocks an identity file, turning every failure into one clear sentence."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the identity file {path}: {exc}") from None
    try:
        return Identity.from_file_text(text, read_passphrase(passphrase_file))
    except SealdropError as exc:
        raise click.ClickException(f"{path}: {exc}") from None


# --- the vault ---------------------------------------------------------------------------

vault_option = click.option(
    "--vault",
    "vault_path",
    envvar="SEALDROP_VAULT",
    type=click.Path(file_okay=False, path_type=Path),
    help="The vault directory (default: $SEALDROP_VAULT, else ~/.local/share/sealdrop/vault).",
)
strip_option = click.option(
    "--strip-metadata/--keep-metadata",
    "strip",
    default=None,
    help="Remove metadata from saved files with mat2 (default: the vault's setting, else keep).",
)


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, emoji=False, markup=False)


def _open_vault(vault_path: Path | None) -> Vault:
    try:
        return Vault(vault_path or default_location())
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None


def _find(vault: Vault, submission_id: str) -> Submission:
    try:
        return vault.find(submission_id)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None


def _identity_path(key: Path | None, vault: Vault) -> Path:
    if key is not None:
        return key
    try:
        configured = vault.config().get("identity")
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    if not configured:
        raise click.ClickException(
            "no identity given; pass --key with your identity.key (made by "
            "`sealdrop-reviewer keygen`), or set it once with `sealdrop-reviewer config --key`"
        )
    return Path(configured)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; stdout printing goes above it."""
    console = _console(stderr=True)
    progress = Progress(
        TextColumn("opening"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task("opening", total=total)
    with progress:
        yield lambda n: progress.advance(task, n)


@main.command(name="open")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SEALDROP_IDENTITY",
    help="Your identity.key (default: $SEALDROP_IDENTITY, else the vault's setting).",
)
@passphrase_file_option
@vault_option
def open_bundle(
    bundle_path: Path, key: Path | None, passphrase_file: Path | None, vault_path: Path | None
) -> None:
    """Check a bundle exported from the server and decrypt its submissions into the vault."""
    vault = _open_vault(vault_path)
    try:
        with vault.exclusive():
            outcomes, received = _open_into(vault, bundle_path, key, passphrase_file)
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    out = _console()
    opened = sum(o.status == opening.OPENED for o in outcomes)
    already = sum(o.status == opening.ALREADY for o in outcomes)
    failed = sum(o.status == opening.FAILED for o in outcomes)
    out.print(f"{opened} opened, {already} already in the vault, {failed} failed ({vault.root})")
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
        staff = opening.wants_identity(bundle, vault)
        if not todo and not staff:
            return outcomes, None
        identity = load_identity(_identity_path(key, vault), passphrase_file)
        if todo:
            with _progress(sum(entry.size for entry in todo)) as advance:
                try:
                    outcomes += opening.open_entries(
                        bundle, vault, todo, [identity], advance, _print_outcome
                    )
                except opening.DiskFull as exc:
                    raise click.ClickException(str(exc)) from None
        if not staff:
            return outcomes, None
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
        + (f"; {received.destroyed} destroyed by the team" if received.destroyed else "")
    )
    if received.refused:
        raise click.ClickException(
            f"{len(received.refused)} staff event(s) were refused: they were not signed by a "
            "member of your team (see `sealdrop-reviewer team list`); nothing of them was kept. "
            "If a colleague is missing from your team, add them and open the bundle again; "
            "otherwise tell the admin, the server may be attacked"
        )


def _print_outcome(outcome: opening.Outcome) -> None:
    # click.echo, not rich: a bundle may hold thousands, and rich costs ~0.3 ms a line.
    label, color = {
        opening.OPENED: ("opened", "green"),
        opening.ALREADY: ("already", None),
        opening.FAILED: ("FAILED", "red"),
    }[outcome.status]
    text = clean_name(f"{outcome.id}  received {outcome.received}: {outcome.detail}")
    click.echo(click.style(f"{label:<8}", fg=color, bold=outcome.status == opening.FAILED) + text)


@main.command(name="list")
@vault_option
def list_(vault_path: Path | None) -> None:
    """List the submissions in the vault, unread ones first."""
    vault = _open_vault(vault_path)
    out = _console()
    try:
        submissions = list(vault.submissions())
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    if not submissions:
        out.print(f"The vault {vault.root} is empty; open a bundle with `sealdrop-reviewer open`.")
        return
    submissions.sort(key=lambda s: (s.record.read, s.record.received, s.id))
    table = Table("id", "received (UTC)", "size", "attachments", "status")
    for submission in submissions:
        table.add_row(
            submission.id,
            submission.record.received,
            human_size(submission.size),
            str(len(submission.attachments)),
            Text("read") if submission.record.read else Text("unread", style="bold"),
        )
    out.print(table)


SHOW_LIMIT = 1 << 20


@main.command()
@click.argument("submission_id", metavar="ID")
@click.option("--full", is_flag=True, help="Show all of a message longer than 1 MiB.")
@vault_option
def show(submission_id: str, full: bool, vault_path: Path | None) -> None:
    """Show a submission's message and list its attachments (an id prefix is enough); for a
    submission or reply in a conversation, the whole thread."""
    vault = _open_vault(vault_path)
    if threadview.show_thread(vault, submission_id, full, _console()):
        return
    submission = _find(vault, submission_id)
    out = _console()
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
        vault.mark_read(submission)
    except (OSError, VaultError) as exc:
        raise click.ClickException(
            f"cannot read submission {submission.id} from the vault ({exc}); "
            "destroy it and open its bundle again"
        ) from None


def _read_text(path: Path, full: bool) -> str:
    with path.open("rb") as handle:
        return decode(handle.read(-1 if full else SHOW_LIMIT))


@main.command()
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
    """Copy a submission's attachments out of the vault, under safe names."""
    vault = _open_vault(vault_path)
    submission = _find(vault, submission_id)
    if strip is None:
        try:
            strip = bool(vault.config().get("strip_metadata", False))
        except VaultError as exc:
            raise click.ClickException(str(exc)) from None
    mat2 = attachments.mat2_path()
    if strip and mat2 is None:
        raise click.ClickException(
            "mat2 is not installed, so metadata cannot be removed and nothing was saved; "
            "install the Debian package mat2, or save with --keep-metadata"
        )
    files = submission.attachments
    out = _console()
    if not files:
        out.print(f"Submission {submission.id} has no attachments; nothing to save.")
        return
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for index, item in enumerate(files):
            source = submission.part_path(item)
            path = attachments.copy_out(source, out_dir, item["name"], index)
            with path.open("rb") as handle:
                head = handle.read(512)
            note = attachments.strip_metadata(path, mat2) if strip and mat2 else ""
            line = Text(f"saved {clean_name(path.name)} ({human_size(int(item['size']))})")
            if item["name"] is not None and path.name != item["name"]:
                line.append(f" from the name {clean_name(item['name'])}")
            if note:
                style = "" if note.startswith("metadata removed") else "red"
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


@main.command()
@click.option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Remember this identity.key as the default for `open`.",
)
@strip_option
@vault_option
def config(key: Path | None, strip: bool | None, vault_path: Path | None) -> None:
    """Show or change the vault's settings (default key, metadata stripping)."""
    vault = _open_vault(vault_path)
    changes: dict[str, object] = {}
    if key is not None:
        changes["identity"] = str(key.resolve())
    if strip is not None:
        changes["strip_metadata"] = strip
    try:
        settings = vault.set_config(**changes) if changes else vault.config()
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    out = _console()
    out.print(f"vault:          {vault.root}")
    out.print(f"identity:       {settings.get('identity', '(none; pass --key to open)')}")
    out.print(f"strip metadata: {'yes' if settings.get('strip_metadata') else 'no'}")
    if settings.get("strip_metadata") and attachments.mat2_path() is None:
        out.print("mat2 is not installed: `save` will refuse until it is (sudo apt install mat2)")


@main.command()
@click.argument("submission_ids", metavar="ID...", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Destroy every submission in the vault.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@vault_option
def destroy(
    submission_ids: tuple[str, ...], everything: bool, yes: bool, vault_path: Path | None
) -> None:
    """Delete submissions from the vault (see docs/REVIEWER.md on what deleting can't erase)."""
    vault = _open_vault(vault_path)
    if everything:
        ids = vault.ids()
    elif submission_ids:
        ids = [_find(vault, prefix).id for prefix in submission_ids]
    else:
        raise click.ClickException("name the submissions to destroy, or pass --all")
    if not ids:
        _console().print("The vault is empty; nothing to destroy.")
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
    _console().print(f"destroyed {len(ids)} submission(s){destroy_replies(vault, everything)}")


from .reply_cli import destroy_replies, export_replies, reply  # noqa: E402  (uses the above)

main.add_command(reply)
main.add_command(export_replies)

from .team_cli import handover, team  # noqa: E402  (uses the above)

main.add_command(team)
main.add_command(handover)
