"""The strict JSON reader and the records built on it: a JSONRefused (or MalformedContent)
sentence, or a value that the standard reader agrees with."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from crypto import MalformedContent, PartInfo, strictjson
from crypto.framing import decode_json

from .harness import fuzz_target
from .strategies import json_text, mutated, record_json

SEEDS = [b'{"kind":"file","name":"a.jpg","type":"image/jpeg"}', b'{"reply_key":null}', b"[1,2]"]


@given(json_text(objects=False) | mutated(SEEDS, max_mutations=3), st.integers(1, 40))
@fuzz_target("strict JSON")
def test_strict_json(data: bytes, depth: int) -> None:
    try:
        value = strictjson.loads(data, max_bytes=8192, max_depth=depth)
    except strictjson.JSONRefused as refused:
        assert str(refused)
        return
    assert value == json.loads(data.decode("utf-8"))  # the ordinary reader agrees
    assert json.loads(json.dumps(value)) == value  # and it writes back as it was read


@given(record_json)
@fuzz_target("BEGIN and CLOSE records")
def test_records_json(body: bytes) -> None:
    try:
        info = PartInfo.from_json(body)
    except MalformedContent as error:
        assert str(error)
    else:
        assert info.kind in ("message", "file", "field")
    try:
        trailer = decode_json(body, "CLOSE")
    except MalformedContent as error:
        assert str(error)
    else:
        assert isinstance(trailer, dict)
