"""Every state-changing request refuses cross-site callers: a page on another site must not
be able to make its visitors' browsers submit, start uploads, or delete replies here."""

from __future__ import annotations

import pytest

from .conftest import Intake
from .helpers import post_form, seal, upload

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}


@pytest.mark.parametrize(
    "headers",
    [
        CROSS_SITE,
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://evil.example"},  # an older browser: no Sec-Fetch-Site
    ],
    ids=["both", "fetch-metadata", "origin-only"],
)
def test_cross_site_form_posts_are_refused_unread(intake: Intake, headers: dict) -> None:
    refused = post_form(intake.client, "forged", lang="ru", headers=headers)
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert "пришёл с другого сайта" in refused.get_data(as_text=True)
    assert refused.headers["Connection"] == "close"
    for path in ("/replies", "/replies/delete", "/replies/file"):
        response = intake.client.post(
            path,
            data={"codename": "x"},
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        assert response.status_code == 403, path
    intake.assert_nothing_stored()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # Tor Browser at Safest, old browsers: no header at all
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # our page (no-referrer policy)
        {"Sec-Fetch-Site": "none"},  # typed, or a bookmark
        {"Origin": "http://localhost"},  # the same host, from a browser without fetch metadata
    ],
    ids=["absent", "same-origin", "none", "same-host-origin"],
)
def test_own_pages_and_browsers_without_the_headers_get_through(
    intake: Intake, headers: dict
) -> None:
    assert post_form(intake.client, "hello", headers=headers).status_code == 200


def test_the_json_api_takes_only_json(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    plain = intake.client.post(
        "/api/v1/uploads", data=f'{{"size": {len(envelope)}}}', content_type="text/plain"
    )
    assert plain.status_code == 415 and plain.json["error"] == "wrong-type"
    assert "application/json" in plain.json["message"]
    form = intake.client.post(
        "/api/v1/uploads",
        data={"size": str(len(envelope))},
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 415
    created = intake.client.post("/api/v1/uploads", json={"size": len(envelope)})
    upload_id = created.json["id"]
    intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
    bare = intake.client.post(f"/api/v1/uploads/{upload_id}/finish")
    assert bare.status_code == 415
    assert intake.counts() == (1, 0)  # a small upload sent whole is stored at its PUT
    assert intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code == 201


def test_cross_site_api_calls_are_refused(intake: Intake) -> None:
    envelope = seal([intake.public_key], "hello")
    refused = intake.client.post(
        "/api/v1/uploads", json={"size": len(envelope)}, headers=CROSS_SITE
    )
    assert refused.status_code == 403 and refused.json["error"] == "cross-site"
    mailbox = "a" * 26
    deleted = intake.client.delete(f"/api/v1/mailboxes/{mailbox}/replies/r1", headers=CROSS_SITE)
    assert deleted.status_code == 403
    assert upload(intake.client, envelope).status_code == 201  # same-site still works
