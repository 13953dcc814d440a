"""Hostile bytes never crash the statement reader, the signing key reader or sealdrop-verify:
each gives its specific error (StatementError, BadSignature, InvalidPublicKey,
InvalidIdentityFile, WrongPassphrase) or a FAIL line, never another exception. Generators are
seeded with the vectors (tests/vectors/deployment/)."""

from __future__ import annotations

import contextlib
import http.client
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import InvalidIdentityFile, InvalidPublicKey, WrongPassphrase
from crypto.deployment import Statement, StatementError
from crypto.signing import BadSignature, SigningKey, SigningPublicKey
from verify import checks, epochs
from verify.fetch import Response

from . import vectors

DESCRIPTION = json.loads((vectors.DIRECTORY / "deployment.json").read_text())
KEY = SigningPublicKey.from_line(DESCRIPTION["signing_key_line"])
GOOD = (vectors.DIRECTORY / "ok.txt").read_bytes()
GOOD_V2 = (vectors.DIRECTORY / "ok-v2.txt").read_bytes()
KEY_FILE = (vectors.DIRECTORY / "signing-key.txt").read_text()


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        else:
            line_end = data.find(b"\n", at)
            data[at:at] = data[at : line_end + 1 if line_end >= 0 else len(data)]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutated(GOOD), mutated(GOOD_V2), st.binary(max_size=400)))
def test_a_statement_is_read_or_refused_with_its_own_error(data: bytes) -> None:
    with contextlib.suppress(StatementError, BadSignature):
        Statement.verify(data, KEY)
    with contextlib.suppress(StatementError):
        Statement.unverified(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutated(KEY.line.encode()), st.binary(max_size=80)))
def test_a_signing_key_line_is_read_or_refused(data: bytes) -> None:
    with contextlib.suppress(InvalidPublicKey):
        SigningPublicKey.from_text(data.decode("utf-8", "replace"))


@settings(max_examples=100, deadline=None)
@given(mutated(KEY_FILE.encode()))
def test_a_signing_key_file_is_read_or_refused(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    with contextlib.suppress(InvalidIdentityFile, WrongPassphrase, InvalidPublicKey):
        SigningKey.from_file_text(text, DESCRIPTION["signing_key_file_passphrase"])


def _response(body: bytes, csp: str = "script-src 'self'") -> Response:
    headers = http.client.HTTPMessage()
    headers["Content-Security-Policy"] = csp
    return Response(200, headers, body)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.just(b'<script type="application/json" id="sealdrop-config">' + b"[" * 100_000),
        st.just(
            b'<script type="application/json" id="sealdrop-config">{"recipients": '
            + b"[" * 50_000
            + b"</script>"
        ),
        st.just(b'<script type="application/json" id="sealdrop-config">{"recipients": 5}'),
        st.just(b'<script src="/static/js/evil.js"></script><script>alert(1)</script>'),
    )
)
def test_a_hostile_page_gives_lines_not_a_traceback(body: bytes) -> None:
    verifier = checks.Verifier("x.onion", 80, KEY, None, 1.0)
    verifier._get = lambda path, **how: _response(body)  # type: ignore[method-assign]
    signed = set(DESCRIPTION["statement"]["recipients"])
    visit = checks.Visit("GET", "/")
    lines = list(verifier._check_page(visit, {"js/app.js": "0" * 64}, signed))
    assert lines and all(line.status in (checks.OK, checks.FAIL, checks.ERROR) for line in lines)
    lines = list(verifier._check_config_api(signed))
    assert len(lines) == 1 and lines[0].status in (checks.OK, checks.FAIL)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
V2 = Statement.verify(GOOD_V2, KEY)
V2_KEY = V2.signing_keys[0][1]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        _JSON,
        st.fixed_dictionaries(
            {
                "format": st.just("sealdrop-epochs"),
                "reviewers": st.lists(
                    st.fixed_dictionaries(
                        {
                            "public_key": st.one_of(st.text(max_size=70), _JSON),
                            "signing_key": st.one_of(st.just(V2_KEY), _JSON),
                            "statement": st.one_of(
                                mutated(b"sealdrop-epochs-v1\nreviewer: x\n").map(
                                    lambda b: b.decode("latin-1")
                                ),
                                _JSON,
                            ),
                        }
                    ),
                    max_size=3,
                ),
            }
        ),
    )
)
def test_a_hostile_epochs_document_gives_lines_not_a_traceback(served: object) -> None:
    lines = epochs.judge("/api/v1/epochs", served, V2, 1.8e9)
    assert lines and all(line.status in (checks.OK, checks.FAIL) for line in lines)
