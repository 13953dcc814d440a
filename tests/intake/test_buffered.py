"""A small no-JS post that nginx read whole into memory (it says so with
X-Sealdrop-Buffered: 1, a header only nginx sets) takes no slot among the slow streams: a text
gets through while slow or large bodies hold every slot (docs/THREAT_MODEL.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from intake.fairness import BUFFERED_HEADER, StreamGuard

from .conftest import Intake, build
from .helpers import post_form, seal


@pytest.fixture
def busy_intake(tmp_path: Path, watched_tmp: Path, captured_log) -> Intake:  # type: ignore[no-untyped-def]
    intake = build(
        tmp_path, watched_tmp, captured_log, WORKER_THREADS=2, STREAMING_THREADS_PERCENT=50
    )
    intake.app.extensions["sealdrop_streams"]._watch = False
    return intake


def test_a_text_nginx_holds_whole_gets_through_while_every_slot_is_taken(
    busy_intake: Intake,
) -> None:
    guard: StreamGuard = busy_intake.app.extensions["sealdrop_streams"]
    assert busy_intake.settings.streaming_threads == 1
    with guard.streaming(io.BytesIO()):
        assert post_form(busy_intake.client, "streamed").status_code == 503
        whole = post_form(busy_intake.client, "held whole", headers={BUFFERED_HEADER: "1"})
        assert whole.status_code == 200
        assert guard.active == 1  # it never took the slot
    assert busy_intake.counts() == (1, 0)


def test_a_js_text_nginx_holds_whole_gets_through_while_every_slot_is_taken(
    busy_intake: Intake,
) -> None:
    """Issue 17, G5: 40 circuits x 2 slow chunk PUTs held every slot and JS texts failed."""
    guard: StreamGuard = busy_intake.app.extensions["sealdrop_streams"]
    client = busy_intake.client
    envelope = seal([busy_intake.identity.public_key], "a text, sealed in the browser")
    upload_id = client.post("/api/v1/uploads", json={"size": len(envelope)}).json["id"]
    path = f"/api/v1/uploads/{upload_id}?offset=0"
    with guard.streaming(io.BytesIO()):
        streamed = client.put(path, data=envelope, content_type="application/octet-stream")
        assert streamed.status_code == 503
        whole = client.put(
            path,
            data=envelope,
            content_type="application/octet-stream",
            headers={BUFFERED_HEADER: "1"},
        )
        assert whole.status_code == 200 and whole.json["received"] == len(envelope)
        assert guard.active == 1  # it never took the slot
    assert client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code == 201
