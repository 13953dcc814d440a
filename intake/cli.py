"""``sealdrop-intake``: prepare the data directory, serve for development, export, purge."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .check import command as check_command
from .config import ConfigError
from .replies import import_command as import_replies_command
from .status import command as status_command

DEV_HOST = "127.0.0.1"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """sealdrop's intake server. Configured by SEALDROP_* environment variables
    (see docs/UPLOAD.md)."""


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


@main.command()
def init() -> None:
    """Create the data directory (mode 0700) and bring the database up to date."""
    from .setup import init_data_dir

    try:
        settings = init_data_dir()
    except ConfigError as exc:
        _fail(exc)
    click.echo(f"data directory ready: {settings.data_dir}")
    for key in settings.recipients:
        click.echo(f"recipient key: {key.fingerprint}")


@main.command()
@click.option("--port", default=5000, show_default=True, help="Port on 127.0.0.1.")
def run(port: int) -> None:
    """Serve on 127.0.0.1 for development (no request log). Use gunicorn in production."""
    from . import create_app
    from .serve import serve

    try:
        app = create_app()
    except ConfigError as exc:
        _fail(exc)
    click.echo(f"serving on http://{DEV_HOST}:{port}/ (development server, no request log)")
    serve(app, DEV_HOST, port)


@main.command()
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle file to write (must not exist).",
)
@click.option(
    "--again",
    "since",
    metavar="SINCE",
    help="Repeat what was exported since SINCE (a date such as 2026-11-20, or 7d for seven "
    "days ago) and some reviewer has not yet confirmed opening.",
)
def export(out_path: Path, since: str | None) -> None:
    """Write every submission and staff event not yet exported into one bundle, then mark
    them exported. One bundle serves every reviewer: copy the file to each machine."""
    from .export import ExportError, export_bundle

    again = _since(since) if since is not None else None
    report: dict[str, int] = {}
    try:
        ids = export_bundle(None, out_path, again_since=again, report=report)
    except (ConfigError, ExportError) as exc:
        _fail(exc)
    verb = "exported again" if since is not None else "exported"
    click.echo(
        f"{verb} {len(ids)} submission(s) and {report.get('events', 0)} staff event(s) "
        f"to {out_path}"
    )


def _since(text: str) -> int:
    import calendar
    import re
    import time

    from .db import this_hour

    text = text.strip()
    days = re.fullmatch(r"(\d{1,4})d", text)
    if days:
        return this_hour() - int(days.group(1)) * 86400
    for pattern in ("%Y-%m-%d", "%Y-%m-%dT%H:00Z"):
        try:
            return calendar.timegm(time.strptime(text, pattern))
        except ValueError:
            continue
    raise click.BadParameter(
        f"{text!r} is not a date such as 2026-11-20 or a number of days such as 7d",
        param_hint="--again",
    )


@main.command()
@click.option("--older-than-days", type=click.IntRange(min=0), help="Exported this long ago.")
@click.option("--all-exported", is_flag=True, help="Every exported submission.")
@click.option(
    "--unconfirmed-too",
    is_flag=True,
    help="Also what a reviewer has not confirmed opening (normally kept; see `status`).",
)
def purge(older_than_days: int | None, all_exported: bool, unconfirmed_too: bool) -> None:
    """Delete the ciphertext of exported submissions from the server (with a team: only
    what every reviewer has confirmed opening)."""
    from .export import purge as purge_exported

    if all_exported == (older_than_days is not None):
        raise click.UsageError("give exactly one of --older-than-days N or --all-exported")
    try:
        ids = purge_exported(
            None,
            older_than_days=older_than_days,
            all_exported=all_exported,
            unconfirmed_too=unconfirmed_too,
        )
    except ConfigError as exc:
        _fail(exc)
    click.echo(f"deleted {len(ids)} exported submission(s)")


@main.command()
def cleanup() -> None:
    """Delete expired uploads, stale temporary files and orphaned ciphertext."""
    from .config import load
    from .db import make_engine
    from .replies import cleanup_replies
    from .storage import Store
    from .team import cleanup_events

    try:
        settings = load()
    except ConfigError as exc:
        _fail(exc)
    store = Store(settings, make_engine(settings.database_url))
    counts = store.cleanup()
    counts.update(cleanup_replies(None))  # replies past SEALDROP_REPLY_TTL_DAYS, orphans
    counts.update(cleanup_events(store))  # staff event files a crash left without a row
    click.echo(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items()))


main.add_command(check_command)
main.add_command(import_replies_command)
main.add_command(status_command)

if __name__ == "__main__":
    sys.exit(main())
