"""``sealdrop-verify ONION_URL --key ORG_SIGNING_KEY``: does the service serve what its
organisation signed? One line per check; exit status 0 when everything matches, 1 when
something served differs from the statement, 3 when something could not be fetched.

Made to run from cron on a machine outside the organisation, through Tor's SOCKS port.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from crypto import SealdropError
from crypto.signing import SigningPublicKey

from .checks import ERROR, FAIL, OK, Verifier

EXIT_MISMATCH, EXIT_UNREACHABLE = 1, 3


def _key(value: str) -> SigningPublicKey:
    try:
        path = Path(value)
        text = path.read_text(encoding="utf-8") if path.is_file() else value
        return SigningPublicKey.from_text(text)
    except (OSError, UnicodeDecodeError, SealdropError) as exc:
        raise click.BadParameter(str(exc)) from None


def _proxy(value: str) -> tuple[str, int] | None:
    if value == "none":
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter("give HOST:PORT of Tor's SOCKS port, e.g. 127.0.0.1:9050")
    return host.strip("[]"), int(port)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("url", metavar="ONION_URL")
@click.option(
    "--key",
    required=True,
    help="The organisation's signing key: its sdsig1... line, or a file holding it.",
)
@click.option(
    "--socks",
    default="127.0.0.1:9050",
    show_default=True,
    help="Tor's SOCKS port. 'none' connects directly (not allowed for .onion addresses).",
)
@click.option("--timeout", default=120.0, show_default=True, help="Seconds per request.")
@click.option(
    "--rate",
    default=8.0,
    show_default=True,
    help="Requests a second at most (posts: 18 a minute), within what the service lets one "
    "Tor circuit ask; 0 for no limit (a service without per-circuit limits).",
)
@click.option("--quiet", is_flag=True, help="Print only the lines that are not ok.")
def main(url: str, key: str, socks: str, timeout: float, rate: float, quiet: bool) -> None:
    """Check that ONION_URL serves exactly what its organisation signed: the statement at
    /.well-known/sealdrop-deployment, the pages' scripts and styles, the reviewers' keys and
    their weekly keys."""
    signing_key = _key(key)
    proxy = _proxy(socks)
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise click.BadParameter("give the service's address, e.g. http://abc...xyz.onion/")
    if proxy is None and parts.hostname.endswith(".onion"):
        raise click.BadParameter("an onion address is reached through Tor: give --socks")
    verifier = Verifier(parts.hostname, parts.port or 80, signing_key, proxy, timeout, rate)
    statuses = set()
    for line in verifier.run():
        statuses.add(line.status)
        if not (quiet and line.status == OK):
            click.echo(str(line))
    if FAIL in statuses:
        click.echo(
            "the service does NOT serve what was signed (or its weekly keys run out): each "
            "FAIL line says what differs and what to do",
            err=True,
        )
        sys.exit(EXIT_MISMATCH)
    if ERROR in statuses:
        click.echo("some checks could not be made; run again later", err=True)
        sys.exit(EXIT_UNREACHABLE)
    if not quiet:
        click.echo("everything served matches the signed statement")


if __name__ == "__main__":
    main()
