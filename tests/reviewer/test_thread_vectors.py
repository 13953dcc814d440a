"""threads.json (FORMAT.md §5.6): which submissions naming one reply key form its thread, as
the reviewer decides and as the minimal reader written from the spec decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto.followup import Proof
from reviewer.caselog import conversation_id
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


def test_conversation_id_vectors() -> None:
    """conversation-ids.json (FORMAT.md §8.2): the id staff events give a conversation."""
    cases = json.loads(
        (Path(__file__).parent.parent / "vectors" / "conversation-ids.json").read_text()
    )
    for case in cases:
        assert conversation_id(case["reply_key"], case["first_submission"]) == case["conversation"]
        assert (
            minimal_decoder.conversation_id(case["reply_key"], case["first_submission"])
            == case["conversation"]
        )
