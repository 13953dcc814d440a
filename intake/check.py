"""`sealdrop-intake check`: is this deployment safe to run? Each finding is one plain sentence.

    findings = run_checks()   # SEALDROP_*, /etc/sealdrop/gunicorn.conf.py, /etc/tor/torrc,
                              # /etc/nginx/nginx.conf (and what it includes)
    problems = [f for f in findings if not f.ok]

It checks the reviewers' keys, the data directory's owner and modes, the database schema, the
storage budget, and the gunicorn, nginx and Tor settings that would leak (an access log, a
public bind, Tor ports other than the onion service, a request body spooled to disk) or let one
client starve the others (no limits per Tor circuit). It reads files; it changes nothing.
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import runpy
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import check_nginx, epochs, mailboxsalt
from . import config as config_module
from .check_nginx import NGINX_CONFIG, NginxConfigError
from .config import ConfigError, Settings

GUNICORN_CONFIG = Path("/etc/sealdrop/gunicorn.conf.py")
TORRC = Path("/etc/tor/torrc")
# Debian's tor service reads this first; /etc/tor/torrc overrides it option by option.
TOR_DEFAULTS = Path("/usr/share/tor/tor-service-defaults-torrc")
SERVICE_USER = "sealdrop"
BUDGET_WARN_FRACTION = 0.9


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'PROBLEM'}: {self.message}"


def _ok(message: str) -> Finding:
    return Finding(True, message)


def _problem(message: str) -> Finding:
    return Finding(False, message)


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
        findings.append(_problem(f"the settings cannot be used: {exc}"))
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


# --- keys and data ------------------------------------------------------------------------


def check_recipients(settings: Settings) -> list[Finding]:
    findings = []
    for path, key in zip(settings.recipient_files, settings.recipients, strict=True):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "secret-key" in text:
            findings.append(
                _problem(
                    f"{path} contains a private key: remove it from the server now and treat "
                    "that key as compromised (only the .pub file belongs here)"
                )
            )
        mode = path.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            findings.append(
                _problem(
                    f"others can change the reviewer key {path}: run `chmod 644 {path}` "
                    "(whoever replaces it can read every new submission)"
                )
            )
        note = (
            ""
            if "signing-key:" in text
            else " (no signing-key line: in a team, give the server their member card so "
            "their confirmations can be checked)"
        )
        findings.append(
            _ok(f"reviewer key {path.name} is valid, fingerprint {key.fingerprint}{note}")
        )
    findings += [_problem(warning) for warning in epochs.warnings(settings, lapses_only=True)]
    return findings


def check_team(
    team_file: Path, config: Mapping[str, Any] | Settings | None = None
) -> list[Finding]:
    """Compares the reviewers' team file with SEALDROP_RECIPIENTS: every member must be a
    recipient (or their copy of new submissions is missing) and every recipient a member (or
    someone outside the team reads everything)."""
    from crypto.team import InvalidMemberCard, read_team_file

    try:
        members = read_team_file(team_file.read_text(encoding="utf-8"))
        settings = config_module.load(config)
    except (OSError, UnicodeDecodeError, InvalidMemberCard, ConfigError) as exc:
        return [_problem(f"the team file {team_file} cannot be compared: {exc}")]
    team = {m.public_key.key_id_hex: m.label for m in members}
    recipients = {key.key_id_hex for key in settings.recipients}
    findings = [
        _problem(
            f"team member {label!r} (key {key_id}) is not in SEALDROP_RECIPIENTS: new "
            "submissions are not sealed to them; add their public key file"
        )
        for key_id, label in sorted(team.items())
        if key_id not in recipients
    ]
    findings += [
        _problem(
            f"recipient key {key_id} is not in the team file: whoever holds it reads every "
            "submission but is not on the team; remove it or have the team add them"
        )
        for key_id in sorted(recipients - set(team))
    ]
    if not findings:
        findings.append(_ok(f"the {len(team)} team members are exactly the recipients"))
    return findings


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
            _problem(
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
            findings.append(
                _problem(f"{path} does not exist: run `sealdrop-intake init` as {name}")
            )
            continue
        if info.st_uid != uid:
            findings.append(
                _problem(f"{path} is not owned by {name}: run `chown -R {name}: {path}`")
            )
        # Files inside are private through their 0700 directories; the directories must be.
        if stat.S_ISDIR(info.st_mode) and info.st_mode & 0o077:
            findings.append(
                _problem(
                    f"{path} can be read by other users (mode {stat.S_IMODE(info.st_mode):o}): "
                    f"run `chmod 700 {path}`"
                )
            )
    if not findings:
        findings.append(_ok(f"data directory {settings.data_dir} is private to {name}"))
    return findings


def check_mailbox_salt(settings: Settings) -> list[Finding]:
    try:
        mailboxsalt.load(settings.data_dir)
    except ConfigError as exc:
        return [_problem(str(exc))]
    return [_ok("the mailbox salt is in place (never change it: docs/ADMIN.md, section 8)")]


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
        return [_problem(f"cannot open the database ({type(exc.orig or exc).__name__})")]
    finally:
        engine.dispose()
    if current == head:
        return [_ok(f"database schema is up to date (revision {head})")]
    if current is None:
        return [_problem("the database has no sealdrop tables: run `sealdrop-intake init`")]
    return [
        _problem(
            f"the database schema is at revision {current}, this version needs {head}: "
            "run `sealdrop-intake init` to migrate it"
        )
    ]


def check_storage(settings: Settings) -> list[Finding]:
    usage = shutil.disk_usage(settings.data_dir) if settings.data_dir.exists() else None
    budget = settings.storage_budget_bytes
    if budget is None:
        return [
            _problem(
                "no storage budget: anyone can fill the disk with submissions; set "
                "SEALDROP_STORAGE_BUDGET_BYTES"
            )
        ]
    used = _used_bytes(settings)
    findings = []
    if usage is not None and budget > usage.free + used:
        findings.append(
            _problem(
                f"the storage budget ({_gib(budget)}) is larger than the disk space left "
                f"({_gib(usage.free)} free): lower SEALDROP_STORAGE_BUDGET_BYTES"
            )
        )
    if used >= BUDGET_WARN_FRACTION * budget:
        findings.append(
            _problem(
                f"storage is {used / budget:.0%} full ({_gib(used)} of {_gib(budget)}): "
                "export and purge, or raise the budget"
            )
        )
    if not findings:
        findings.append(_ok(f"storage: {_gib(used)} used of a {_gib(budget)} budget"))
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
                _problem(
                    f"swap on {device} is not encrypted: memory holding submissions could be "
                    "written to disk; turn it off or encrypt it (docs/ADMIN.md)"
                )
            )
    return findings or [_ok("no unencrypted swap")]


# --- gunicorn -----------------------------------------------------------------------------


def load_gunicorn_settings(path: Path) -> dict[str, Any]:
    """The settings gunicorn would use with ``--config path`` (its defaults, then the file)."""
    from gunicorn.config import Config

    cfg = Config()
    namespace = runpy.run_path(str(path))
    for name, value in namespace.items():
        if name in cfg.settings:
            cfg.set(name, value)
    return {name: setting.get() for name, setting in cfg.settings.items()}


def check_gunicorn(path: Path) -> tuple[dict[str, Any], list[Finding]]:
    try:
        settings = load_gunicorn_settings(path)
    except FileNotFoundError:
        return {}, [
            _problem(f"no gunicorn configuration at {path}: install deploy/gunicorn.conf.py")
        ]
    except (Exception, SystemExit) as exc:  # the file is Python: any error, in one sentence
        return {}, [_problem(f"the gunicorn configuration {path} does not load: {exc}")]
    findings = []
    if settings["accesslog"]:
        findings.append(
            _problem(
                f"gunicorn writes an access log ({settings['accesslog']}): set accesslog = None"
            )
        )
    if settings["syslog"] and not settings["disable_redirect_access_to_syslog"]:
        findings.append(_problem("gunicorn sends an access log to syslog: set syslog = False"))
    if settings["loglevel"].lower() in ("debug", "info"):
        findings.append(
            _problem(f"gunicorn logs at {settings['loglevel']} level: set loglevel = 'warning'")
        )
    for address in settings["bind"]:
        if not _loopback_bind(address):
            findings.append(
                _problem(
                    f"gunicorn listens on {address}, reachable without Tor: bind 127.0.0.1 only"
                )
            )
    if "sync" in str(settings["worker_class"]).lower():
        findings.append(
            _problem("gunicorn uses sync workers: one slow Tor upload blocks a worker; use gthread")
        )
    if settings["reload"]:
        findings.append(_problem("gunicorn reloads code on change (development only): remove it"))
    if not settings["control_socket_disable"]:
        findings.append(
            _problem("gunicorn opens a control socket: set control_socket_disable = True")
        )
    if not findings:
        findings.append(_ok(f"gunicorn ({path}): no access log, listens on loopback only"))
    return settings, findings


def _loopback_bind(address: str) -> bool:
    if address.startswith("unix:") or address.startswith("fd://"):
        return True
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return _is_loopback(host.strip("[]"))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
            _problem(
                f"no nginx configuration at {path}: install nginx and deploy/nginx "
                '(docs/ADMIN.md, "nginx")'
            )
        ], []
    except (OSError, UnicodeDecodeError, NginxConfigError) as exc:
        return [_problem(f"cannot read nginx's configuration {path}: {exc}")], []
    findings = [_problem(message) for message in found.problems]
    if settings is not None:
        findings += _nginx_body_limits(found.body_limits, settings)
    sockets = {b for b in gunicorn_bind if b.startswith("unix:")}
    if sockets and found.upstream_sockets and not sockets & set(found.upstream_sockets):
        findings.append(
            _problem(
                f"nginx passes requests to {', '.join(found.upstream_sockets)} but gunicorn "
                f"listens on {', '.join(gunicorn_bind)}"
            )
        )
    if not findings:
        findings.append(
            _ok(f"nginx ({path}): no access log, bodies never on disk, limits per Tor circuit")
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
                _problem(
                    f"nginx refuses bodies over {allowed} bytes in location {where}, less than "
                    f"{what} ({needed}): raise client_max_body_size there"
                )
            )
    return findings


# --- tor ----------------------------------------------------------------------------------


def read_torrc(text: str) -> list[tuple[str, str]]:
    """(keyword in lower case, value) for each option line, in order, as tor reads them:
    `#` comments, backslash line continuations, keywords case-insensitive."""
    options = []
    logical = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip() if not logical else raw.rstrip()
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        line, logical = (logical + line).strip(), ""
        if line:
            keyword, _, value = line.partition(" ")
            options.append((keyword.lower(), value.strip()))
    return options


def effective_torrc(torrc: str, defaults: str = "") -> list[tuple[str, str]]:
    """Options from the defaults file that torrc does not set, then torrc's options."""
    own = read_torrc(torrc)
    mentioned = {keyword for keyword, _ in own}
    return [o for o in read_torrc(defaults) if o[0] not in mentioned] + own


_PORTS = {
    "socksport": ("SocksPort", "a SOCKS port (a Tor client for anyone who can reach it)"),
    "transport": ("TransPort", "a transparent proxy port"),
    "natdport": ("NATDPort", "a NATD port"),
    "dnsport": ("DNSPort", "a DNS port"),
    "httptunnelport": ("HTTPTunnelPort", "an HTTP tunnel port"),
    "orport": ("ORPort", "a relay port, which publishes this server's IP address"),
    "dirport": ("DirPort", "a directory port, which publishes this server's IP address"),
    "extorport": ("ExtORPort", "an extended OR port"),
    "metricsport": ("MetricsPort", "a metrics port"),
}
_DANGEROUS_FLAGS = {
    "hiddenservicesinglehopmode": "HiddenServiceSingleHopMode makes the onion service reveal "
    "this server's location",
    "hiddenservicenonanonymousmode": "HiddenServiceNonAnonymousMode makes the onion service "
    "reveal this server's location",
    "bridgerelay": "BridgeRelay turns this tor into a bridge, which publishes its IP address",
    "exitrelay": "ExitRelay turns this tor into an exit relay",
}


def check_tor(
    torrc: Path, defaults: Path | None = TOR_DEFAULTS, targets: list[str] | None = None
) -> list[Finding]:
    """``targets``: where the onion service must forward (nginx's PROXY-protocol listeners)."""
    try:
        text = torrc.read_text(encoding="utf-8")
    except OSError as exc:
        return [_problem(f"cannot read the Tor configuration {torrc}: {exc.strerror}")]
    default_text = defaults.read_text(encoding="utf-8") if defaults and defaults.exists() else ""
    options = effective_torrc(text, default_text)
    findings = []
    for keyword, value in options:
        if keyword in _PORTS and not _port_off(value):
            name, what = _PORTS[keyword]
            findings.append(
                _problem(f"Tor opens {what} ({name} {value}): add `{name} 0` to {torrc}")
            )
        if keyword == "controlport" and not _port_off(value) and not _loopback_port(value):
            findings.append(_problem(f"Tor's control port {value} is not on loopback: remove it"))
        if keyword in _DANGEROUS_FLAGS and value.strip() not in ("0", "auto"):
            findings.append(_problem(f"{_DANGEROUS_FLAGS[keyword]}: remove it from {torrc}"))
        if keyword == "safelogging" and value.strip().lower() != "1":
            findings.append(_problem("Tor's SafeLogging is off: set `SafeLogging 1`"))
        if keyword == "log" and value.split()[0].lower() in ("debug", "info"):
            findings.append(_problem(f"Tor logs at {value.split()[0]} level: use `Log notice`"))
    findings += _check_onion_services(options, torrc, targets or [])
    if not any(not f.ok for f in findings):
        findings.append(_ok(f"Tor ({torrc}): one onion service and no other ports"))
    return findings


def _port_off(value: str) -> bool:
    return value.split()[0] in ("0", "") if value.split() else True


def _loopback_port(value: str) -> bool:
    address = value.split()[0]
    if address.startswith("unix:") or address.isdigit() or address == "auto":
        return True  # a bare port number is bound on 127.0.0.1
    return _loopback_bind(address)


def _endpoint(address: str) -> str:
    """What must match between tor's target and gunicorn's bind: a socket path or a port."""
    return address.removeprefix("unix:") if address.startswith("unix:") else address.rsplit(":")[-1]


def _check_onion_services(
    options: list[tuple[str, str]], torrc: Path, listeners: list[str]
) -> list[Finding]:
    services: list[dict[str, list[str]]] = []
    for keyword, value in options:
        if keyword == "hiddenservicedir":
            services.append({})
        elif keyword.startswith("hiddenservice") and services:
            services[-1].setdefault(keyword, []).append(value)
    if not services:
        return [_problem(f"{torrc} defines no onion service (HiddenServiceDir)")]
    findings = []
    targets = {_endpoint(b) for b in listeners}
    for service in services:
        if service.get("hiddenserviceversion", ["3"])[-1] != "3":
            findings.append(
                _problem("the onion service is not version 3: set HiddenServiceVersion 3")
            )
        if service.get("hiddenservicepowdefensesenabled", ["0"])[-1] != "1":
            findings.append(
                _problem(
                    "Tor's proof-of-work defence is off: add `HiddenServicePoWDefensesEnabled 1`"
                )
            )
        for port_line in service.get("hiddenserviceport", []):
            virtual, _, target = port_line.partition(" ")
            target = target.strip() or f"127.0.0.1:{virtual}"
            if target.isdigit():
                target = f"127.0.0.1:{target}"
            if not (target.startswith("unix:") or _loopback_bind(target)):
                findings.append(
                    _problem(f"the onion service forwards to {target}, which is not on loopback")
                )
            elif targets and _endpoint(target) not in targets:
                findings.append(
                    _problem(
                        f"the onion service forwards to {target} but nginx's listener for tor "
                        f"is {', '.join(listeners)}"
                    )
                )
        if service.get("hiddenserviceexportcircuitid", [""])[-1].lower() != "haproxy":
            findings.append(
                _problem(
                    "Tor does not tell nginx the circuit of each connection, so nothing can be "
                    "limited per circuit: add `HiddenServiceExportCircuitID haproxy`"
                )
            )
        if "hiddenserviceport" not in service:
            findings.append(_problem("the onion service has no HiddenServicePort"))
    return findings


# --- the browser code -----------------------------------------------------------------------


def check_assets(manifest: Path | None = None, static: Path | None = None) -> list[Finding]:
    """The served scripts and styles are byte for byte the ones the release built."""
    from . import assets

    try:
        expected = assets.load_manifest(manifest or assets.MANIFEST)
    except assets.ManifestError as exc:
        return [_problem(str(exc))]
    found = assets.differences(expected, static or assets.STATIC_DIR)
    if found:
        return [
            _problem(f"{line}; reinstall the release wheel (docs/ADMIN.md, Upgrade)")
            for line in found
        ]
    return [_ok(f"the {len(expected)} browser files match the release's recorded hashes")]


def check_statement(settings: Settings) -> list[Finding]:
    """The installed deployment statement names what this server serves (its signature is for
    sealdrop-verify to check, with the organisation's key; the server does not have it)."""
    from crypto import SealdropError
    from crypto.deployment import Statement

    from . import assets
    from .deployment import FILE_NAME

    path = settings.data_dir / FILE_NAME
    if not path.is_file():
        return [_ok("no deployment statement installed (optional: docs/ADMIN.md, section 12)")]
    try:
        statement = Statement.unverified(path.read_bytes())
        served = assets.load_manifest()
    except (OSError, SealdropError, assets.ManifestError) as exc:
        return [_problem(f"the deployment statement {path} cannot be read: {exc}")]
    signed = dict(statement.assets)
    messages = [
        f"the deployment statement does not match static/{name}"
        for name, digest in sorted(served.items())
        if not name.endswith(".gz") and signed.get(name) != digest
    ]
    messages += [
        f"the deployment statement names static/{name}, which is not served"
        for name in sorted(set(signed) - set(served))
    ]
    if {key.fingerprint for key in settings.recipients} != set(statement.recipients):
        messages.append("the deployment statement names other reviewer keys than the server's")
    messages += _statement_signing_keys(settings, statement)
    fix = "have a new statement signed (docs/ADMIN.md, section 12)"
    if messages:
        return [_problem(f"{message}; {fix}") for message in messages]
    return [_ok(f"the deployment statement names these files and keys ({statement.onion})")]


def _statement_signing_keys(settings: Settings, statement: object) -> list[str]:
    """A reviewer whose weekly keys the server serves must have the signing key of their card
    vouched for by the statement (FORMAT.md §7 version 2), or sealdrop-verify fails."""
    from . import epochs

    vouched = dict(statement.signing_keys)  # type: ignore[attr-defined]
    messages = []
    for key, path in zip(settings.recipients, settings.recipient_files, strict=True):
        card = epochs.signing_key_of(path)
        signed = vouched.get(key.fingerprint)
        if card is not None and signed is not None and card.line != signed:
            messages.append(
                f"the deployment statement vouches for another signing key of reviewer "
                f"{key.key_id_hex} than their card on this server"
            )
        elif card is not None and signed is None:
            messages.append(
                f"the deployment statement vouches for no signing key of reviewer "
                f"{key.key_id_hex}, whose weekly keys this server serves"
            )
    return messages


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
