"""import-replies: idempotent, integrity-checked, and expiry."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import Identity, seal_bytes
from crypto.codename import Codename
from intake.cli import main as intake_cli
from intake.export import export_bundle
from intake.replies import ImportError_, Reply, import_replies

from .conftest import reply_bundle, reply_envelope, write_bundle


def rows(intake) -> int:
    with Session(intake.app.extensions["sealdrop"].engine) as session:
        return session.scalar(select(func.count()).select_from(Reply)) or 0


def reply_files(intake) -> list[Path]:
    directory = intake.settings.data_dir / "replies"
    return sorted(directory.iterdir()) if directory.is_dir() else []


def test_import_is_idempotent(intake, tmp_path):
    codename = Codename.generate()
    bundle = reply_bundle(tmp_path / "r.tar", codename, "hello")
    assert import_replies(intake.app, bundle) == ["r1"]
    assert import_replies(intake.app, bundle) == []
    assert rows(intake) == 1
    [stored] = reply_files(intake)
    assert stored.name == "r1.sdenv" and stored.stat().st_mode & 0o777 == 0o600
    assert list(intake.files("tmp")) == []


def test_cli_imports_and_names_a_wrong_bundle(intake, tmp_path, monkeypatch):
    for key, value in {
        "SEALDROP_DATA_DIR": str(intake.settings.data_dir),
        "SEALDROP_RECIPIENTS": str(intake.settings.recipient_files[0]),
    }.items():
        monkeypatch.setenv(key, value)
    bundle = reply_bundle(tmp_path / "r.tar", Codename.generate(), "hello")
    result = CliRunner().invoke(intake_cli, ["import-replies", str(bundle)])
    assert result.exit_code == 0 and "imported 1 new reply" in result.output
    again = CliRunner().invoke(intake_cli, ["import-replies", str(bundle)])
    assert again.exit_code == 0 and "imported 0 new replies" in again.output
    # A submissions bundle brought to the wrong tool is refused with the right tool's name.
    export_bundle(intake.app, tmp_path / "subs.tar")
    wrong = CliRunner().invoke(intake_cli, ["import-replies", str(tmp_path / "subs.tar")])
    assert wrong.exit_code != 0 and "sealdrop-reviewer open" in wrong.output


def test_a_tampered_bundle_stores_nothing(intake, tmp_path):
    codename = Codename.generate()
    keys = codename.derive()
    good = reply_envelope(keys.public_key, "first")
    bad = bytearray(reply_envelope(keys.public_key, "second"))
    bundle = write_bundle(
        tmp_path / "r.tar", [("a1", keys.mailbox, good), ("b2", keys.mailbox, bytes(bad))]
    )
    data = bytearray(bundle.read_bytes())
    at = data.index(bytes(bad[200:232]))
    data[at] ^= 1  # one bit of the second envelope, after the first one was fine
    bundle.write_bytes(bytes(data))
    with pytest.raises(ImportError_, match="b2"):
        import_replies(intake.app, bundle)
    assert rows(intake) == 0 and reply_files(intake) == [] and intake.files("tmp") == []


def test_a_reply_for_several_keys_is_refused(intake, tmp_path):
    keys = Codename.generate().derive()
    two = seal_bytes([keys.public_key, Identity.generate().public_key], "to two")
    bundle = write_bundle(tmp_path / "r.tar", [("a1", keys.mailbox, two)])
    with pytest.raises(ImportError_, match="exactly one"):
        import_replies(intake.app, bundle)
    assert rows(intake) == 0


def test_not_an_envelope_is_refused(intake, tmp_path):
    keys = Codename.generate().derive()
    bundle = write_bundle(tmp_path / "r.tar", [("a1", keys.mailbox, b"x" * 3000)])
    with pytest.raises(ImportError_, match="not a well-formed reply"):
        import_replies(intake.app, bundle)
    assert rows(intake) == 0


def test_replies_expire_and_cleanup_deletes_them(make_intake, tmp_path):
    intake = make_intake(REPLY_TTL_DAYS=2)
    codename = Codename.generate()
    import_replies(intake.app, reply_bundle(tmp_path / "r.tar", codename, "soon gone"))
    replies = intake.app.extensions["sealdrop_replies"]
    mailbox = codename.derive().mailbox
    assert [r.id for r in replies.list(mailbox, now=time.time() + 86400)] == ["r1"]
    later = time.time() + 2 * 86400 + 3600
    assert replies.list(mailbox, now=later) == []  # hidden as soon as it expires
    assert replies.cleanup(now=time.time() + 86400)["expired_replies"] == 0
    assert replies.cleanup(now=later) == {"expired_replies": 1, "orphan_replies": 0}
    assert rows(intake) == 0 and reply_files(intake) == []


def test_cleanup_removes_a_reply_file_without_a_row(intake, tmp_path):
    import_replies(intake.app, reply_bundle(tmp_path / "r.tar", Codename.generate(), "x"))
    orphan = intake.settings.data_dir / "replies" / "orphan.sdenv"
    orphan.write_bytes(b"left by a crash")
    counts = intake.app.extensions["sealdrop_replies"].cleanup()
    assert counts == {"expired_replies": 0, "orphan_replies": 1}
    assert [p.name for p in reply_files(intake)] == ["r1.sdenv"]


def test_a_database_failure_during_import_leaves_no_reply_behind(intake, tmp_path):
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    engine = intake.app.extensions["sealdrop"].engine

    def refuse(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO replies"):
            raise OperationalError(statement, {}, Exception("database is locked"))

    event.listen(engine, "before_cursor_execute", refuse)
    bundle = reply_bundle(tmp_path / "r.tar", Codename.generate(), "kept once or not at all")
    try:
        with pytest.raises(OperationalError):
            import_replies(intake.app, bundle)
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert rows(intake) == 0 and reply_files(intake) == [] and intake.files("tmp") == []
    assert import_replies(intake.app, bundle) == ["r1"]  # and a retry stores it


def test_follow_up_settings_are_checked(tmp_path, watched_tmp, captured_log):
    from intake.config import ConfigError
    from tests.intake.conftest import build

    with pytest.raises(ConfigError, match="SEALDROP_REPLY_TTL_DAYS must be a whole number"):
        build(tmp_path, watched_tmp, captured_log, REPLY_TTL_DAYS="soon")
    with pytest.raises(ConfigError, match="SEALDROP_FOLLOWUP_CHECKS_PER_MINUTE must be at least 1"):
        build(tmp_path, watched_tmp, captured_log, FOLLOWUP_CHECKS_PER_MINUTE=0)
