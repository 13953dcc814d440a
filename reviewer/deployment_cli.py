"""`sealdrop-reviewer signing-keygen` and `sign-deployment`: the organisation's offline signing
key, and the statement the server publishes so that anyone can check what it serves
(docs/ADMIN.md, "The deployment statement"; docs/FORMAT.md, section 7)."""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import json
import os
import zipfile
from pathlib import Path

import click

from crypto import PublicKey, SealdropError
from crypto.deployment import Statement
from crypto.signing import SigningKey
from crypto.team import InvalidMemberCard, read_member_card

from .passphrase import read_passphrase

SIGNING_KEY_FILE = "signing.key"
SIGNING_PUBLIC_FILE = "signing.pub"
MANIFEST_IN_WHEEL = "intake/assets.json"

passphrase_file_option = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the passphrase from the first line of this file instead of asking.",
)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Creates path (never overwrites), and makes its bytes durable before returning."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


@click.command("signing-keygen")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the new signing.key (private) and signing.pub.",
)
@passphrase_file_option
def signing_keygen(out_dir: Path, passphrase_file: Path | None) -> None:
    """Create the organisation's signing key, for deployment statements (once, offline)."""
    private, public = out_dir / SIGNING_KEY_FILE, out_dir / SIGNING_PUBLIC_FILE
    for path in (private, public):
        if path.exists():
            raise click.ClickException(
                f"{path} already exists; choose another --out directory (never overwrite keys)"
            )
    passphrase = read_passphrase(passphrase_file, confirm=True)
    key = SigningKey.generate()
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_new(private, key.to_file_text(passphrase).encode(), 0o600)
    pk = key.public_key
    text = (
        "# sealdrop organisation signing key (public): give it to whoever checks the service\n"
        f"# with sealdrop-verify.\n# fingerprint: {pk.fingerprint}\n{pk.line}\n"
    )
    _write_new(public, text.encode(), 0o644)
    click.echo(f"private key: {private}  (keep it offline, with a backup)")
    click.echo(f"public key:  {public}  (publish it beside the onion address)")
    click.echo(f"key:         {pk.line}")


def _release_assets(source: Path | None, version: str | None) -> tuple[dict[str, str], str]:
    """The served files' hashes and the version, from a release wheel, an assets.json, or the
    sealdrop installed here."""
    try:
        if source is None:
            spec = importlib.util.find_spec("intake")  # finds, does not import (no Flask here)
            if spec is None or not spec.submodule_search_locations:
                raise click.ClickException("sealdrop's intake package is not installed; --assets")
            path = Path(next(iter(spec.submodule_search_locations))) / "assets.json"
            manifest = json.loads(path.read_text(encoding="utf-8"))
            version = version or importlib.metadata.version("sealdrop")
        elif source.suffix == ".whl":
            with zipfile.ZipFile(source) as wheel:
                manifest = json.loads(wheel.read(MANIFEST_IN_WHEEL))
            version = version or source.name.split("-")[1]
        else:
            manifest = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, IndexError) as exc:
        where = source or "the installed sealdrop"
        raise click.ClickException(
            f"cannot read the asset hashes from {where} ({exc}); pass --assets with the release "
            "wheel the server runs"
        ) from None
    if version is None:
        raise click.ClickException("give --version when --assets is an assets.json file")
    assets = manifest.get("assets") if isinstance(manifest, dict) else None
    if not isinstance(assets, dict):
        raise click.ClickException("the asset manifest has no list of assets")
    # The .gz siblings are encodings of the same files: sealdrop-verify checks both.
    return {name: str(digest) for name, digest in assets.items() if not name.endswith(".gz")}, (
        version
    )


def _card_signing_key(path: Path) -> str | None:
    """The signing key line of a member card (it vouches for the reviewer's weekly keys);
    None for a plain public key file, whose reviewer is sealed to with the long-term key."""
    text = path.read_text(encoding="utf-8")
    if "signing-key:" not in text:
        return None
    try:
        return read_member_card(text, label="-", where=str(path)).signing_key.line
    except InvalidMemberCard as exc:
        raise click.ClickException(f"a recipient card cannot be read: {exc}") from None


@click.command("sign-deployment")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The organisation's signing.key.",
)
@click.option("--onion", required=True, help="The service's address, e.g. abc...xyz.onion.")
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A reviewer the server seals to: their member card (it also vouches for the signing "
    "key of their weekly keys) or public key file (repeat for each).",
)
@click.option(
    "--assets",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The release wheel the server runs (default: the sealdrop installed here).",
)
@click.option("--version", help="The version the server runs (default: from the wheel).")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed statement (copy it to the server's data directory).",
)
@passphrase_file_option
def sign_deployment(
    key_path: Path,
    onion: str,
    recipients: tuple[Path, ...],
    assets: Path | None,
    version: str | None,
    out_path: Path,
    passphrase_file: Path | None,
) -> None:
    """Sign a statement of what the server serves: its onion address, version, the reviewers'
    keys and the hash of every script and style its pages load."""
    try:
        fingerprints = [PublicKey.from_file(path).fingerprint for path in recipients]
        signing_keys = {
            fingerprint: line
            for path, fingerprint in zip(recipients, fingerprints, strict=True)
            if (line := _card_signing_key(path)) is not None
        }
    except (SealdropError, OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"a recipient key cannot be read: {exc}") from None
    hashes, version = _release_assets(assets, version)
    try:
        statement = Statement.make(
            onion,
            version,
            datetime.datetime.now(datetime.UTC).date(),
            fingerprints,
            hashes,
            signing_keys,
        )
    except SealdropError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        text = key_path.read_text(encoding="utf-8")
        key = SigningKey.from_file_text(text, read_passphrase(passphrase_file))
    except (OSError, UnicodeDecodeError, SealdropError) as exc:
        raise click.ClickException(f"{key_path}: {exc}") from None
    try:
        _write_new(out_path, statement.signed_by(key), 0o644)
    except FileExistsError:
        raise click.ClickException(f"{out_path} already exists; choose another --out") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_path} ({exc.strerror})") from None
    click.echo(statement.body().decode("ascii"), nl=False)
    click.echo(f"signed by {key.public_key.fingerprint}; written to {out_path}")
