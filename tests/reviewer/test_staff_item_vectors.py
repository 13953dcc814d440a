"""The staff-event vectors (tests/vectors/team/) through the reviewer's whole §8.2 reader: the
envelope's shape, the signer, the item's JSON and record rules, then the author rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto import Identity
from crypto.team import ForgedEvent, read_member_card
from reviewer.caselog import CaseLogError
from reviewer.sync import open_staff_item

TEAM = Path(__file__).parent.parent / "vectors" / "team"
MEMBERS = json.loads((TEAM / "members.json").read_text())
CASES = sorted(p.stem for p in TEAM.glob("*.sdenv"))
RAISED = {"forged": ForgedEvent, "malformed": CaseLogError}


@pytest.mark.parametrize("name", CASES)
def test_staff_item_vector(name: str) -> None:
    doc = json.loads((TEAM / f"{name}.json").read_text())
    members = [read_member_card(MEMBERS[m]["card"]) for m in doc["team"]]
    reader = Identity(bytes.fromhex(MEMBERS[doc["open_with"]]["secret_key_hex"]))
    envelope = (TEAM / f"{name}.sdenv").read_bytes()
    if doc["expect"] == "ok":
        event, _, item = open_staff_item(envelope, reader, members)
        assert event.author == members[doc["team"].index(doc["author"])].key_id_hex
        assert item["event"] == event.to_record()
        return
    with pytest.raises(RAISED[doc["expect"]]):
        open_staff_item(envelope, reader, members)
