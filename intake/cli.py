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
def export(out_path: Path) -> None:
    """Write every submission not yet exported into one bundle, then mark them exported."""
    from .export import ExportError, export_bundle

    try:
        ids = export_bundle(None, out_path)
    except (ConfigError, ExportError) as exc:
        _fail(exc)
    click.echo(f"exported {len(ids)} submission(s) to {out_path}")


@main.command()
@click.option("--older-than-days", type=click.IntRange(min=0), help="Exported this long ago.")
@click.option("--all-exported", is_flag=True, help="Every exported submission.")
def purge(older_than_days: int | None, all_exported: bool) -> None:
    """Delete the ciphertext of exported submissions from the server."""
    from .export import purge as purge_exported

    if all_exported == (older_than_days is not None):
        raise click.UsageError("give exactly one of --older-than-days N or --all-exported")
    try:
        ids = purge_exported(None, older_than_days=older_than_days, all_exported=all_exported)
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

    try:
        settings = load()
    except ConfigError as exc:
        _fail(exc)
    counts = Store(settings, make_engine(settings.database_url)).cleanup()
    counts.update(cleanup_replies(None))  # replies past SEALDROP_REPLY_TTL_DAYS, orphans
    click.echo(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items()))


main.add_command(check_command)
main.add_command(import_replies_command)
main.add_command(status_command)

if __name__ == "__main__":
    sys.exit(main())
