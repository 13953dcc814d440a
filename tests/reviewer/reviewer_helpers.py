"""Builders shared by the reviewer tests: fast identities, envelopes and bundles."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from crypto import Identity, PublicKey, Sealer
from crypto.bundle import BundleWriter, Entry
from crypto.envelope import WRITTEN_VERSION, header_length, sealed_chunk_size

PASSPHRASE = "correct horse battery staple"
RECEIVED = "2026-11-24T12:00Z"
# The layout of what Sealer writes now, for tests that cut or flip an envelope at a chunk.
HEADER_1 = header_length(1, WRITTEN_VERSION)
SEALED_CHUNK = sealed_chunk_size(WRITTEN_VERSION)
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Keys:
    identity: Identity
    key_file: Path
    passphrase_file: Path

    @property
    def public(self) -> PublicKey:
        return self.identity.public_key


def make_keys(directory: Path) -> Keys:
    """An identity file with the cheapest Argon2id settings (only keygen uses MODERATE)."""
    directory.mkdir(parents=True, exist_ok=True)
    identity = Identity.generate()
    key_file = directory / "identity.key"
    key_file.write_text(identity.to_file_text(PASSPHRASE, opslimit=1, memlimit=8192))
    passphrase_file = directory / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    return Keys(identity, key_file, passphrase_file)


def seal(
    recipients: list[PublicKey],
    message: str = "",
    files: list[tuple[str, str, bytes]] | None = None,
    fields: dict[str, str] | None = None,
    version: int = 2,
) -> bytes:
    out = io.BytesIO()
    with Sealer(out, recipients, version=version) as sealer:
        if message:
            sealer.add_message(message)
        for name, value in (fields or {}).items():
            sealer.add_field(name, value)
        for name, media_type, data in files or []:
            sealer.add_file(name, media_type, data)
    return out.getvalue()


def write_bundle(path: Path, envelopes: dict[str, bytes], received: str = RECEIVED) -> list[Entry]:
    with path.open("wb") as out:
        writer = BundleWriter(out)
        for submission_id, envelope in envelopes.items():
            writer.add(submission_id, received, io.BytesIO(envelope), len(envelope))
        writer.close()
    return writer.entries


def vault_tree(vault: Path) -> list[str]:
    """Every path under the vault, relative, for asserting that nothing else appeared."""
    if not vault.exists():
        return []
    return sorted(str(p.relative_to(vault)) for p in vault.rglob("*"))


def reviewer_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "reviewer", *map(str, args)]


def run_reviewer(
    *args: str | Path, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), *reviewer_command(*args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        check=False,
    )
