"""Regenerates the team and staff-event vectors in tests/vectors/team/ (docs/FORMAT.md §8).

Run: .venv/bin/python -m tests.vectors.generate_team. Signatures are deterministic (Ed25519),
the sealing is not: regenerating changes the envelopes, so only do it when the format changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from crypto import Identity, seal_bytes
from crypto.team import Member, Signer, seal_event, sign_event

from .generate import SECRET_A, SECRET_B, SECRET_OTHER

HERE = Path(__file__).parent / "team"
EVENT = (
    '{"event":{"author":"%s","clock":1,"conversation":"sub1","hour":"2026-11-24T12:00Z",'
    '"id":"aaaaaaaaaaaaaaaaaaaaaaaaaa","kind":"note","payload":{"text":"call back — Пётр"},'
    '"v":1}}'
)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    a, b, other = Identity(SECRET_A), Identity(SECRET_B), Identity(SECRET_OTHER)
    members = {name: Member.of(i, name) for name, i in (("a", a), ("b", b), ("other", other))}
    keys = {
        name: {
            "secret_key_hex": secret.hex(),
            "signing_seed_hex": ident.signing_seed().hex(),
            "public_key_line": members[name].public_key.line,
            "signing_key_line": members[name].signing_key.line,
            "signing_key_hex": members[name].signing_key.raw.hex(),
            "team_fingerprint": members[name].fingerprint,
            "card": members[name].card_text(),
        }
        for name, secret, ident in (
            ("a", SECRET_A, a),
            ("b", SECRET_B, b),
            ("other", SECRET_OTHER, other),
        )
    }
    (HERE / "members.json").write_text(json.dumps(keys, ensure_ascii=False, indent=2) + "\n")

    team = [members["a"].public_key, members["b"].public_key]
    event_a = EVENT.replace("%s", a.public_key.key_id_hex).encode("utf-8")
    blob_a = sign_event(Signer(a), event_a)

    def write(name: str, envelope: bytes, description: str, expect: str, **extra: object) -> None:
        (HERE / f"{name}.sdenv").write_bytes(envelope)
        doc = {
            "description": description,
            "expect": expect,
            "team": ["a", "b"],
            "open_with": "b",
            **extra,
        }
        (HERE / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")

    write(
        "ok-note-from-a",
        seal_event(blob_a, team),
        "a's note, signed by a, sealed to a and b; b opens it",
        "ok",
        author="a",
        event_utf8=event_a.decode("utf-8"),
        signed_blob_hex=blob_a.hex(),
    )
    event_other = EVENT.replace("%s", other.public_key.key_id_hex).encode("utf-8")
    write(
        "fail-non-member",
        seal_event(sign_event(Signer(other), event_other), team),
        "signed by a key that is not in the team (sealed to the team all the same)",
        "forged",
    )
    forged = bytearray(blob_a)
    forged[-3] ^= 1  # the event text changed after a signed it
    write(
        "fail-bad-signature",
        seal_event(bytes(forged), team),
        "a's signing key, but the event was altered after signing",
        "forged",
    )
    write(
        "fail-not-an-event",
        seal_bytes(team, "a plain message, as a submitter could seal to the team"),
        "an ordinary submission envelope where a staff event is expected",
        "forged",
    )


if __name__ == "__main__":
    main()
