"""threads.json (FORMAT.md §5.6): which submissions naming one reply key form its thread, as
the reviewer decides and as the minimal reader written from the spec decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto.followup import Proof
from reviewer.threads import memberships
from tests.crypto import minimal_decoder

CASES = json.loads((Path(__file__).parent.parent / "vectors" / "threads.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["about"] for c in CASES])
def test_thread_vector(case: dict) -> None:
    submissions = case["submissions"]
    members = memberships(
        [s["mailbox"] for s in submissions], [Proof(s["proof"]) for s in submissions]
    )
    assert [s["id"] for s, member in zip(submissions, members, strict=True) if member] == case[
        "members"
    ]
    assert minimal_decoder.thread_members(submissions) == case["members"]
