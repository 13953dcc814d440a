"""Submitting through both paths, and reading back what the server stored."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from crypto import Attachment, Contents, Identity, PublicKey, open_envelope, seal_bytes
from crypto.bundle import Bundle
from crypto.sinks import MemorySink


def post_form(
    client: FlaskClient,
    message: str | None,
    files: Sequence[tuple[str, str, bytes]] = (),
    lang: str = "en",
    **kwargs: Any,
) -> TestResponse:
    data: dict[str, Any] = {}
    if message is not None:
        data["message"] = message
    data["attachments"] = [(io.BytesIO(body), name, media) for name, media, body in files]
    return client.post(
        f"/submit?lang={lang}", data=data, content_type="multipart/form-data", **kwargs
    )


def seal(
    recipients: Sequence[PublicKey], message: str, files: Sequence[tuple[str, str, bytes]] = ()
) -> bytes:
    return seal_bytes(recipients, message, [Attachment(n, t, b) for n, t, b in files])


def upload(client: FlaskClient, envelope: bytes, chunk: int = 100_000) -> TestResponse:
    """Uploads through the chunk API the way the browser does; returns finish's response."""
    created = client.post("/api/v1/uploads", json={"size": len(envelope)})
    assert created.status_code == 201, created.json
    upload_id = created.json["id"]
    offset = 0
    while offset < len(envelope):
        put = client.put(
            f"/api/v1/uploads/{upload_id}?offset={offset}",
            data=envelope[offset : offset + chunk],
            content_type="application/octet-stream",
        )
        assert put.status_code == 200, put.json
        offset = put.json["received"]
    return client.post(f"/api/v1/uploads/{upload_id}/finish", json={})


def open_bundle(path: Path, identity: Identity, max_bytes: int = 64 << 20) -> list[Contents]:
    """Every envelope in an export bundle, opened and verified as the reviewer does."""
    opened = []
    with Bundle(path) as bundle:
        for _entry, reader in bundle.envelopes():
            opened.append(open_envelope(reader, [identity], MemorySink(max_bytes)))
            reader.check()
    return opened


def parts_of(contents: Contents) -> list[tuple[str, str | None, str | None, bytes]]:
    return [(p.info.kind, p.info.name, p.info.media_type, p.data or b"") for p in contents.parts]
