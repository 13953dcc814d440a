"""threads.json (FORMAT.md §5.6) and conversation-ids.json (§8.2).

threads.json: submissions naming one reply key, in order (hour received, then the order they
entered the vault), each with its mailbox and proof verdict (§5.5), and which of them belong
to the person's thread.

Run: .venv/bin/python -m tests.vectors.generate_threads (deterministic).
"""

from __future__ import annotations

import json

from crypto.followup import Proof
from reviewer.caselog import conversation_id
from reviewer.threads import memberships

from .generate import HERE

M1, M2 = "a" * 26, "b" * 26  # two mailboxes
CASES = [
    ("a thread begun before proofs: all unproven, one mailbox", "u1 u1 u1"),
    ("unproven ones before the first proven belong; after it, they do not", "u1 p1 u1 p1"),
    ("an earlier unproven one naming another mailbox does not belong", "u2 u1 p1"),
    ("a forged one never belongs, even first", "f1 p1 u1"),
    ("no proven member: the earliest unproven one's mailbox decides", "u2 u1 u2"),
    ("the first proven member's mailbox decides over an earlier unproven one", "u1 p2 u2"),
]
PROOFS = {"p": Proof.PROVEN, "u": Proof.UNPROVEN, "f": Proof.FORGED}


def main() -> None:
    cases = []
    for about, spec in CASES:
        codes = spec.split()
        mailboxes = [M1 if code[1] == "1" else M2 for code in codes]
        proofs = [PROOFS[code[0]] for code in codes]
        ids = [f"s{n}" for n in range(1, len(codes) + 1)]
        members = memberships(mailboxes, proofs)
        cases.append(
            {
                "about": about,
                "submissions": [
                    {"id": i, "mailbox": m, "proof": p.value}
                    for i, m, p in zip(ids, mailboxes, proofs, strict=True)
                ],
                "members": [i for i, member in zip(ids, members, strict=True) if member],
            }
        )
    (HERE / "threads.json").write_text(json.dumps(cases, indent=2) + "\n")
    write_conversation_ids()


def write_conversation_ids() -> None:
    """conversation-ids.json (§8.2): the conversation id of each codename vector's thread, and
    of a submission without a reply key."""
    codenames = json.loads((HERE / "codenames.json").read_text(encoding="utf-8"))
    cases = [
        {"reply_key": c["reply_public_key_line"], "first_submission": "k3x9"} for c in codenames
    ]
    cases.append({"reply_key": None, "first_submission": "k3x9"})
    for case in cases:
        case["conversation"] = conversation_id(case["reply_key"], case["first_submission"])
    (HERE / "conversation-ids.json").write_text(json.dumps(cases, indent=2) + "\n")


if __name__ == "__main__":
    main()
