"""codename-typing.json (FORMAT.md §5.2, §5.3): each typing rule, its failures and the version
decision, read by crypto/ and by the minimal reader written from the spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto.codename import Codename, InvalidCodename

from . import minimal_decoder

CASES = json.loads(
    (Path(__file__).parent.parent / "vectors" / "codename-typing.json").read_text("utf-8")
)["cases"]


def crypto_reads(text: str) -> dict:
    try:
        codename = Codename.parse(text)
    except InvalidCodename as error:
        if error.count is not None:
            return {"error": "count", "count": error.count}
        return {"error": "word", "position": error.position}
    version = 1 if codename.legacy else 2
    return {"version": version, "canonical": str(codename), "secret_hex": codename.secret().hex()}


@pytest.mark.parametrize("case", CASES, ids=[c["about"] for c in CASES])
def test_typing_vector(case: dict) -> None:
    assert crypto_reads(case["typed"]) == case["expect"]
    assert minimal_decoder.read_codename(case["typed"]) == case["expect"]
