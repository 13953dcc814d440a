"""The replies bundle the reviewer writes is the one the server imports (the interface of
issue 6): `export-replies` -> intake.replies.import_replies, idempotent, and what the server
stores opens with the codename's key."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reviewer_helpers import RECEIVED

from crypto import MemorySink, open_envelope, seal_bytes
from crypto.bundle import BundleWriter
from crypto.codename import Codename
from reviewer import replies
from reviewer.vault import Vault

pytest.importorskip("flask")  # the server extra; the reviewer never needs it
intake_replies = pytest.importorskip("intake.replies")
from intake.setup import init_data_dir  # noqa: E402


def test_the_server_imports_the_reviewers_replies_once(cli, keys, tmp_path: Path, vault: Path):
    person = Codename.generate().derive()
    envelope = seal_bytes(
        [keys.public],
        "please answer",
        trailer={"reply_key": person.public_key.line, "mailbox": person.mailbox},
    )
    bundle = tmp_path / "in.tar"
    with bundle.open("wb") as out:
        writer = BundleWriter(out)
        writer.add("sub1", RECEIVED, io.BytesIO(envelope), len(envelope))
        writer.close()
    assert cli("open", bundle, "--passphrase-file", keys.passphrase_file).exit_code == 0

    reply = replies.queue_reply(Vault(vault), "sub1", "we can help")
    out = tmp_path / "replies.tar"
    assert replies.export_replies(vault, out) == [reply.id]

    key_file = tmp_path / "reviewer.pub"
    key_file.write_text(keys.public.line + "\n")
    config = {
        "DATA_DIR": str(tmp_path / "server"),
        "RECIPIENTS": [str(key_file)],
        "DISK_RESERVE_BYTES": 0,
    }
    init_data_dir(config)
    assert intake_replies.import_replies(config, out) == [reply.id]
    assert intake_replies.import_replies(config, out) == []  # idempotent

    [stored] = [p for p in (tmp_path / "server").rglob(f"{reply.id}*") if p.is_file()]
    with stored.open("rb") as source:
        contents = open_envelope(source, [person.identity], MemorySink())
    assert contents.message is not None and contents.message.data == b"we can help"
