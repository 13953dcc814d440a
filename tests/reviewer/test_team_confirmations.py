"""Confirmations are signed by the reviewer who confirms (issue 17, G7): a replies bundle
claiming "boris and chen opened it" moves nothing, a confirmation signed by the wrong key
refuses the bundle, and purge deletes only what every reviewer provably confirmed. A reviewer
who opened bundles before joining a team catches up on the next export (issue 21)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crypto import Identity
from crypto.bundle import REPLIES, Acks, BundleWriter, hour_stamp
from crypto.confirmation import sign_confirmation
from crypto.team import Signer, seal_event, sign_event
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


def test_a_forgery_is_confirmed_as_set_aside_and_stops_travelling(tmp_path: Path, team, server):
    """Issue 17: refused events were never confirmed, so `export --again` repeated them and
    purge kept them forever. Each machine now confirms what it set aside, with the reason
    listed by `team set-aside`."""
    run, env = server
    submit(env, team, "hello")
    run("export", "--out", tmp_path / "e1.tar")
    keys = [m.keys.public for m in team]
    outsider = Identity.generate()
    record = {
        "v": 1, "id": "a" * 26, "author": outsider.public_key.key_id_hex, "clock": 9,
        "conversation": "team", "kind": "note", "hour": hour_stamp(), "payload": {"text": "x"},
    }  # fmt: skip
    forged = seal_event(sign_event(Signer(outsider), json.dumps({"event": record}).encode()), keys)
    malformed = seal_event(sign_event(Signer(team[1].keys.identity), b"[1]"), keys)
    bundle = roundtrip.events_bundle(
        tmp_path / "forged.tar", {"forged": forged, "malformed": malformed}
    )
    run("import-replies", bundle)
    run("export", "--out", tmp_path / "e2.tar")

    for machine in team:
        machine.open(tmp_path / "e1.tar")
        result = machine.open(tmp_path / "e2.tar", ok=False)
        assert "2 staff event(s) were refused" in result.output
        listed = machine("team", "set-aside").output
        assert "forged: it is signed by a key that is not in your team; kept aside" in listed
        assert "malformed: it is signed by a member but is not a staff item" in listed
        machine.export_replies(tmp_path / f"r-{machine.label}.tar")
        run("import-replies", tmp_path / f"r-{machine.label}.tar")

    # Confirmed as seen by everyone: not repeated, not pending, and purge deletes them.
    again = run("export", "--again", "7d", "--out", tmp_path / "again.tar").output
    assert "and 0 staff event(s)" in again, again
    assert "has not confirmed" not in run("status").output
    events = tmp_path / "server" / "events"
    assert len(list(events.glob("*.sdenv"))) == 2
    run("purge", "--all-exported")
    assert list(events.glob("*.sdenv")) == []
