"""End to end: reviewer keys -> intake submissions by both paths (the no-JS form, sealed by
the server as it streams in; and the upload API with an envelope sealed on the client side)
-> `sealdrop-intake export` -> `sealdrop-reviewer open` -> show/save give the same bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from reviewer_helpers import PASSPHRASE, seal

from crypto import PublicKey
from reviewer.cli import main as reviewer

intake = pytest.importorskip("intake")  # the server extra; the reviewer never needs it
from intake.cli import main as intake_cli  # noqa: E402
from intake.setup import init_data_dir  # noqa: E402
from tests.intake.helpers import upload  # noqa: E402

MESSAGE = "Они пришли ночью. Line two\r\nwith CRLF ✓"
PHOTO = bytes(range(256)) * 1500  # 384,000 bytes: several chunks, every byte value
FILES = [
    ("фото 1.jpg", "image/jpeg", PHOTO),
    ("notes.txt", "text/plain", b"plain\r\n--not-a-boundary\r\n" * 50),
]


def test_from_submission_to_saved_files(tmp_path: Path):
    runner = CliRunner()
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    keys = tmp_path / "keys"
    made = runner.invoke(
        reviewer, ["keygen", "--out", str(keys), "--passphrase-file", str(passphrase)]
    )
    assert made.exit_code == 0, made.output

    # The admin installs the public key on the server.
    config = {
        "DATA_DIR": str(tmp_path / "server"),
        "RECIPIENTS": [str(keys / "public.key")],
        "MAX_SUBMISSION_BYTES": 8 << 20,
        "DISK_RESERVE_BYTES": 0,
    }
    init_data_dir(config)
    app = intake.create_app(config)
    client = app.test_client()
    form = {
        "message": MESSAGE,
        "attachments": [(io.BytesIO(body), name, media) for name, media, body in FILES],
    }
    sent = client.post("/submit", data=form, content_type="multipart/form-data")
    assert sent.status_code in (200, 303), sent.status_code  # a thank-you page or a redirect
    envelope = seal([PublicKey.from_file(keys / "public.key")], MESSAGE, FILES)
    assert upload(client, envelope).status_code == 201

    bundle = tmp_path / "export.tar"
    env = {
        "SEALDROP_DATA_DIR": config["DATA_DIR"],
        "SEALDROP_RECIPIENTS": config["RECIPIENTS"][0],
        "SEALDROP_DISK_RESERVE_BYTES": "0",
    }
    exported = runner.invoke(intake_cli, ["export", "--out", str(bundle)], env=env)
    assert exported.exit_code == 0, exported.output
    assert "exported 2 submission(s)" in exported.output

    # On the offline machine.
    vault = tmp_path / "vault"
    common = {"SEALDROP_VAULT": str(vault), "COLUMNS": "250"}

    def run(*args: str | Path) -> str:
        result = runner.invoke(reviewer, [str(a) for a in args], env=common)
        assert result.exit_code == 0, result.output
        return result.output

    opened = run("open", bundle, "--key", keys / "identity.key", "--passphrase-file", passphrase)
    assert "2 opened, 0 already in the vault, 0 failed" in opened
    ids = [line.split()[1] for line in run("list").splitlines() if "unread" in line]
    assert len(ids) == 2
    for submission_id in ids:
        shown = run("show", submission_id)
        assert MESSAGE.replace("\r\n", "\n") in shown
        assert "фото 1.jpg" in shown and "notes.txt" in shown
        out = tmp_path / "saved" / submission_id
        run("save", submission_id, "--out", out, "--keep-metadata")
        assert sorted(p.name for p in out.iterdir()) == sorted(name for name, _, _ in FILES)
        for name, _, body in FILES:
            assert (out / name).read_bytes() == body
        message_part = vault / "submissions" / submission_id / "part-000"
        assert message_part.read_bytes() == MESSAGE.encode()
    assert "0 opened, 2 already in the vault" in run(
        "open", bundle, "--passphrase-file", passphrase, "--key", keys / "identity.key"
    )
