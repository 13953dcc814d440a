"""`sealdrop-intake check --team FILE`: the server's recipients against the reviewers' team."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from crypto import Identity
from crypto.team import Member, team_file_text
from intake.check import command as check_command
from intake.check_keys import check_team

from .helpers import make_deployment


def test_check_warns_when_the_team_and_the_recipients_differ(tmp_path: Path) -> None:
    deployment = make_deployment(tmp_path)
    anna = Member.of(deployment.identity, "anna")
    boris = Member.of(Identity.generate(), "boris")
    same = tmp_path / "same.txt"
    same.write_text(team_file_text([anna]))
    [finding] = check_team(same, deployment.config)
    assert finding.ok and "exactly the recipients" in finding.message

    bigger = tmp_path / "bigger.txt"
    bigger.write_text(team_file_text([anna, boris]))
    [finding] = check_team(bigger, deployment.config)
    assert (
        not finding.ok
        and "'boris'" in finding.message
        and "not in SEALDROP_RECIPIENTS" in (finding.message)
    )

    other = tmp_path / "other.txt"
    other.write_text(team_file_text([boris]))
    problems = check_team(other, deployment.config)
    assert [f.ok for f in problems] == [False, False]
    assert deployment.identity.public_key.key_id_hex in problems[1].message

    result = CliRunner().invoke(
        check_command, ["--team", str(other), "--quiet"], env=deployment.env
    )
    assert result.exit_code == 1
    assert "recipient key" in result.output and "not in the team file" in result.output
