"""The upload API's JSON body is read by the strict parser (issue 10, item 4): hostile JSON
gets the same 400 sentence as any malformed body, never a traceback."""

from __future__ import annotations

import pytest

from crypto.envelope import header_length, sealed_payload_length

from .conftest import Intake

DEEP = b'{"size": ' + b"[" * 1000 + b"]" * 1000 + b"}"
DEEP_TOP = b"[" * 2000 + b"]" * 2000


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        DEEP_TOP,
        b'{"size": SIZE, "size": SIZE}',
        b'{"size": Infinity}',
        b'{"size": NaN}',
        b'{"size": 1e400}',
        b'\xef\xbb\xbf{"size": SIZE}',
        b'{"size": SIZE, "note": "\\ud800"}',
        b'{"size": SIZE}\x00',
    ],
)
def test_hostile_json_is_refused_as_malformed(intake: Intake, body: bytes) -> None:
    size = header_length(len(intake.settings.recipients)) + sealed_payload_length(2048)
    body = body.replace(b"SIZE", str(size).encode())
    response = intake.client.post("/api/v1/uploads", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == "malformed"
    assert len(response.json["message"]) > 20
    intake.assert_nothing_stored()


def test_the_same_body_written_plainly_is_accepted(intake: Intake) -> None:
    size = header_length(len(intake.settings.recipients)) + sealed_payload_length(2048)
    body = b'{"size": %d, "note": "\\u00e9"}' % size
    response = intake.client.post("/api/v1/uploads", data=body, content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
