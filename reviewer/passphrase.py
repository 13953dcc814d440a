"""Getting a passphrase: from an interactive prompt, or from a file for automation."""

from __future__ import annotations

from pathlib import Path

import click


def read_passphrase(passphrase_file: Path | None, *, confirm: bool = False) -> str:
    if passphrase_file is not None:
        try:
            text = passphrase_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(
                f"cannot read the passphrase file {passphrase_file}: {exc.strerror}"
            ) from None
        passphrase = text.splitlines()[0] if text else ""
    else:
        passphrase = click.prompt(
            "Passphrase", hide_input=True, confirmation_prompt=confirm, err=True
        )
    if not passphrase:
        raise click.ClickException("the passphrase is empty; choose one of several words")
    return passphrase
