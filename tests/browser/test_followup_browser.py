"""Issue 6 end to end, in Firefox ESR at Tor Browser's Safer and Safest levels: submit ->
export -> the reviewer replies -> export-replies -> import-replies -> the submitter checks
with the codename, reads the reply, sends a follow-up -> export -> the reviewer sees one
thread of three messages. The reply text and the codename never reach the server's disk.

Safer takes the JS path (the browser derives keys and decrypts; the codename never leaves
it); Safest the no-JS path (the server decrypts in memory for the page).
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from crypto import Sealer, seal_bytes
from crypto.bundle import BundleWriter, hour_stamp
from crypto.codename import Codename
from intake.export import export_bundle
from intake.replies import import_replies
from reviewer import replies as reviewer_replies
from reviewer.cli import main as reviewer_cli
from reviewer.threadview import thread
from reviewer.vault import Vault

from .conftest import require_executable
from .harness import Server

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
FIREFOX = "/usr/bin/firefox-esr"
PASSPHRASE = "follow-up test passphrase"
REPLY_CANARY = "reply-canary-0c4d7e19"
FIRST = "First message: we need help leaving the city."
SECOND = "Follow-up: thank you, the address is safe."
REPLY = f"We received it. Can you tell us more? {REPLY_CANARY}"
REPLY_V2 = "A newer reply, in the mailbox v2."
SODIUM = "/static/js/sodium.js"


def drive(node: str, tmp_path: Path, spec: dict) -> dict:
    spec_path = tmp_path / f"spec-{spec['step']}.json"
    spec_path.write_text(json.dumps({"timeout_ms": 120_000, **spec}), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "drive_followup.js"), str(spec_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, f"browser run failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)


class Reviewer:
    """The offline side: a vault and the reviewer's passphrase-protected identity."""

    def __init__(self, server: Server, directory: Path) -> None:
        directory.mkdir()
        self.vault = directory / "vault"
        self.key_file = directory / "identity.key"
        self.key_file.write_text(
            server.identity.to_file_text(PASSPHRASE, opslimit=1, memlimit=8192), encoding="utf-8"
        )
        self.passphrase = directory / "passphrase"
        self.passphrase.write_text(PASSPHRASE + "\n", encoding="utf-8")
        self.env = {
            "SEALDROP_VAULT": str(self.vault),
            "SEALDROP_IDENTITY": str(self.key_file),
            "XDG_DATA_HOME": str(directory / "xdg"),
        }

    def open(self, bundle: Path) -> None:
        result = CliRunner().invoke(
            reviewer_cli, ["open", str(bundle), "--passphrase-file", str(self.passphrase)],
            env=self.env,
        )  # fmt: skip
        assert result.exit_code == 0, result.output


def check_nothing_readable_on_disk(server: Server, codename: str) -> None:
    marks = [REPLY_CANARY.encode(), codename.encode(), FIRST.encode(), SECOND.encode()]
    for path in server.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for mark in marks:
                assert mark not in content, (path, mark)


@pytest.mark.parametrize("level", ["safer", "safest"])
def test_submit_reply_read_follow_up_one_thread(node, tmp_path, intake_server, level):
    require_executable(FIREFOX, "firefox-esr")
    server = intake_server
    scripted = level != "safest"
    reviewer = Reviewer(server, tmp_path / "reviewer")

    submitted = drive(node, tmp_path, {"level": level, "url": server.url, "step": "submit",
                                       "message": FIRST})  # fmt: skip
    codename = str(Codename.parse(submitted["codename"]))
    assert submitted["codename"] == codename
    assert "codename" not in submitted["final_url"] and codename.split()[0] not in " ".join(
        submitted["requests"]
    )

    first_bundle = tmp_path / "first.tar"
    [first_id] = export_bundle(server.app, first_bundle)
    reviewer.open(first_bundle)
    attachment = tmp_path / "plan.txt"
    attachment.write_text(f"where to go {REPLY_CANARY}", encoding="utf-8")
    reply = reviewer_replies.queue_reply(reviewer.vault, first_id, REPLY, [attachment])
    replies_bundle = tmp_path / "replies.tar"
    assert reviewer_replies.export_replies(reviewer.vault, replies_bundle) == [reply.id]
    assert import_replies(server.app, replies_bundle) == [reply.id]

    followed = drive(node, tmp_path, {"level": level, "url": server.url, "step": "followup",
                                      "codename": codename, "message": SECOND})  # fmt: skip
    assert followed["replies"] == [REPLY]
    assert followed["files"] == ["Download: plan.txt"]
    assert followed["followup_codename"] == codename
    assert followed["new_codename_shown"] is False
    assert "same codename" in followed["sent_text"]
    assert followed.get("sent_text_hidden", False) is False
    assert followed["server_decrypted"] is (not scripted)
    assert [e for e in followed["errors"] if "WebAssembly is not defined" not in e] == []
    assert server.recorder.csp_reports == []
    posts = server.recorder.paths("POST")
    lookups = [p for p in server.recorder.paths("GET") if p.startswith("/api/v1/mailboxes/")]
    if scripted:
        # The browser fetched ciphertext by mailbox; the codename never went to the server.
        assert lookups and "/replies" not in posts and "/submit" not in posts
        # The reply is format v2, opened with WebCrypto: libsodium was never fetched.
        assert SODIUM not in server.recorder.paths("GET")
    else:
        assert "/replies" in posts and posts.count("/submit") == 2 and lookups == []

    second_bundle = tmp_path / "second.tar"
    [second_id] = export_bundle(server.app, second_bundle)
    reviewer.open(second_bundle)
    found = thread(Vault(reviewer.vault), second_id)
    assert found is not None
    _, messages = found
    assert len(messages) == 3
    kinds = [("reply" if m.reply is not None else "submission", m.id) for m in messages]
    assert kinds == [("submission", first_id), ("reply", reply.id), ("submission", second_id)]

    check_nothing_readable_on_disk(server, codename)


def test_replies_page_with_javascript_typo_wrong_codename_and_delete(node, tmp_path, intake_server):
    """At Safer: a typo is named, a wrong codename reads as "no replies", the right one shows
    the replies in its legacy mailbox (a thread begun before mailbox v2) and in its mailbox v2
    (derived in the browser with WebCrypto's PBKDF2 and the deployment's salt), and their
    delete buttons remove each from the server."""
    require_executable(FIREFOX, "firefox-esr")
    server = intake_server
    codename = Codename.generate()
    keys = codename.derive(server.app.extensions["sealdrop_mailbox_salt"])
    # A reply written before format v2 and mailbox v2: the page fetches libsodium for it.
    old = io.BytesIO()
    with Sealer(old, [keys.public_key], version=1) as sealer:
        sealer.add_message(REPLY)
    envelope, newer = old.getvalue(), seal_bytes([keys.public_key], REPLY_V2)
    bundle = tmp_path / "replies.tar"
    with bundle.open("wb") as out:
        writer = BundleWriter(out, kind="replies")
        add = writer.add
        add("r1", hour_stamp(), io.BytesIO(envelope), len(envelope), mailbox=keys.legacy_mailbox)
        add("r2", hour_stamp(), io.BytesIO(newer), len(newer), mailbox=keys.mailbox)
        writer.close()
    import_replies(server.app, bundle)
    spec = {
        "level": "safer",
        "url": server.url,
        "step": "manage",
        "typo": "abandon ability able",
        "wrong": str(Codename.generate()),
        "codename": str(codename),
        "replies": 2,
    }
    report = drive(node, tmp_path, spec)
    assert report["followup_hidden_before"] is True
    assert report["typo_text"].startswith("A codename has 8 words; this has 3.")
    assert report["no_replies_text"].startswith("There are no replies for this codename.")
    assert sorted(report["replies"]) == sorted([REPLY, REPLY_V2])
    print(f"codename check at Safer (derive, list, fetch, open): {report['check_ms']} ms")
    assert report["deleted_text"] == "The reply was deleted from the server."
    assert report["still_there_after_first_press"] is True
    for mailbox in keys.mailboxes:
        assert server.app.extensions["sealdrop_replies"].list(mailbox) == []
    assert sorted(server.recorder.paths("DELETE")) == sorted(
        [
            f"/api/v1/mailboxes/{keys.legacy_mailbox}/replies/r1",
            f"/api/v1/mailboxes/{keys.mailbox}/replies/r2",
        ]
    )
    assert server.recorder.paths("POST") == []  # the codename never left the browser
    assert server.recorder.paths("GET").count(SODIUM) == 1
    assert server.recorder.csp_reports == []
