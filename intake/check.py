"""`sealdrop-intake check`: is this deployment safe to run? Each finding is one plain sentence.

    findings = run_checks()   # SEALDROP_*, /etc/sealdrop/gunicorn.conf.py, /etc/tor/torrc,
                              # /etc/nginx/nginx.conf (and what it includes)
    problems = [f for f in findings if not f.ok]

It checks the reviewers' keys (check_keys.py), the data directory's owner and modes, the
database schema, the storage budget, and the gunicorn (check_gunicorn.py), nginx (here, with
check_nginx.py) and Tor (check_tor.py) settings that would leak (an access log, a
public bind, Tor ports other than the onion service, a request body spooled to disk) or let one
client starve the others (no limits per Tor circuit). It reads files; it changes nothing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from . import check_nginx, mailboxsalt
from . import config as config_module
from .check_gunicorn import GUNICORN_CONFIG, check_gunicorn
from .check_keys import check_assets, check_recipients, check_statement, check_team
from .check_nginx import NGINX_CONFIG, NginxConfigError
from .check_tor import TOR_DEFAULTS, TORRC, check_tor
from .config import ConfigError, Settings
from .findings import Finding, ok, problem

SERVICE_USER = "sealdrop"
BUDGET_WARN_FRACTION = 0.9


def run_checks(
    config: Mapping[str, Any] | Settings | None = None,
    *,
    gunicorn_config: Path = GUNICORN_CONFIG,
    torrc: Path = TORRC,
    tor_defaults: Path | None = TOR_DEFAULTS,
    owner: str | None = None,
    swaps: Path = Path("/proc/swaps"),
    nginx_config: Path = NGINX_CONFIG,
) -> list[Finding]:
    """Every finding, good and bad. ``config`` as for create_app (None: SEALDROP_*);
    ``owner``: who must own the data directory (default: the user running this, or
    ``sealdrop`` when run as root)."""
    findings: list[Finding] = []
    try:
        settings = config_module.load(config)
    except ConfigError as exc:
        findings.append(problem(f"the settings cannot be used: {exc}"))
        settings = None
    if settings is not None:
        findings += check_recipients(settings)
        findings += check_data_dir(settings, owner)
        if settings.data_dir.is_dir():
            findings += check_database(settings)
            findings += check_mailbox_salt(settings)
            findings += check_storage(settings)
            findings += check_statement(settings)
    findings += check_swap(swaps)
    findings += check_assets()
    gunicorn_settings, gunicorn_findings = check_gunicorn(gunicorn_config)
    findings += gunicorn_findings
    bind = gunicorn_settings.get("bind", [])
    nginx_findings, tor_targets = check_nginx_config(nginx_config, bind, settings)
    findings += nginx_findings
    findings += check_tor(torrc, tor_defaults, tor_targets)
    return findings


# --- data ---------------------------------------------------------------------------------


def _expected_owner(owner: str | None) -> tuple[int, str]:
    if owner is None:
        if os.geteuid() != 0:
            return os.geteuid(), pwd.getpwuid(os.geteuid()).pw_name
        owner = SERVICE_USER
    try:
        return pwd.getpwnam(owner).pw_uid, owner
    except KeyError:
        return -1, owner


def check_data_dir(settings: Settings, owner: str | None = None) -> list[Finding]:
    uid, name = _expected_owner(owner)
    if not settings.data_dir.is_dir():
        return [
            problem(
                f"the data directory {settings.data_dir} does not exist: "
                f"run `sealdrop-intake init` as {name}"
            )
        ]
    findings = []
    paths = [settings.data_dir, settings.blob_dir, settings.upload_dir, settings.tmp_dir]
    database = _sqlite_path(settings)
    if database is not None and database.exists():
        paths.append(database)
    for path in paths:
        try:
            info = path.stat()
        except FileNotFoundError:
            findings.append(problem(f"{path} does not exist: run `sealdrop-intake init` as {name}"))
            continue
        if info.st_uid != uid:
            findings.append(
                problem(f"{path} is not owned by {name}: run `chown -R {name}: {path}`")
            )
        # Files inside are private through their 0700 directories; the directories must be.
        if stat.S_ISDIR(info.st_mode) and info.st_mode & 0o077:
            findings.append(
                problem(
                    f"{path} can be read by other users (mode {stat.S_IMODE(info.st_mode):o}): "
                    f"run `chmod 700 {path}`"
                )
            )
    if not findings:
        findings.append(ok(f"data directory {settings.data_dir} is private to {name}"))
    return findings


def check_mailbox_salt(settings: Settings) -> list[Finding]:
    try:
        mailboxsalt.load(settings.data_dir)
    except ConfigError as exc:
        return [problem(str(exc))]
    return [ok("the mailbox salt is in place (never change it: docs/ADMIN.md, section 8)")]


def _sqlite_path(settings: Settings) -> Path | None:
    prefix = "sqlite:///"
    url = settings.database_url
    return Path(url[len(prefix) :].split("?")[0]) if url.startswith(prefix) else None


def check_database(settings: Settings) -> list[Finding]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    from .db import make_engine
    from .setup import alembic_config

    head = ScriptDirectory.from_config(alembic_config(settings)).get_current_head()
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        return [problem(f"cannot open the database ({type(exc.orig or exc).__name__})")]
    finally:
        engine.dispose()
    if current == head:
        return [ok(f"database schema is up to date (revision {head})")]
    if current is None:
        return [problem("the database has no sealdrop tables: run `sealdrop-intake init`")]
    return [
        problem(
            f"the database schema is at revision {current}, this version needs {head}: "
            "run `sealdrop-intake init` to migrate it"
        )
    ]


def check_storage(settings: Settings) -> list[Finding]:
    usage = shutil.disk_usage(settings.data_dir) if settings.data_dir.exists() else None
    budget = settings.storage_budget_bytes
    if budget is None:
        return [
            problem(
                "no storage budget: anyone can fill the disk with submissions; set "
                "SEALDROP_STORAGE_BUDGET_BYTES"
            )
        ]
    used = _used_bytes(settings)
    findings = []
    if usage is not None and budget > usage.free + used:
        findings.append(
            problem(
                f"the storage budget ({_gib(budget)}) is larger than the disk space left "
                f"({_gib(usage.free)} free): lower SEALDROP_STORAGE_BUDGET_BYTES"
            )
        )
    if used >= BUDGET_WARN_FRACTION * budget:
        findings.append(
            problem(
                f"storage is {used / budget:.0%} full ({_gib(used)} of {_gib(budget)}): "
                "export and purge, or raise the budget"
            )
        )
    if not findings:
        findings.append(ok(f"storage: {_gib(used)} used of a {_gib(budget)} budget"))
    return findings


def _used_bytes(settings: Settings) -> int:
    total = 0
    for directory in (settings.blob_dir, settings.upload_dir):
        if directory.is_dir():
            total += sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
    return total


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB"


def check_swap(
    swaps: Path = Path("/proc/swaps"), sys_block: Path = Path("/sys/block")
) -> list[Finding]:
    """Swap could write memory holding a no-JavaScript submission's plaintext to disk; it
    must be off or encrypted (dm-crypt with a random key)."""
    try:
        lines = swaps.read_text().splitlines()[1:]
    except OSError:
        return []  # not visible here (for example inside the systemd sandbox)
    findings = []
    for line in lines:
        device = line.split()[0]
        name = Path(os.path.realpath(device)).name
        try:
            encrypted = (sys_block / name / "dm" / "uuid").read_text().startswith("CRYPT-")
        except OSError:
            encrypted = False
        if not encrypted:
            findings.append(
                problem(
                    f"swap on {device} is not encrypted: memory holding submissions could be "
                    "written to disk; turn it off or encrypt it (docs/ADMIN.md)"
                )
            )
    return findings or [ok("no unencrypted swap")]


# --- nginx --------------------------------------------------------------------------------


def check_nginx_config(
    path: Path, gunicorn_bind: list[str], settings: Settings | None = None
) -> tuple[list[Finding], list[str]]:
    """Findings on nginx, and the listeners tor must forward to (nginx's PROXY listeners).
    With ``settings``, nginx must let through what the app accepts."""
    try:
        found = check_nginx.inspect(check_nginx.load(path))
    except FileNotFoundError:
        return [
            problem(
                f"no nginx configuration at {path}: install nginx and deploy/nginx "
                '(docs/ADMIN.md, "nginx")'
            )
        ], []
    except (OSError, UnicodeDecodeError, NginxConfigError) as exc:
        return [problem(f"cannot read nginx's configuration {path}: {exc}")], []
    findings = [problem(message) for message in found.problems]
    if settings is not None:
        findings += _nginx_body_limits(found.body_limits, settings)
    sockets = {b for b in gunicorn_bind if b.startswith("unix:")}
    if sockets and found.upstream_sockets and not sockets & set(found.upstream_sockets):
        findings.append(
            problem(
                f"nginx passes requests to {', '.join(found.upstream_sockets)} but gunicorn "
                f"listens on {', '.join(gunicorn_bind)}"
            )
        )
    if not findings:
        findings.append(
            ok(f"nginx ({path}): no access log, bodies never on disk, limits per Tor circuit")
        )
    return findings, found.proxy_listens


def _nginx_body_limits(limits: dict[str, int], settings: Settings) -> list[Finding]:
    """nginx refusing a body the app would take turns people away with nginx's own page."""
    wanted = {
        "= /submit": (settings.max_submission_bytes, "SEALDROP_MAX_SUBMISSION_BYTES"),
        "^~ /api/v1/uploads/": (settings.chunk_bytes, "an upload chunk"),
    }
    findings = []
    for where, (needed, what) in wanted.items():
        allowed = limits.get(where)
        if allowed is not None and allowed != 0 and allowed < needed:
            findings.append(
                problem(
                    f"nginx refuses bodies over {allowed} bytes in location {where}, less than "
                    f"{what} ({needed}): raise client_max_body_size there"
                )
            )
    return findings


# --- command ------------------------------------------------------------------------------


@click.command("check")
@click.option(
    "--gunicorn-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=GUNICORN_CONFIG,
    show_default=True,
)
@click.option(
    "--torrc", type=click.Path(dir_okay=False, path_type=Path), default=TORRC, show_default=True
)
@click.option(
    "--owner",
    metavar="USER",
    help=f"Who must own the data directory (default: you; {SERVICE_USER} when run as root).",
)
@click.option(
    "--nginx-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=NGINX_CONFIG,
    show_default=True,
)
@click.option("--quiet", is_flag=True, help="Print only problems.")
@click.option(
    "--team",
    "team_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A team file (`sealdrop-reviewer team export`): warn if SEALDROP_RECIPIENTS differs.",
)
def command(
    gunicorn_config: Path,
    torrc: Path,
    nginx_config: Path,
    owner: str | None,
    quiet: bool,
    team_file: Path | None,
) -> None:
    """Check this deployment: keys, data directory, database, storage, gunicorn, nginx and
    Tor. Exits with status 1 if anything is wrong."""
    findings = run_checks(
        gunicorn_config=gunicorn_config, torrc=torrc, owner=owner, nginx_config=nginx_config
    )
    if team_file is not None:
        findings += check_team(team_file)
    for finding in findings:
        if not (quiet and finding.ok):
            click.echo(str(finding))
    problems = sum(not f.ok for f in findings)
    if problems:
        raise click.ClickException(f"{problems} problem(s) found")
    if not quiet:
        click.echo("everything checked is fine")
