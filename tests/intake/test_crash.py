"""Invariant 4: a crash at the worst moment leaves nothing half-stored, and what it leaves is
cleaned up. The crash is real: a child process dies with os._exit mid-submission."""

from __future__ import annotations

import errno
import fcntl
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from intake import create_app, prepared
from intake.files import open_new, remove_unlocked, try_lock

from .conftest import Intake
from .helpers import post_form, seal


def _crash_during(config: dict[str, Any], where: str, envelope: bytes) -> None:
    """Runs in a child: submits, and dies at ``where`` without any cleanup code running."""
    from intake import registrar, sealwriter, storage

    app = create_app(config)
    if where == "before-commit":
        blobs = app.extensions["sealdrop"].settings.blob_dir

        def crash_once_published(*_args: Any) -> None:
            if any(blobs.iterdir()):  # the commit of the submission's row, not an earlier one
                os._exit(3)

        event.listen(app.extensions["sealdrop"].engine, "commit", crash_once_published)
        # A text sent whole is registered on the driver's connection (intake/registrar.py),
        # on PostgreSQL in one statement that is its own commit: die as it is about to run.
        registrar.Registrar.__call__ = crash_once_published  # type: ignore[method-assign,assignment]
    elif where == "mid-sealing":
        original = sealwriter.ChargingWriter.write

        def write(self: Any, data: bytes) -> int:
            if self.written > 100_000:
                os._exit(3)
            return original(self, data)

        sealwriter.ChargingWriter.write = write  # type: ignore[method-assign]
    elif where == "mid-upload":
        storage.Store.publish = lambda *a, **k: os._exit(3)  # type: ignore[method-assign]
    elif where in ("small-before-link", "small-before-rename"):
        if where == "small-before-rename":  # a file system without unnamed files
            storage.open_unnamed = lambda directory: None  # type: ignore[assignment]
        original_write = storage.write_all

        def write_then_die(fd: int, data: Any) -> None:
            original_write(fd, data)
            os._exit(3)

        storage.write_all = write_then_die  # type: ignore[assignment]
    client = app.test_client()
    if where == "mid-upload":
        created = client.post("/api/v1/uploads", json={"size": len(envelope)})
        upload_id = created.json["id"]  # type: ignore[index]
        # In two pieces: an upload in progress (sent whole, it would be stored at once).
        client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope[:100])
        client.put(f"/api/v1/uploads/{upload_id}?offset=100", data=envelope[100:])
        client.post(f"/api/v1/uploads/{upload_id}/finish", json={})
    else:
        # A small post is sealed in memory and stored whole; a large one streams to a file.
        size = 3 << 20 if where == "mid-sealing" else 300_000
        post_form(client, "crash", [("f.bin", "application/octet-stream", os.urandom(size))])
    os._exit(0)


@pytest.mark.parametrize(
    "where",
    ["small-before-link", "small-before-rename", "before-commit", "mid-sealing", "mid-upload"],
)
def test_a_crash_leaves_nothing_visible_and_cleanup_removes_the_rest(
    intake: Intake, where: str
) -> None:
    config = {
        "DATA_DIR": str(intake.settings.data_dir),
        "RECIPIENTS": [str(p) for p in intake.settings.recipient_files],
        "DISK_RESERVE_BYTES": 0,
    }
    envelope = seal([intake.public_key], "crash")
    child = multiprocessing.get_context("fork").Process(
        target=_crash_during, args=(config, where, envelope)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 3  # it really died mid-way
    left = {
        # A small envelope written, not yet named: its unnamed file died with the process.
        "small-before-link": ("blobs", None),
        # Without unnamed files: written to a temp name, not yet renamed, charged or registered.
        "small-before-rename": ("blobs", "temp_files"),
        # Renamed into place and its name made durable; the one commit never came.
        "before-commit": ("blobs", "orphan_blobs"),
        "mid-sealing": ("tmp", "temp_files"),
        "mid-upload": ("uploads", None),
    }[where]
    assert intake.counts()[0] == 0  # no submission is visible
    if where == "small-before-link":
        assert intake.files(left[0]) == []  # not even a file to clean up
    else:
        assert intake.files(left[0]) != []  # the crash did leave something behind
    assert intake.app.extensions["sealdrop"].ledger().stored == 0  # nor charged for it
    store = intake.app.extensions["sealdrop"]
    if where == "mid-upload":
        # An unfinished upload is not an orphan: it can still be resumed until it expires.
        assert store.cleanup()["expired_uploads"] == 0
        assert store.cleanup(now=2e10)["expired_uploads"] == 1
    elif left[1] is None:
        assert not any(store.cleanup().values())
    else:
        assert store.cleanup()[left[1]] == 1
    intake.assert_nothing_stored()


def test_a_busy_database_is_a_readable_refusal_and_loses_nothing(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = intake.app.extensions["sealdrop"].engine

    def locked(connection: object) -> None:
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    def driver_locked(*_args: object, **_params: object) -> None:
        # A text's statements run on the driver's connection (intake/registrar.py).
        raise engine.dialect.loaded_dbapi.OperationalError("database is locked")

    monkeypatch.setattr(prepared.Prepared, "run", driver_locked)

    envelope = seal([intake.public_key], "hello")
    upload_id = intake.client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope[:100])
    intake.client.put(f"/api/v1/uploads/{upload_id}?offset=100", data=envelope[100:])
    event.listen(engine, "commit", locked)
    response = post_form(intake.client, "hello", lang="ru")
    assert response.status_code == 503
    assert "Сервер перегружен" in response.get_data(as_text=True)
    busy = intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={})
    assert busy.status_code == 503 and busy.json["error"] == "busy"
    assert intake.files("blobs") == []
    event.remove(engine, "commit", locked)
    monkeypatch.undo()
    # The browser retries a busy answer: the upload is still there and now finishes.
    assert intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code == 201
    assert intake.counts() == (1, 0)
    assert intake.files("tmp") == []
    assert "database is locked" not in intake.log.getvalue()


def test_cleanup_never_takes_a_file_being_created_for_an_orphan(intake: Intake) -> None:
    """Between creating a file and locking it (or inserting an upload's row) there is a
    moment; another worker starting up and cleaning must not delete the file in it."""
    store = intake.app.extensions["sealdrop"]
    fresh = intake.settings.upload_dir / "fresh.part"
    cleaner = threading.Thread(target=store.cleanup)
    with store._creating():
        fresh.write_bytes(b"")  # created, not yet locked, no row yet
        cleaner.start()
        cleaner.join(0.5)
        assert cleaner.is_alive()  # it waits for the creation to finish
        assert fresh.exists()
        store._start("fresh", 1, True, nojs=False)  # its row (at its first bytes)
    cleaner.join(30)
    assert not cleaner.is_alive()
    assert fresh.exists()  # complete now, with its row: not an orphan


def test_a_new_file_is_locked_before_its_name_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small text's file is created outside the creation lock: if its name appeared before
    its lock, another worker's start-up cleanup could take it for a dead writer's and delete
    it (the text was then refused "busy"), and a retry of an upload's first chunk could lock
    it before its creator and find no row for it (refused "not found")."""
    target = tmp_path / "text.partial"
    name_seen_at_lock: list[bool] = []
    real_flock = fcntl.flock

    def flock(fd: int, operation: int) -> None:
        name_seen_at_lock.append(target.exists())
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    handle = open_new(target)
    monkeypatch.undo()
    assert name_seen_at_lock == [False]
    with handle:
        handle.write(b"sealed")
        assert target.exists()
        with open(target, "rb") as other:
            assert not try_lock(other)
        assert remove_unlocked(target) == 0
    assert target.read_bytes() == b"sealed"
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_without_unnamed_files_a_new_file_is_still_created_private_and_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system without O_TMPFILE (open(2) answers EOPNOTSUPP) still gets its files."""
    real_open = os.open

    def no_tmpfile(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_TMPFILE == os.O_TMPFILE:
            raise OSError(errno.EOPNOTSUPP, "not supported")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_tmpfile)
    target = tmp_path / "text.partial"
    with open_new(target):
        monkeypatch.undo()
        with open(target, "rb") as other:
            assert not try_lock(other)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
