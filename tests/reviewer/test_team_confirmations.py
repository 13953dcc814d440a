"""Confirmations are signed by the reviewer who confirms (issue 17, G7): a replies bundle
claiming "boris and chen opened it" moves nothing, a confirmation signed by the wrong key
refuses the bundle, and purge deletes only what every reviewer provably confirmed. A reviewer
who opened bundles before joining a team catches up on the next export (issue 21)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crypto.bundle import REPLIES, Acks, BundleWriter
from crypto.confirmation import sign_confirmation
from crypto.team import Signer
from reviewer.vault import Vault

pytest.importorskip("flask")

from . import test_team_roundtrip as roundtrip

submit = roundtrip.submit
team, server = roundtrip.team, roundtrip.server  # the round trip's fixtures


def _bundle(path: Path, acks: Acks | None = None, confirmation: str | None = None) -> Path:
    with path.open("wb") as out:
        BundleWriter(out, REPLIES).close(acks, confirmation=confirmation)
    return path


def test_confirmations_nobody_signed_never_let_purge_delete(tmp_path: Path, team, server):
    run, env = server
    anna, boris, chen = team
    submit(env, team, "S4")
    submit(env, team, "S5")
    run("export", "--out", tmp_path / "e1.tar")
    anna.open(tmp_path / "e1.tar")
    anna.export_replies(tmp_path / "r-anna.tar")
    run("import-replies", tmp_path / "r-anna.tar")
    ids = Vault(anna.vault).ids()

    # Whoever carries a bundle writes "boris and chen opened S4, S5", unsigned as before.
    for who in (boris, chen):
        forged = Acks(who.keys.public.key_id_hex, tuple(ids), ())
        run("import-replies", _bundle(tmp_path / f"forged-{who.label}.tar", forged))
    status = run("status").output
    assert status.count("has not confirmed 2 submission(s)") == 2, status
    assert "deleted 0" in run("purge", "--all-exported").output

    # Signed, but by anna's key in boris's name: the bundle was altered and is refused.
    in_boris_name = sign_confirmation(
        Signer(anna.keys.identity), boris.keys.public.key_id_hex, ids, ()
    )
    result = run("import-replies", _bundle(tmp_path / "x.tar", None, in_boris_name.text), ok=False)
    assert (
        f"the confirmation claims to be reviewer {boris.keys.public.key_id_hex}'s but is signed "
        "by another key: the bundle was altered; nothing was imported"
    ) in result.output
    assert "deleted 0" in run("purge", "--all-exported").output

    # Each one's own signed confirmation, made by export-replies: now purge may delete.
    for who in (boris, chen):
        who.open(tmp_path / "e1.tar")
        who.export_replies(tmp_path / f"r-{who.label}.tar")
        run("import-replies", tmp_path / f"r-{who.label}.tar")
    assert "has not confirmed" not in run("status").output
    assert "deleted 2" in run("purge", "--all-exported").output
    # Every confirmed item is gone, yet purge still waits for the next one's confirmations.
    submit(env, team, "S6")
    run("export", "--out", tmp_path / "e2.tar")
    assert "deleted 0" in run("purge", "--all-exported").output


def test_a_reviewer_who_opened_before_joining_catches_up_on_the_next_export(
    tmp_path: Path, team, server
):
    run, env = server
    anna = team[0]
    submit(env, team, "before the team")
    run("export", "--out", tmp_path / "e1.tar")
    # anna opened it alone, before the team existed on her machine: nothing was noted.
    shutil.move(anna.vault / "team.json", tmp_path / "team.json")
    anna.open(tmp_path / "e1.tar")
    assert not (anna.vault / "sync" / "state.json").exists()
    shutil.move(tmp_path / "team.json", anna.vault / "team.json")
    assert f"reviewer {anna.keys.public.key_id_hex}" in run("status").output
    assert "has not confirmed 1 submission(s)" in run("status").output

    sent = anna.export_replies(tmp_path / "r-anna.tar").output  # no reply, no new open
    assert "confirmations of what you opened" in sent
    run("import-replies", tmp_path / "r-anna.tar")
    lines = [x for x in run("status").output.splitlines() if anna.keys.public.key_id_hex in x]
    assert lines and "has confirmed everything exported" in lines[0]
    # Nothing is confirmed twice: the next export has nothing to carry.
    assert "No replies are waiting" in anna.export_replies(tmp_path / "r2.tar").output


def test_a_confirmation_lost_on_the_way_is_made_again(tmp_path: Path, team, server):
    run, env = server
    anna = team[0]
    submit(env, team, "hello")
    run("export", "--out", tmp_path / "e1.tar")
    anna.open(tmp_path / "e1.tar")
    anna.export_replies(tmp_path / "lost.tar")  # the stick is lost: never imported
    assert "has not confirmed 1 submission(s)" in run("status").output
    run("export", "--again", "7d", "--out", tmp_path / "again.tar")
    anna.open(tmp_path / "again.tar")
    anna.export_replies(tmp_path / "r.tar")
    run("import-replies", tmp_path / "r.tar")
    line = next(x for x in run("status").output.splitlines() if anna.keys.public.key_id_hex in x)
    assert "has confirmed everything exported" in line


def test_a_server_without_the_reviewers_signing_key_says_so(tmp_path: Path, team, server):
    run, env = server
    anna = team[0]
    anna.card.write_text(anna.keys.public.line + "\n")  # a plain key file: no signing key
    submit(env, team, "hello")
    run("export", "--out", tmp_path / "e1.tar")
    anna.open(tmp_path / "e1.tar")
    anna.export_replies(tmp_path / "r.tar")
    run("import-replies", tmp_path / "r.tar")
    status = run("status").output
    line = next(x for x in status.splitlines() if anna.keys.public.key_id_hex in x)
    assert "has not confirmed 1 submission(s)" in line
    assert "no signing key for them" in line and "member card" in line
