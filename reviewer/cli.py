"""``sealdrop-reviewer``: the offline staff tool.

With no command it opens the inbox app (reviewer.app). The commands, for scripting: keys
(keygen, fingerprint), the vault (open, list, show, save, config, destroy, trash), replies (reply,
export-replies) and case state (status, note, tag, assign, search). Every error a person can
meet ends the command with one sentence saying what to do next and a non-zero exit status.
Nothing here opens a network connection.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import case_cli, deployment_cli, keys_cli, reply_cli, team_cli, trash_cli, vault_cli
from .cli_common import key_option, vault_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@vault_option
@key_option
@click.pass_context
def main(ctx: click.Context, vault_path: Path | None, key: Path | None) -> None:
    """sealdrop's offline reviewer tool. Without a command, opens the inbox app."""
    if ctx.invoked_subcommand is None:
        from .app.run import run_app  # the app's imports are only paid for when it opens

        run_app(vault_path, key)


for command in (
    keys_cli.keygen,
    keys_cli.fingerprint,
    vault_cli.open_bundle,
    vault_cli.show,
    vault_cli.save,
    vault_cli.config,
    vault_cli.destroy,
    trash_cli.trash,
    reply_cli.reply,
    reply_cli.export_replies,
    *case_cli.COMMANDS,
    team_cli.team,
    team_cli.handover,
    deployment_cli.signing_keygen,
    deployment_cli.sign_deployment,
):
    main.add_command(command)
