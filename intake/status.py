"""`sealdrop-intake status`: what is waiting on the server, in counts and hours, nothing more.

For the admin deciding when to export, purge or carry replies; it reads the metadata database
only (ids, sizes, hours), never a blob.
"""

from __future__ import annotations

import time

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .config import ConfigError, load
from .db import Submission, make_engine
from .i18n import human_size
from .replies import Reply
from .storage import Store
from .team import status as team_status


def _hour(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:00 UTC", time.gmtime(epoch)) if epoch else "-"


@click.command("status")
def command() -> None:
    """Show what is waiting: submissions to export, exported ones to purge, replies, staff
    events, and per reviewer what they have not yet confirmed opening (repeat it for them
    with `export --again`)."""
    try:
        settings = load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    store = Store(settings, engine)
    try:
        team = team_status(store)
        ledger = store.ledger()
        with Session(engine) as session:
            waiting = session.execute(
                select(func.count(), func.coalesce(func.sum(Submission.size), 0))
                .add_columns(func.min(Submission.received_hour))
                .where(Submission.exported_hour.is_(None))
            ).one()
            exported = session.execute(
                select(func.count(), func.coalesce(func.sum(Submission.size), 0))
                .add_columns(func.max(Submission.exported_hour))
                .where(Submission.exported_hour.is_not(None))
            ).one()
            replies = session.execute(select(func.count(), func.min(Reply.expires_hour))).one()
    finally:
        engine.dispose()
    click.echo(
        f"to export: {waiting[0]} submission(s), {human_size(int(waiting[1]), 'en')}, "
        f"the oldest received {_hour(waiting[2])}"
    )
    click.echo(
        f"exported, not purged: {exported[0]} submission(s), {human_size(int(exported[1]), 'en')}, "
        f"last exported {_hour(exported[2])}"
    )
    click.echo(f"replies waiting to be read: {replies[0]}, the next expires {_hour(replies[1])}")
    held = ledger.unfinished_large + ledger.unfinished_small
    click.echo(
        f"uploads in progress: {ledger.unfinished_count}, holding {human_size(held, 'en')} "
        "(starts that sent nothing hold nothing and are not counted)"
    )
    budget = settings.storage_budget_bytes
    used = human_size(ledger.stored + held, "en")
    click.echo(
        f"storage used: {used}"
        + (f" of the {human_size(budget, 'en')} budget" if budget is not None else " (no budget)")
    )
    click.echo(f"staff events not yet exported: {team.events_new}")
    for key in settings.recipients:
        subs, events = team.pending[key.key_id_hex]
        state = (
            f"has not confirmed {subs} submission(s) and {events} staff event(s)"
            if subs + events
            else "has confirmed everything exported"
        )
        click.echo(f"reviewer {key.key_id_hex} ({key.fingerprint[:19]}): {state}")
    if any(sum(counts) for counts in team.pending.values()):
        click.echo(
            "purge keeps what is not confirmed; copy `sealdrop-intake export --again 7d "
            "--out FILE` to the reviewers who are behind"
        )
