"""``keygen`` and ``fingerprint``: a reviewer's identity."""

from __future__ import annotations

import os
from pathlib import Path

import click

from crypto import Identity, PublicKey, SealdropError
from crypto.team import Member

from .cli_common import passphrase_file_option
from .passphrase import read_passphrase

IDENTITY_FILE = "identity.key"
PUBLIC_FILE = "public.key"


@click.command()
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
        + (f"member: {card.label}\n" if name else ""),
        0o644,
    )
    click.echo(f"private key: {identity_path}  (keep it offline, with a backup)")
    click.echo(f"public key:  {public_path}  (give this to the admin)")
    click.echo(f"key fingerprint (the admin compares it):  {pk.fingerprint}")
    click.echo(f"team fingerprint (colleagues compare it): {card.fingerprint}")


@click.command()
@click.argument("key_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def fingerprint(key_file: Path) -> None:
    """Print the fingerprint of a public key file (or of an identity file's public key)."""
    try:
        pk = PublicKey.from_file(key_file)
    except (SealdropError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{key_file}: {exc}") from None
    click.echo(pk.fingerprint)
    click.echo(
        "(the key fingerprint, lower case with spaces: the admin compares it with `recipient "
        "key:`; colleagues compare the TEAM-FINGERPRINT, upper case with dashes, of `team card`)",
        err=True,
    )


def _write_new(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
