"""Signed confirmations (docs/FORMAT.md §8.5) against the committed vectors: the good one
verifies to exactly what it confirms; forged ones are refused; one from a reviewer whose
signing key the server lacks counts nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto.confirmation import (
    ForgedConfirmation,
    UncheckableConfirmation,
    verify_confirmation,
)
from crypto.team import SigningPublicKey

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "team" / "confirmations.json").read_text()
)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["name"])
def test_confirmation_vectors(case: dict) -> None:
    keys = {k: SigningPublicKey.from_line(v) for k, v in case["server_keys"].items()}
    if case["expect"] == "ok":
        confirmed = verify_confirmation(case["confirmation"], keys)
        expected = VECTORS["confirmed"]
        assert confirmed.reviewer == expected["reviewer"]
        assert list(confirmed.submissions) == expected["submissions"]
        assert list(confirmed.events) == expected["events"]
        return
    error = ForgedConfirmation if case["expect"] == "forged" else UncheckableConfirmation
    with pytest.raises(error):
        verify_confirmation(case["confirmation"], keys)


@pytest.mark.parametrize("text", ["", "!!!", "AAAA", 5, None, "A" * 200])
def test_garbage_is_a_forged_confirmation_never_a_crash(text: object) -> None:
    with pytest.raises(ForgedConfirmation):
        verify_confirmation(text, {})
