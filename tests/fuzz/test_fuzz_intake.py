"""The server's parsers, through Flask's test client: the upload API's JSON and offsets, the
no-JavaScript multipart form, and codename input. Every answer is a page or a JSON error with
a sentence (never a 500); a refused form leaves nothing stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import Identity, wordlists
from crypto.codename import Codename, InvalidCodename, legacy_wordlist
from crypto.envelope import header_length, sealed_payload_length
from tests.intake.conftest import make_config

from .harness import fuzz_target
from .strategies import json_text, mutated

BOUNDARY = "b0undary"
CODENAMES = [
    "abandon ability able about above absent absorb abstract",
    "  ABANDON-abil Able about, abov absent absorbing abstract\n",
    "zoo zone youth year wrong zero act add",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    from intake import create_app
    from intake.setup import init_data_dir

    config = make_config(
        tmp_path_factory.mktemp("intake"), [Identity.generate()], FOLLOWUP_FLOOR_MS=0
    )
    config["FOLLOWUP_CHECKS_PER_MINUTE"] = 1_000_000
    init_data_dir(config)
    return create_app(config)


def submissions(app) -> int:
    from intake.db import Submission

    with Session(app.extensions["sealdrop"].engine) as session:
        return session.scalar(select(func.count()).select_from(Submission)) or 0


def assert_json_error(response, allowed: set[int]) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in allowed, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        body = response.get_json()
        assert body["error"] and len(body["message"]) > 20


def valid_size(app) -> int:
    settings = app.extensions["sealdrop"].settings
    return header_length(len(settings.recipients)) + sealed_payload_length(2048)


@given(body=json_text() | st.builds(lambda n: json.dumps({"size": n}).encode(), st.integers()))
@fuzz_target("upload API JSON", scale=0.5)
def test_upload_json(app, body: bytes) -> None:
    response = app.test_client().post("/api/v1/uploads", data=body, content_type="application/json")
    assert_json_error(response, {201, 400, 413})


@given(
    offset=st.one_of(
        st.integers(-5, 1 << 70).map(str),
        st.text(max_size=12),
        st.sampled_from(["", "0x10", "1e3", "²", "١٢", " 0", "+0", "0" * 40]),
    ),
    chunk=st.binary(max_size=300),
    finish=st.booleans(),
)
@fuzz_target("upload API offsets", scale=0.5)
def test_upload_offsets(app, offset: str, chunk: bytes, finish: bool) -> None:
    client = app.test_client()
    created = client.post("/api/v1/uploads", json={"size": valid_size(app)})
    assert created.status_code == 201
    upload = created.get_json()["id"]
    response = client.put(f"/api/v1/uploads/{upload}", query_string={"offset": offset}, data=chunk)
    assert_json_error(response, {200, 400, 404, 409})
    if finish:
        finished = client.post(f"/api/v1/uploads/{upload}/finish", json={})
        assert_json_error(finished, {201, 400, 404})


def _part(name: bytes, value: bytes, filename: bytes | None = None) -> bytes:
    disposition = b'form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    head = b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: " + disposition
    return head + b"\r\nContent-Type: application/octet-stream\r\n\r\n" + value + b"\r\n"


@st.composite
def multipart(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from([b"message", b"attachments", b"codename", b"x", b""]))
        value = draw(st.binary(max_size=64) | st.sampled_from([b"hello", "ключ".encode()]))
        filename = draw(st.none() | st.sampled_from([b"a.txt", b"", b"../x", "ф.jpg".encode()]))
        parts.append(_part(name, value, filename))
    body = b"".join(parts) + draw(st.sampled_from([b"--b0undary--\r\n", b"", b"--b0undary"]))
    return draw(mutated([body], max_mutations=2)) if draw(st.booleans()) else body


@given(body=multipart(), boundary=st.sampled_from([BOUNDARY, BOUNDARY, "", "ä", "x" * 300]))
@fuzz_target("multipart form (no JavaScript)", scale=0.5)
def test_multipart(app, body: bytes, boundary: str) -> None:
    before = submissions(app)
    response = app.test_client().post(
        "/submit?lang=en",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code in {200, 303, 400, 413}, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert submissions(app) == before  # refused: nothing stored
        assert "was not sent" in response.get_data(as_text=True) or "nothing" in (
            response.get_data(as_text=True)
        )


typed_codenames = st.one_of(
    st.sampled_from(CODENAMES),
    # Words of every list, old and new, so that mixed and mistyped codenames are tried too.
    st.lists(
        st.sampled_from(legacy_wordlist() + wordlists.load("en") + wordlists.load("ru")),
        min_size=0,
        max_size=10,
    ).map(" ".join),
    mutated([c.encode() for c in CODENAMES], max_mutations=3).map(
        lambda b: b.decode("utf-8", "replace")
    ),
    st.text(max_size=80),
)


@given(text=typed_codenames)
@fuzz_target("codename input")
def test_codename_input(text: str) -> None:
    try:
        codename = Codename.parse(text)
    except InvalidCodename as error:
        assert str(error)
        return
    assert Codename.parse(str(codename)) == codename  # the canonical form reads back


@given(text=typed_codenames)
@fuzz_target("codename form (/replies)", scale=0.25)
def test_codename_form(app, text: str) -> None:
    response = app.test_client().post("/replies?lang=en", data={"codename": text})
    assert response.status_code in {200, 400, 429}, response.get_data(as_text=True)[:300]
