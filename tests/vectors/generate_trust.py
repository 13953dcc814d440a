"""Writes the vectors of signed confirmations, member removal and the clock rule
(docs/FORMAT.md §8.5–8.7) to tests/vectors/team/: confirmations.json, member-removed.json,
clock.json, removal-order.json. Ed25519 is deterministic and nothing is sealed, so
regenerating writes the same bytes. Run: .venv/bin/python -m tests.vectors.generate_trust
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from crypto import Identity
from crypto.confirmation import CONTEXT, sign_confirmation
from crypto.team import Signer
from reviewer.caseevent import CLOCK_LIMIT, MAX_CLOCK_STEP

from .generate import SECRET_A, SECRET_B

SECRET_C = bytes(range(201, 233))

HERE = Path(__file__).parent / "team"
SUBMISSIONS = ["k3xq5vz7ab2c", "m7r2tq4pwz9e"]
EVENTS = ["ma56fsw3ddg2k4b7q2n5x6c3ya"]


def _write(name: str, data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    (HERE / name).write_text(text, encoding="utf-8")


def confirmations() -> None:
    a, b = Identity(SECRET_A), Identity(SECRET_B)
    a_id, b_id = a.public_key.key_id_hex, b.public_key.key_id_hex
    keys = {a_id: Signer(a).public_key.line, b_id: Signer(b).public_key.line}
    good = sign_confirmation(Signer(a), a_id, SUBMISSIONS, EVENTS).text
    blob = base64.b64decode(good)
    altered = bytearray(blob)
    altered[-3] ^= 1  # an id changed after a signed

    def signed_body(body: bytes, by: Identity = a) -> str:
        signer = Signer(by)
        public = signer.public_key.raw
        return base64.b64encode(public + signer.sign(CONTEXT + public + body) + body).decode()

    cases = [
        ("ok", good, keys, "ok", "a confirms two submissions and one staff event"),
        (
            "fail-signed-by-another-member",
            sign_confirmation(Signer(b), a_id, SUBMISSIONS, ()).text,
            keys,
            "forged",
            "names a as the reviewer but is signed with b's key",
        ),
        (
            "fail-altered",
            base64.b64encode(bytes(altered)).decode(),
            keys,
            "forged",
            "a's signature, but the body was altered after signing",
        ),
        (
            "fail-unknown-field",
            signed_body(
                json.dumps(
                    {"v": 1, "reviewer": a_id, "submissions": [], "events": [], "x": 1}
                ).encode()
            ),
            keys,
            "forged",
            "signed by a, but the body has a field the format does not define",
        ),
        (
            "fail-version-2",
            signed_body(
                json.dumps({"v": 2, "reviewer": a_id, "submissions": [], "events": []}).encode()
            ),
            keys,
            "forged",
            "signed by a, but of a version this reader does not know",
        ),
        (
            "uncheckable",
            good,
            {b_id: keys[b_id]},
            "uncheckable",
            "a's good confirmation, read by a server that has no signing key for a",
        ),
    ]
    _write(
        "confirmations.json",
        {
            "about": "FORMAT.md §8.5; `server_keys` maps reviewer key ids to the signing-key "
            "lines the server holds; `expect`: ok, forged (refuse the bundle) or uncheckable "
            "(count nothing)",
            "context_hex": CONTEXT.hex(),
            "confirmed": {"reviewer": a_id, "submissions": SUBMISSIONS, "events": EVENTS},
            "cases": [
                {
                    "name": name,
                    "description": description,
                    "confirmation": text,
                    "server_keys": server_keys,
                    "expect": expect,
                }
                for name, text, server_keys, expect, description in cases
            ],
            "unsigned_acks": {
                "description": "the unsigned form older versions wrote in the manifest under "
                "`acks`: it MUST NOT count as a confirmation",
                "acks": {"reviewer": a_id, "submissions": SUBMISSIONS, "events": EVENTS},
            },
        },
    )


def _record(**changes: Any) -> dict[str, Any]:
    record = {
        "v": 1,
        "id": "aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "author": Identity(SECRET_A).public_key.key_id_hex,
        "clock": 7,
        "conversation": "team",
        "kind": "member-removed",
        "hour": "2026-11-24T12:00Z",
        "payload": {"key": Identity(SECRET_B).public_key.key_id_hex, "label": "b"},
    }
    record.update(changes)
    return record


def member_removed() -> None:
    cases = [
        ("ok", _record(), "ok", "a removes b"),
        (
            "fail-conversation",
            _record(conversation="sub1"),
            "refused",
            "a removal must be an event of the conversation `team`",
        ),
        (
            "fail-no-key",
            _record(payload={"label": "b"}),
            "refused",
            "names no member key id",
        ),
        (
            "fail-key-not-hex",
            _record(payload={"key": "B0C159FDE45A55D0", "label": "b"}),
            "refused",
            "a key id is 16 lowercase hex digits",
        ),
    ]
    _write(
        "member-removed.json",
        {
            "about": "FORMAT.md §8.6: case-log records of kind member-removed, as they sit in a "
            "staff item's `event`; `expect`: ok or refused (by the record check)",
            "cases": [
                {"name": n, "description": d, "record": r, "expect": e} for n, r, e, d in cases
            ],
        },
    )


def clock() -> None:
    cases = [
        (0, 1, "merge", "a first event"),
        (0, MAX_CLOCK_STEP, "merge", "exactly the step ahead of an empty vault"),
        (0, MAX_CLOCK_STEP + 1, "set-aside", "one more than the step ahead"),
        (10, 10 + MAX_CLOCK_STEP, "merge", "the step ahead of a vault at 10"),
        (CLOCK_LIMIT - 2, CLOCK_LIMIT - 1, "merge", "just below the limit"),
        (CLOCK_LIMIT - 1, CLOCK_LIMIT, "set-aside", "at the limit, however close"),
        (5, (1 << 53) - 1, "set-aside", "2^53 - 1: the attack of issue 17 G4"),
        (5, 0, "refused", "not a positive integer"),
        (5, 1 << 53, "refused", "beyond what JSON readers hold exactly"),
    ]
    _write(
        "clock.json",
        {
            "about": "FORMAT.md §8.7: `receiver_clock` is the highest clock of the events the "
            "receiving vault uses; `expect`: merge, set-aside (with a warning, the rest of the "
            "bundle merges) or refused (not a valid event at all)",
            "max_clock_step": MAX_CLOCK_STEP,
            "clock_limit": CLOCK_LIMIT,
            "cases": [
                {"receiver_clock": r, "event_clock": c, "expect": e, "description": d}
                for r, c, e, d in cases
            ],
        },
    )


def removal_order() -> None:
    """Which events of one bundle a reader sets aside as written after their author's
    removal: the log's order (clock, author, id) decides."""
    a, b = Identity(SECRET_A).public_key.key_id_hex, Identity(SECRET_B).public_key.key_id_hex
    c = Identity(SECRET_C).public_key.key_id_hex

    def event(name: str, author: str, clock: int, kind: str = "note", **payload: Any) -> dict:
        payload = payload or {"text": name}
        conversation = "team" if kind == "member-removed" else "c1"
        eid = (name * 26)[:26]
        return {**_record(id=eid, author=author, clock=clock, conversation=conversation,
                          kind=kind), "payload": payload}  # fmt: skip

    def removes(name: str, author: str, clock: int, key: str) -> dict:
        return event(name, author, clock, "member-removed", key=key, label="x")

    cases = [
        (
            "a removes b at clock 5: b's event at 4 counts, at 6 is set aside",
            [removes("r", a, 5, b), event("e", b, 4), event("f", b, 6)],
            ["f"],
        ),
        (
            "at the same clock the author's key id decides ("
            + (f"{b} < {a}" if b < a else f"{a} < {b}")
            + ")",
            [removes("r", a, 5, b), event("e", b, 5)],
            [] if b < a else ["e"],
        ),
        (
            "b removes a at 5 after a removed b at 3: b's removal counts for nothing and is "
            "itself set aside; a's events after 3 count",
            [removes("r", a, 3, b), removes("s", b, 5, a), event("e", a, 6)],
            ["s"],
        ),
        (
            "a removal of the reader (c) sets nothing of theirs aside",
            [removes("r", a, 5, c), event("e", c, 6)],
            [],
        ),
        (
            "a removal naming a key not in the team sets nothing aside",
            [removes("r", a, 5, "00000000000000ff"), event("e", b, 6)],
            [],
        ),
    ]
    _write(
        "removal-order.json",
        {
            "about": "FORMAT.md §8.6: `events` arrive in one bundle at a reader whose team is "
            "`members` and whose own key id is `reader`; `set_aside`: the events (by their "
            "first letter) set aside as written after their author's removal, in the log's "
            "order (clock, author, id)",
            "members": sorted([a, b, c]),
            "reader": c,
            "cases": [
                {"description": d, "events": e, "set_aside": [(n * 26)[:26] for n in x]}
                for d, e, x in cases
            ],
        },
    )


def main() -> None:
    confirmations()
    member_removed()
    clock()
    removal_order()


if __name__ == "__main__":
    main()
