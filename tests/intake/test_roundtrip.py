"""What goes in by either path comes out of an export bundle byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

from intake.export import export_bundle

from .conftest import Intake
from .helpers import open_bundle, parts_of, post_form, seal, upload

MESSAGE = "Привет. Line two\r\nwith CRLF, and ✓ emoji 🙂"
BINARY = bytes(range(256)) * 1500  # 384 000 bytes: several chunks, every byte value
FILES = [
    ("фото 1.jpg", "image/jpeg", BINARY),
    ("empty.txt", "text/plain", b""),
    ("semi;colon, spaces.txt", "application/octet-stream", b"\r\n--not-a-boundary\r\n" * 100),
]


def test_both_paths_round_trip(intake: Intake, tmp_path: Path) -> None:
    assert post_form(intake.client, MESSAGE, FILES).status_code == 200
    js = upload(intake.client, seal([intake.public_key], MESSAGE, FILES))
    assert js.status_code == 201
    assert js.json == {"status": "stored"}

    ids = export_bundle(intake.app, tmp_path / "bundle.tar")
    assert len(ids) == 2
    # 128 random bits, lowercase base32 without padding.
    assert all(re.fullmatch(r"[a-z2-7]{26}", submission_id) for submission_id in ids)
    opened = open_bundle(tmp_path / "bundle.tar", intake.identity)
    expected = [("message", None, None, MESSAGE.encode()), *[("file", *f) for f in FILES]]
    assert [parts_of(contents) for contents in opened] == [expected, expected]


def test_empty_file_inputs_and_unknown_fields_are_dropped(intake: Intake, tmp_path: Path) -> None:
    response = intake.client.post(
        "/submit",
        data={"message": "hi", "attachments": [(b"", "")], "other": "dropped"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    export_bundle(intake.app, tmp_path / "b.tar")
    [contents] = open_bundle(tmp_path / "b.tar", intake.identity)
    assert parts_of(contents) == [("message", None, None, b"hi")]


def test_files_without_a_message(intake: Intake, tmp_path: Path) -> None:
    assert post_form(intake.client, None, [("a.bin", "x/y", b"abc")]).status_code == 200
    export_bundle(intake.app, tmp_path / "b.tar")
    [contents] = open_bundle(tmp_path / "b.tar", intake.identity)
    assert parts_of(contents) == [("file", "a.bin", "x/y", b"abc")]
