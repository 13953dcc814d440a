"""An intake app with follow-up settings for tests, and helpers to make replies bundles."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from crypto import Attachment, PublicKey, seal_bytes
from crypto.bundle import BundleWriter, hour_stamp
from crypto.codename import Codename
from tests.intake.conftest import Intake, build, captured_log, live, watched_tmp  # noqa: F401

CODENAME_IN_PAGE = re.compile(r'<code id="codename">([a-zа-яё ]+)</code>')


@pytest.fixture
def make_intake(tmp_path: Path, watched_tmp: Path, captured_log: io.StringIO):  # noqa: F811
    def make(**extra: object) -> Intake:
        extra.setdefault("FOLLOWUP_FLOOR_MS", 0)
        return build(tmp_path, watched_tmp, captured_log, **extra)

    return make


@pytest.fixture
def intake(make_intake) -> Intake:
    return make_intake()


def reply_envelope(
    key: PublicKey, text: str, files: Sequence[tuple[str, str, bytes]] = ()
) -> bytes:
    return seal_bytes([key], text, [Attachment(n, t, b) for n, t, b in files])


def write_bundle(path: Path, replies: Sequence[tuple[str, str, bytes]]) -> Path:
    """replies: (id, mailbox, envelope)."""
    with path.open("wb") as out:
        writer = BundleWriter(out, kind="replies")
        for reply_id, mailbox, envelope in replies:
            writer.add(reply_id, hour_stamp(), io.BytesIO(envelope), len(envelope), mailbox=mailbox)
        writer.close()
    return path


def salt_of(intake: Intake) -> bytes:
    """The test deployment's mailbox salt (made by init, as every deployment's is)."""
    salt: bytes = intake.app.extensions["sealdrop_mailbox_salt"]
    return salt


def reply_bundle(
    path: Path,
    codename: Codename,
    text: str,
    reply_id: str = "r1",
    salt: bytes | None = None,
    **kw,
) -> Path:
    """A bundle of one reply to the codename's mailbox: the deployment's v2 id with ``salt``,
    else the legacy id (a thread begun before mailbox v2)."""
    keys = codename.derive(salt)
    envelope = reply_envelope(keys.public_key, text, **kw)
    return write_bundle(path, [(reply_id, keys.mailbox, envelope)])


def check(client, codename: str, lang: str = "en"):
    return client.post(
        f"/replies?lang={lang}",
        data={"codename": codename},
        content_type="application/x-www-form-urlencoded",
    )


def submit(client, message: str, codename: str | None = None, lang: str = "en"):
    data: dict[str, object] = {"message": message}
    if codename is not None:
        data["codename"] = codename
    return client.post(f"/submit?lang={lang}", data=data, content_type="multipart/form-data")


def codename_of(response) -> str:
    match = CODENAME_IN_PAGE.search(response.get_data(as_text=True))
    assert match, "the confirmation page shows no codename"
    return match.group(1)
