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

from . import (
    case_cli,
    case_view_cli,
    deployment_cli,
    keys_cli,
    reply_cli,
    team_cli,
    trash_cli,
    vault_cli,
)
from .cli_common import key_option, vault_option

# --help lists the commands by task, in the order of a week's work (docs/REVIEWER.md).
TASKS: list[tuple[str, list[click.Command]]] = [
    ("Once: your keys and settings", [keys_cli.keygen, keys_cli.fingerprint, vault_cli.config]),
    ("Each week: bring submissions in", [vault_cli.open_bundle]),
    (
        "Read and find",
        [
            case_cli.list_,
            case_cli.search,
            vault_cli.show,
            vault_cli.save,
            case_view_cli.export_case,
        ],
    ),
    ("Case work", [c for c in case_cli.COMMANDS if c not in (case_cli.list_, case_cli.search)]),
    ("Answer and send back", [reply_cli.reply, reply_cli.export_replies]),
    ("The team", [team_cli.team, team_cli.handover]),
    ("Clean up", [vault_cli.destroy, trash_cli.trash]),
    (
        "The organisation's signing key (one person)",
        [deployment_cli.signing_keygen, deployment_cli.sign_deployment],
    ),
]


class TaskGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [command.name or "" for _task, commands in TASKS for command in commands]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for task, commands in TASKS:
            rows = [(c.name or "", c.get_short_help_str(120)) for c in commands]
            with formatter.section(task):
                formatter.write_dl(rows)


@click.group(
    cls=TaskGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
)
@vault_option
@key_option
@click.pass_context
def main(ctx: click.Context, vault_path: Path | None, key: Path | None) -> None:
    """sealdrop's offline reviewer tool. Without a command, opens the inbox app.

    A conversation's ID is its name as `list` prints it (either script), or the first
    characters of any of its submissions' or replies' ids."""
    if ctx.invoked_subcommand is None:
        from .app.run import run_app  # the app's imports are only paid for when it opens

        run_app(vault_path, key)


for _task, _commands in TASKS:
    for _command in _commands:
        main.add_command(_command)
