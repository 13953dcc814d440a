"""A no-JS post sent twice (a reload of the confirmation at Tor Browser's Safest level) is
stored once, and the person is told so, with the same codename shown again; the disk holds
neither the codename nor anything readable about the post."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from intake import resend
from intake.db import this_hour
from intake.resend import BodyHash, Resends

from .conftest import Intake

CODENAME = re.compile(r'<code id="codename">([^<]+)</code>')


def body(boundary: str, message: str, codename: str | None = None) -> bytes:
    parts = [("message", message)] + ([("codename", codename)] if codename else [])
    out = b""
    for name, value in parts:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    return out + f"--{boundary}--\r\n".encode()


def post(intake: Intake, data: bytes, boundary: str, lang: str = "en"):
    return intake.client.post(
        f"/submit?lang={lang}",
        data=data,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def stored(intake: Intake) -> int:
    return len(list(intake.settings.blob_dir.iterdir()))


def test_the_same_post_twice_is_stored_once(intake: Intake) -> None:
    boundary = "----geckoformboundary" + os.urandom(16).hex()
    data = body(boundary, "Сообщение, отправленное дважды")
    first = post(intake, data, boundary, "ru")
    codename = CODENAME.search(first.get_data(as_text=True)).group(1)
    assert stored(intake) == 1
    again = post(intake, data, boundary, "ru")
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and stored(intake) == 1
    assert 'id="sent-again"' in page
    assert CODENAME.search(page).group(1) == codename  # the same codename, shown again
    # Another sending of the same text (a new boundary) is a new submission.
    other = "----geckoformboundary" + os.urandom(16).hex()
    post(intake, body(other, "Сообщение, отправленное дважды"), other)
    assert stored(intake) == 2
    # Nothing readable on disk: not the codename, not the message.
    for path in Path(intake.settings.data_dir).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert codename.encode() not in content
            assert "дважды".encode() not in content
            assert int(path.stat().st_mtime) % 3600 == 0


def test_a_follow_up_sent_twice_is_stored_once(intake: Intake) -> None:
    boundary = "----WebKitFormBoundary" + os.urandom(8).hex()
    first = post(intake, body(boundary, "first"), boundary)
    codename = CODENAME.search(first.get_data(as_text=True)).group(1)
    other = "----WebKitFormBoundary" + os.urandom(8).hex()
    data = body(other, "a follow-up", codename)
    post(intake, data, other)
    again = post(intake, data, other)
    assert stored(intake) == 2
    page = again.get_data(as_text=True)
    assert 'id="sent-again"' in page and 'id="codename"' not in page


def test_a_tool_s_fixed_boundary_is_never_taken_for_a_resend(intake: Intake) -> None:
    """Two people sending the same words with a tool that reuses its boundary: two
    submissions, two codenames (the second is never shown the first one's)."""
    data = body("fixed-boundary-of-a-tool", "the same words")
    first = post(intake, data, "fixed-boundary-of-a-tool").get_data(as_text=True)
    second = post(intake, data, "fixed-boundary-of-a-tool").get_data(as_text=True)
    assert stored(intake) == 2
    assert CODENAME.search(first).group(1) != CODENAME.search(second).group(1)


def test_old_resends_are_deleted_and_the_directory_read_at_most_once_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resend, "_next_expiry", {})
    resends = Resends(tmp_path)
    resends.directory.mkdir()
    sent = BodyHash(b"----WebKitFormBoundary" + b"a1" * 8)
    sent.update(b"a text")
    three_hours_ago = this_hour() - 3 * 3600

    def old_file() -> Path:
        path = resends.directory / "old"
        path.write_bytes(b"x")
        os.utime(path, (three_hours_ago, three_hours_ago))
        return path

    old = old_file()
    resends.check(sent)
    assert not old.exists()
    old = old_file()
    resends.check(sent)  # within the minute: the directory is not read again
    assert old.exists()
    resend._next_expiry[resends.directory] = 0.0  # a minute later
    resends.check(sent)
    assert not old.exists()
