"""The team's weekly round trip through the real server, by the commands people type (issue
13): anna replies and notes, boris opens the next export and sees both, assigns the case to
chen, chen finds it is theirs. A forged event is refused; the note and reply never reach the
server's disk in plaintext; purge waits for everyone's confirmation."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reviewer_helpers import make_keys

from crypto import Identity, seal_bytes
from crypto.bundle import REPLIES, BundleWriter, hour_stamp
from crypto.codename import Codename
from crypto.team import Member, Signer, seal_event, sign_event
from reviewer import sync
from reviewer.caselog import CaseLog, conversation_id
from reviewer.cli import main as reviewer_main
from reviewer.team import Team
from reviewer.vault import Vault

pytest.importorskip("flask")  # the server extra; the reviewer never needs it
from intake import create_app
from intake.cli import main as intake_main

from ..intake.helpers import upload

NOTE = "note-canary-3c1d: her brother knows the address"
REPLY = "reply-canary-77aa: we can get you out on Tuesday"
LABELS = ("anna", "boris", "chen")


class Machine:
    def __init__(self, root: Path, label: str) -> None:
        self.label = label
        self.keys = make_keys(root / f"{label}-keys")
        self.vault = root / f"{label}-vault"
        self.card = root / f"{label}.card"

    def __call__(self, *args: str | Path, input: str | None = None, ok: bool = True) -> Result:
        result = CliRunner().invoke(
            reviewer_main,
            [str(a) for a in args],
            input=input,
            env={
                "SEALDROP_VAULT": str(self.vault),
                "SEALDROP_IDENTITY": str(self.keys.key_file),
                "COLUMNS": "250",
            },
            catch_exceptions=False,
        )
        assert (result.exit_code == 0) == ok, result.output
        return result

    def open(self, bundle: Path, ok: bool = True) -> Result:
        return self("open", bundle, "--passphrase-file", self.keys.passphrase_file, ok=ok)

    def export_replies(self, out: Path) -> Result:
        return self("export-replies", "--out", out, "--passphrase-file", self.keys.passphrase_file)


@pytest.fixture
def team(tmp_path: Path) -> list[Machine]:
    machines = [Machine(tmp_path, label) for label in LABELS]
    for machine in machines:
        machine("team", "card", "--label", machine.label, "--out", machine.card,
                "--passphrase-file", machine.keys.passphrase_file)  # fmt: skip
    for machine in machines:
        for colleague in machines:
            machine("team", "add", colleague.card, input="y\n")
    return machines


@pytest.fixture
def server(tmp_path: Path, team: list[Machine]):
    env = {
        "SEALDROP_DATA_DIR": str(tmp_path / "server"),
        "SEALDROP_RECIPIENTS": os.pathsep.join(str(m.card) for m in team),  # cards are key files
        "SEALDROP_DISK_RESERVE_BYTES": "0",
    }

    def run(*args: str | Path, ok: bool = True) -> Result:
        result = CliRunner().invoke(intake_main, [str(a) for a in args], env=env)
        assert (result.exit_code == 0) == ok, result.output
        return result

    run("init")
    return run, env


def submit(env: dict[str, str], team: list[Machine], text: str) -> Codename:
    codename = Codename.generate()
    keys = codename.derive()
    envelope = seal_bytes(
        [m.keys.public for m in team],
        text,
        trailer={"reply_key": keys.public_key.line, "mailbox": keys.mailbox},
    )
    config = {k.removeprefix("SEALDROP_"): v for k, v in env.items()}
    config["RECIPIENTS"] = env["SEALDROP_RECIPIENTS"].split(os.pathsep)
    app = create_app(config)
    assert upload(app.test_client(), envelope).status_code == 201
    app.extensions["sealdrop"].engine.dispose()
    return codename


def events_bundle(path: Path, events: dict[str, bytes]) -> Path:
    """A replies bundle holding only these staff events (name: sealed event), as a server
    that was handed them would export it."""
    with path.open("wb") as out:
        writer = BundleWriter(out, REPLIES)
        for event_id, envelope in events.items():
            writer.add_event(event_id, hour_stamp(), io.BytesIO(envelope), len(envelope))
        writer.close()
    return path


def test_a_team_works_one_caseload_through_the_server(tmp_path: Path, team, server):
    run, env = server
    anna, boris, chen = team
    submit(env, team, "please help, they took my phone")
    run("export", "--out", tmp_path / "e1.tar")

    # Monday, anna: reads, answers and notes.
    anna.open(tmp_path / "e1.tar")
    [submission_id] = Vault(anna.vault).ids()
    anna("reply", submission_id, "-m", REPLY)
    anna("note", submission_id, NOTE)
    sent = anna.export_replies(tmp_path / "r-anna.tar").output
    assert "1 reply" in sent and "staff event(s)" in sent
    imported = run("import-replies", tmp_path / "r-anna.tar").output
    assert "imported 1 new reply" in imported and "new staff event(s)" in imported
    run("export", "--out", tmp_path / "e2.tar")

    # Tuesday, boris: the same first export, then the next one, carrying anna's work.
    boris.open(tmp_path / "e1.tar")
    opened = boris.open(tmp_path / "e2.tar").output
    assert "refused" in opened and "0 refused" in opened
    thread = boris("show", submission_id).output
    assert REPLY in thread
    state = CaseLog(Vault(boris.vault)).state()
    [case] = state.values()
    assert [(n.text, n.author) for n in case.notes] == [(NOTE, anna.keys.public.key_id_hex)]
    assert [author for _, author in case.replies] == [anna.keys.public.key_id_hex]
    boris("assign", submission_id, "chen")
    boris.export_replies(tmp_path / "r-boris.tar")
    run("import-replies", tmp_path / "r-boris.tar")
    run("export", "--out", tmp_path / "e3.tar")

    # Wednesday, chen: every export in turn; the case is theirs.
    for name in ("e1", "e2", "e3"):
        chen.open(tmp_path / f"{name}.tar")
    # Opening one again asks for nothing: no events in it, nothing new to decrypt.
    assert "0 opened, 1 already in the vault" in chen("open", tmp_path / "e1.tar").output
    chen_vault = Vault(chen.vault)
    conv = conversation_id(sync.replies.thread_key(chen_vault.submission(submission_id)),
                           submission_id)  # fmt: skip
    assert sync.mine(chen_vault, chen.keys.public.key_id_hex) == {conv}
    assert sync.mine(Vault(anna.vault), anna.keys.public.key_id_hex) == set()
    assert "@chen" in chen("list", "--status", "all").output
    for machine in (chen, boris):  # as the guide says: the key set once
        machine("config", "--key", machine.keys.key_file)
    assert submission_id in chen("search", "@me", "--status", "all").output  # chen's "mine"
    assert submission_id not in boris("search", "@me", "--status", "all").output
    # anna's own events come back in e2 and e3 and are recognised, not doubled.
    assert "2 of yours came back" in anna.open(tmp_path / "e2.tar").output
    assert "1 new, 0 of yours came back" in anna.open(tmp_path / "e3.tar").output
    assert len(CaseLog(Vault(anna.vault)).events()) == len(CaseLog(chen_vault).events())

    # Purge waits until every reviewer confirmed opening the submission.
    assert "not confirmed 1 submission" in run("status").output
    assert "deleted 0" in run("purge", "--all-exported").output
    again = run("export", "--again", "7d", "--out", tmp_path / "again.tar").output
    assert "exported again 1 submission(s)" in again
    chen.export_replies(tmp_path / "r-chen.tar")
    run("import-replies", tmp_path / "r-chen.tar")
    assert "not confirmed 1 submission" not in run("status").output
    assert "deleted 1" in run("purge", "--all-exported").output

    # Nothing staff wrote is on the server's disk, or on the sticks, in plaintext.
    sticks = [tmp_path / f"{name}.tar" for name in ("r-anna", "r-boris", "r-chen", "e2", "e3")]
    for path in [*(tmp_path / "server").rglob("*"), *sticks]:
        if path.is_file():
            data = path.read_bytes()
            for canary in (NOTE, REPLY, "note-canary", "reply-canary"):
                assert canary.encode() not in data, path


def test_an_event_from_outside_the_team_is_refused_and_reported(tmp_path: Path, team, server):
    run, env = server
    anna = team[0]
    submit(env, team, "hello")
    run("export", "--out", tmp_path / "e1.tar")
    anna.open(tmp_path / "e1.tar")
    [submission_id] = Vault(anna.vault).ids()
    before = CaseLog(Vault(anna.vault)).events()

    # Someone who knows the team's public keys (the server does) but is not a member.
    outsider = Identity.generate()
    record = {
        "v": 1,
        "id": "a" * 26,
        "author": outsider.public_key.key_id_hex,
        "clock": 99,
        "conversation": submission_id,
        "kind": "status",
        "hour": hour_stamp(),
        "payload": {"status": "spam", "seen": []},
    }
    item = json.dumps({"event": record}).encode()
    team_keys = [m.keys.public for m in team]
    forged = seal_event(sign_event(Signer(outsider), item), team_keys)
    # ... and a member's key claiming to be another's: boris signs, saying anna wrote it.
    record_as_anna = {**record, "id": "b" * 26, "author": anna.keys.public.key_id_hex}
    boris_signer = Signer(team[1].keys.identity)
    impostor = seal_event(
        sign_event(boris_signer, json.dumps({"event": record_as_anna}).encode()), team_keys
    )
    bundle = events_bundle(tmp_path / "forged.tar", {"forged": forged, "impostor": impostor})
    run("import-replies", bundle)  # the server cannot tell: it holds no signing keys
    run("export", "--out", tmp_path / "e2.tar")

    result = anna.open(tmp_path / "e2.tar", ok=False)
    assert "REFUSED staff event forged: it is signed by a key that is not in your team" in (
        result.output
    )
    assert "REFUSED staff event impostor: it is signed by boris but claims another author" in (
        result.output
    )
    assert "2 staff event(s) were refused" in result.output
    assert CaseLog(Vault(anna.vault)).events() == before
    assert (Vault(anna.vault).root / "sync" / "refused.jsonl").read_text().count("\n") == 2


def test_team_add_shows_the_fingerprint_and_adds_nothing_unless_confirmed(tmp_path: Path):
    anna, boris = Machine(tmp_path, "anna"), Machine(tmp_path, "boris")
    boris("team", "card", "--label", "boris", "--out", boris.card,
          "--passphrase-file", boris.keys.passphrase_file)  # fmt: skip
    fingerprint = Member.of(boris.keys.identity, "boris").fingerprint
    declined = anna("team", "add", boris.card, input="n\n", ok=False)
    assert fingerprint in declined.output
    assert Team(Vault(anna.vault)).members() == []
    anna("team", "add", boris.card, "--label", "Boris K", input="y\n")
    listing = anna("team", "list").output
    assert "Boris K" in listing and fingerprint in listing
    anna("team", "export", "--out", tmp_path / "team.txt")
    assert "Boris K" in (tmp_path / "team.txt").read_text()
    anna("team", "remove", "boris k", "--yes")
    assert Team(Vault(anna.vault)).members() == []
    old = tmp_path / "old.pub"  # a public key file from before teams: no signing key
    old.write_text(f"# old\n{boris.keys.public.line}\n")
    refused = anna("team", "add", old, "--label", "b", ok=False)
    assert "no signing-key line" in refused.output


def test_a_new_member_is_handed_past_conversations_on_a_stick(tmp_path: Path, team, server):
    run, env = server
    anna, boris, _ = team
    submit(env, team, "first")
    run("export", "--out", tmp_path / "e1.tar")
    anna.open(tmp_path / "e1.tar")
    [submission_id] = Vault(anna.vault).ids()
    anna("reply", submission_id, "-m", REPLY)
    anna("note", submission_id, NOTE)

    dana = Machine(tmp_path, "dana")  # joins later: old submissions were not sealed to her
    dana("team", "card", "--label", "dana", "--out", dana.card,
         "--passphrase-file", dana.keys.passphrase_file)  # fmt: skip
    for machine in (*team, dana):
        for colleague in (*team, dana):
            if machine is dana or colleague is dana:
                machine("team", "add", colleague.card, "--yes")
    out = tmp_path / "handover.tar"
    anna("handover", "--to", dana.card, "--out", out, submission_id,
         "--passphrase-file", anna.keys.passphrase_file)  # fmt: skip
    assert "1 opened" in dana.open(out).output
    assert REPLY in dana("show", submission_id).output
    [case] = CaseLog(Vault(dana.vault)).state().values()
    assert [n.text for n in case.notes] == [NOTE]
    refused = boris.open(out, ok=False).output  # sealed to dana alone
    assert "not encrypted to your key" in refused
    # The server's own copy (never sealed to dana), repeated later, counts as already opened.
    assert "0 opened, 1 already in the vault, 0 failed" in dana.open(tmp_path / "e1.tar").output
