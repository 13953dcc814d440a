"""deploy/sealdrop-admin takes file names from where the admin runs it: a relative
`export --out` and `import-replies FILE` work from the admin's directory although the command
itself runs from /, and a file the service user cannot reach is named in a sentence."""

from __future__ import annotations

import io
import os
import pwd
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crypto import Identity, seal_bytes
from crypto.bundle import BundleWriter, hour_stamp
from crypto.codename import Codename
from intake import create_app

from .helpers import DEPLOY, multipart

ME = pwd.getpwuid(os.geteuid()).pw_name


@pytest.fixture
def admin(tmp_path: Path):
    identity = Identity.generate()
    key = tmp_path / "alice.pub"
    key.write_text(f"{identity.public_key.line}\n")
    data = tmp_path / "data"
    env_file = tmp_path / "sealdrop.env"
    env_file.write_text(f"SEALDROP_DATA_DIR={data}\nSEALDROP_RECIPIENTS={key}\n")
    env = {
        **os.environ,
        "SEALDROP_ENV_FILE": str(env_file),
        "SEALDROP_INTAKE": str(Path(sys.executable).parent / "sealdrop-intake"),
        "SEALDROP_USER": ME,
    }
    work = tmp_path / "admin's dir"  # a space, as a home directory may have
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DEPLOY / "sealdrop-admin"), *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
        )

    assert run("init").returncode == 0
    # The database the wrapper's commands use (the env file names none: SQLite in the data
    # directory), named so that the PostgreSQL test run does not swap it for its own.
    run.config = {  # type: ignore[attr-defined]
        "DATA_DIR": str(data),
        "RECIPIENTS": str(key),
        "DATABASE_URL": f"sqlite:///{data / 'sealdrop.db'}",
    }
    return run, work


def replies_bundle(path: Path) -> None:
    keys = Codename.generate().derive()
    envelope = seal_bytes([keys.public_key], "an answer")
    with path.open("wb") as out:
        writer = BundleWriter(out, kind="replies")
        writer.add("r1", hour_stamp(), io.BytesIO(envelope), len(envelope), mailbox=keys.mailbox)
        writer.close()


def test_relative_file_names_are_the_admins(admin) -> None:
    run, work = admin
    exported = run("export", "--out", "today.sdbundle")
    assert exported.returncode == 0, exported.stderr
    assert (work / "today.sdbundle").is_file()
    assert f"to {work}/today.sdbundle" in exported.stdout

    replies_bundle(work / "replies.tar")
    imported = run("import-replies", "replies.tar")
    assert imported.returncode == 0, imported.stderr
    assert "imported 1 new reply" in imported.stdout
    assert "replies waiting to be read: 1, the next expires 20" in run("status").stdout
    again = run("import-replies", "./replies.tar")
    assert again.returncode == 0 and "imported 0 new replies" in again.stdout


def test_a_file_the_service_user_cannot_reach_is_named(admin) -> None:
    run, work = admin
    result = run("import-replies", "missing.tar")
    assert result.returncode == 1
    assert f"cannot read {work}/missing.tar" in result.stderr
    assert "/var/lib/sealdrop-export" in result.stderr
    result = run("export", "--out", "no/such/dir/x.sdbundle")
    assert result.returncode == 1 and f"cannot write into {work}/no/such/dir" in result.stderr


def test_status_shows_what_waits_in_counts_and_hours(admin) -> None:
    run, _ = admin
    assert run("status").stdout.startswith("to export: 0 submission(s), 0 B, the oldest received -")
    body, content_type = multipart({"message": "waiting"}, [])
    client = create_app(run.config).test_client()
    assert client.post("/submit?lang=en", data=body, content_type=content_type).status_code == 200
    lines = run("status").stdout.splitlines()
    assert re.fullmatch(
        r"to export: 1 submission\(s\), [0-9.]+ KiB, the oldest received "
        r"\d{4}-\d\d-\d\d \d\d:00 UTC",
        lines[0],
    ), lines
    assert lines[1].startswith("exported, not purged: 0 submission(s)")
    # Issue 17, G1: what uploads under way hold is shown (a text sent whole holds nothing).
    assert "uploads in progress: 0, holding 0 B" in lines[3], lines
    assert lines[4].startswith("storage used: ") and lines[4].endswith("(no budget)"), lines
    assert run("export", "--out", "b.sdbundle").returncode == 0
    assert run("status").stdout.splitlines()[1].startswith("exported, not purged: 1 submission(s)")
