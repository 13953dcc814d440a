"""One tool, one vocabulary (issue 21): the CLI verbs take conversation names as `list`
prints them, `reply` sets "waiting for them" and says who wrote it, `show` includes the case,
`--help` lists commands by task, a case is exported for a lawyer, a new colleague's first
open says plainly what predates them, and a passphrase typed in the Russian layout gets a
hint."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from inbox_helpers import write_caseload
from reviewer_helpers import Keys, make_keys

from crypto import seal_bytes
from crypto.bundle import BundleWriter
from crypto.team import Member
from reviewer import caselog, localtime
from reviewer.caselog import CaseLog
from reviewer.cli import main
from reviewer.conversations import Inbox
from reviewer.names import in_cyrillic
from reviewer.team import Team
from reviewer.vault import Vault


@pytest.fixture
def opened(cli, keys: Keys, vault: Path, tmp_path: Path) -> str:
    """The caseload opened; returns the name of the two-message Russian conversation."""
    cli("config", "--key", keys.key_file)
    result = cli("open", write_caseload(tmp_path / "c.tar", keys.public), "--passphrase-file",
                 keys.passphrase_file)  # fmt: skip
    assert result.exit_code == 0, result.output
    inbox = Inbox(Vault(vault))
    name = inbox.find("a1").name
    inbox.close()
    assert name in cli("list").output  # as `list` prints it
    return name


def test_the_verbs_take_names_as_list_prints_them(cli, opened: str, tmp_path: Path):
    assert cli("note", opened, "called the lawyer\nshe calls back Monday").exit_code == 0
    assert cli("tag", in_cyrillic(opened), "legal").exit_code == 0  # the Russian spelling too
    shown = cli("show", opened)
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert "Нам нужно убежище" in out and "Где можно найти убежища" in out  # the whole thread
    assert "needs reply" in out or "new" in out
    assert "#legal" in out and "nobody assigned" in out
    assert "Note by you" in out and "she calls back Monday" in out

    saved = cli("save", in_cyrillic(opened), "--out", tmp_path / "files", "--keep-metadata")
    assert saved.exit_code == 0, saved.output
    assert [p.name for p in (tmp_path / "files").iterdir()] == ["паспорт.jpg"]

    replied = cli("reply", opened, "-m", "Мы вам поможем.")
    assert replied.exit_code == 0, replied.output
    assert f"{opened} is now waiting for them" in replied.output
    (conversation,) = [c for c in Inbox(Vault(tmp_path / "vault")).refresh() if c.name == opened]
    assert conversation.status == caselog.WAITING  # as the app does
    assert "written by you" in cli("show", opened).output

    unknown = cli("show", "mura-sefi")
    assert unknown.exit_code != 0 and "list` shows their names" in unknown.output


def test_help_lists_commands_by_task(cli):
    text = cli("--help").output
    order = ["Once: your keys", "Each week: bring", "Read and find", "Case work", "Answer"]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert text.index("  open ") < text.index("  reply ") < text.index("  destroy ")


def test_a_case_is_exported_for_a_lawyer_with_metadata_removed(
    cli, opened: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cli("note", opened, "она боится звонить")
    cli("reply", opened, "-m", "We will call the lawyer.")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "mat2-calls"
    fake = bin_dir / "mat2"  # stands in for mat2: records what it was asked to clean
    fake.write_text(f'#!/bin/sh\necho "$3" >> {calls}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    out = tmp_path / "for-lawyer.zip"
    result = cli("export-case", opened, "--out", out)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        case = archive.read("for-lawyer/case.txt").decode()
    assert "for-lawyer/files/паспорт.jpg" in names
    assert (
        case.index("Нам нужно убежище")
        < case.index("Где можно найти")
        < case.index("We will call the lawyer")
    )
    assert "written by you" in case and "Staff note by you" in case and "она боится" in case
    assert "files/паспорт.jpg: metadata removed with mat2" in case
    assert calls.read_text().count("паспорт.jpg") == 1

    monkeypatch.setenv("PATH", "/nonexistent")  # no mat2: nothing written unless asked
    refused = cli("export-case", opened, "--out", tmp_path / "folder")
    assert refused.exit_code != 0 and "mat2 is not installed" in refused.output
    assert not (tmp_path / "folder").exists()
    kept = cli("export-case", opened, "--out", tmp_path / "folder", "--keep-metadata")
    assert kept.exit_code == 0 and (tmp_path / "folder" / "case.txt").is_file()


def test_a_passphrase_in_the_russian_layout_gets_a_hint(cli, keys: Keys, tmp_path: Path):
    wrong = tmp_path / "wrong"
    wrong.write_text("ыуфдвкщз\n")  # "sealdrop" typed with the Russian layout on
    cli("config", "--key", keys.key_file)
    result = cli("open", write_caseload(tmp_path / "c.tar", keys.public), "--passphrase-file",
                 wrong)  # fmt: skip
    assert result.exit_code != 0
    assert "wrong passphrase" in result.output and "Russian layout" in result.output


def test_a_new_colleagues_first_open_says_what_predates_them(tmp_path: Path):
    anna, dana = make_keys(tmp_path / "anna"), make_keys(tmp_path / "dana")
    vault = tmp_path / "dana-vault"
    team = Team(Vault(vault))
    team.add(Member.of(anna.identity, "anna"))
    team.ensure_self(dana.identity, "dana")  # dana joins this hour
    before = [f"old{n}" for n in range(5)]
    with (tmp_path / "export.tar").open("wb") as out:
        writer = BundleWriter(out)
        for submission_id in before:  # sealed to anna alone, weeks before dana joined
            envelope = seal_bytes([anna.public], "an old case")
            writer.add(submission_id, "2026-10-01T09:00Z", io.BytesIO(envelope), len(envelope))
        envelope = seal_bytes([anna.public, dana.public], "a new case")
        writer.add("new1", "2099-01-01T09:00Z", io.BytesIO(envelope), len(envelope))
        writer.close()
    result = CliRunner().invoke(
        main,
        ["open", str(tmp_path / "export.tar"), "--vault", str(vault),
         "--key", str(dana.key_file), "--passphrase-file", str(dana.passphrase_file)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output
    assert "1 opened, 0 already in the vault, 0 failed" in result.output
    assert "5 submission(s) predate you" in result.output and "anna" in result.output
    assert "hand-over" in result.output
    assert Vault(vault).ids() == ["new1"]


def test_show_says_who_wrote_a_colleagues_reply(cli, opened: str, vault: Path, keys: Keys):
    colleague = make_keys(vault.parent / "boris")
    Team(Vault(vault)).add(Member.of(colleague.identity, "boris"))
    inbox = Inbox(Vault(vault))
    conversation = inbox.find(opened)
    CaseLog(Vault(vault)).new(
        colleague.public.key_id_hex, conversation.id, caselog.NOTE, {"text": "boris was here"}
    )
    inbox.close()
    assert "Note by boris" in cli("show", opened).output


def test_hours_show_in_the_zone_chosen(cli, vault: Path):
    assert cli("config", "--timezone", "Mars/Olympus").exit_code != 0
    chosen = cli("config", "--timezone", "Europe/Moscow")
    assert chosen.exit_code == 0 and "Europe/Moscow" in chosen.output
    assert Vault(vault).config()["timezone"] == "Europe/Moscow"
    try:
        localtime.use("Europe/Moscow")
        assert localtime.hour_label("2026-11-23T05:00Z") == "2026-11-23 08h"
        assert localtime.hour_label("2026-11-23T23:00Z", short=True) == "11-24 02h"
        assert localtime.zone_name() == "MSK"
        localtime.use("Asia/Kolkata")  # a half-hour zone shows the half hour
        assert localtime.hour_label("2026-11-23T05:00Z") == "2026-11-23 10:30"
    finally:
        localtime.use("UTC")


def test_opens_lines_go_above_its_progress_bar(monkeypatch: pytest.MonkeyPatch, capsys):
    """With the bar on the terminal (stderr) and stdout the same terminal, each line is
    printed through the bar's console (above it), never written into the bar's line."""
    from rich.console import Console

    from reviewer import vault_cli

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80)
    monkeypatch.setattr(vault_cli, "console", lambda stderr=False: terminal)
    monkeypatch.setattr(vault_cli.sys.stdout, "isatty", lambda: True, raising=False)
    with vault_cli._progress(100) as (advance, echo):
        advance(50)
        echo("opened  s1  received 2026-11-23T05:00Z: message")
    assert "opened  s1" in screen.getvalue()  # above the bar, on its console
    assert "opened" not in capsys.readouterr().out  # not written past it to stdout


def test_handover_takes_a_name(cli, opened: str, vault: Path, keys: Keys, tmp_path: Path):
    dana = make_keys(tmp_path / "dana")
    card = tmp_path / "dana.card"
    card.write_text(Member.of(dana.identity, "dana").card_text())
    Team(Vault(vault)).add(Member.of(dana.identity, "dana"))
    out = tmp_path / "for-dana.tar"
    result = cli("handover", "--to", card, "--out", out, in_cyrillic(opened),
                 "--passphrase-file", keys.passphrase_file)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 2 submission(s)" in result.output  # the whole conversation: a1 and a2
