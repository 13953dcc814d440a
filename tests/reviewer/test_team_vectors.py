"""Member removal, the order it takes effect in, and the clock rule (docs/FORMAT.md §8.6,
§8.7) against the committed vectors in tests/vectors/team/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.caseevent import CaseLogError, clock_refusal, from_record
from reviewer.sync import after_removal, removal_cutoffs

TEAM = Path(__file__).parent.parent / "vectors" / "team"
REMOVALS = json.loads((TEAM / "member-removed.json").read_text())
CLOCKS = json.loads((TEAM / "clock.json").read_text())
ORDER = json.loads((TEAM / "removal-order.json").read_text())


@pytest.mark.parametrize("case", REMOVALS["cases"], ids=lambda case: case["name"])
def test_member_removed_vectors(case: dict) -> None:
    if case["expect"] == "ok":
        event = from_record(case["record"])
        assert (event.kind, event.conversation) == ("member-removed", "team")
    else:
        with pytest.raises(CaseLogError):
            from_record(case["record"])


@pytest.mark.parametrize("case", CLOCKS["cases"], ids=lambda case: case["description"])
def test_clock_vectors(case: dict) -> None:
    record = json.loads((TEAM / "member-removed.json").read_text())["cases"][0]["record"]
    record = {**record, "clock": case["event_clock"]}
    if case["expect"] == "refused":
        with pytest.raises(CaseLogError):
            from_record(record)
        return
    event = from_record(record)
    refusal = clock_refusal(event.clock, case["receiver_clock"])
    assert (refusal is None) == (case["expect"] == "merge"), refusal


@pytest.mark.parametrize("case", ORDER["cases"], ids=lambda case: case["description"][:40])
def test_removal_order_vectors(case: dict) -> None:
    events = [from_record(record) for record in case["events"]]
    cutoffs = removal_cutoffs(events, set(ORDER["members"]), ORDER["reader"])
    assert [e.id for e in events if after_removal(e, cutoffs)] == case["set_aside"]
