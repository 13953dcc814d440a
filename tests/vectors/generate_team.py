"""Regenerates the team and staff-event vectors in tests/vectors/team/ (docs/FORMAT.md §8).

Run: .venv/bin/python -m tests.vectors.generate_team. Signatures are deterministic (Ed25519),
the sealing is not: regenerating changes the envelopes, so only do it when the format changes.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from crypto import Identity, PublicKey, seal_bytes
from crypto.framing import BEGIN, CLOSE, DATA, END, record
from crypto.team import Member, Signer, seal_event, sign_event

from .generate import SECRET_A, SECRET_B, SECRET_OTHER, padded, raw_envelope

HERE = Path(__file__).parent / "team"
EVENT = (
    '{"event":{"author":"%s","clock":1,"conversation":"sub1","hour":"2026-11-24T12:00Z",'
    '"id":"aaaaaaaaaaaaaaaaaaaaaaaaaa","kind":"note","payload":{"text":"call back — Пётр"},'
    '"v":1}}'
)


def write(name: str, envelope: bytes, description: str, expect: str, **extra: object) -> None:
    """``expect`` is what a full §8.2 reader reports (ok, forged, malformed); ``opens`` says
    that the envelope and signature checks (crypto.team.open_event) pass all the same."""
    (HERE / f"{name}.sdenv").write_bytes(envelope)
    doc = {
        "description": description,
        "expect": expect,
        "team": ["a", "b"],
        "open_with": "b",
        **extra,
    }
    (HERE / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


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
    write_item_vectors(a, b, team)
    write(
        "fail-not-an-event",
        seal_bytes(team, "a plain message, as a submitter could seal to the team"),
        "an ordinary submission envelope where a staff event is expected",
        "forged",
    )


def write_item_vectors(a: Identity, b: Identity, team: list[PublicKey]) -> None:
    """§8.2's order and rules past the signature: the envelope's shape (BEGIN and trailer
    follow §3.3), the item's size, JSON and record rules, and the author rule."""
    key_a = a.public_key.key_id_hex

    def item(record_changes: str = "", author: str = key_a) -> bytes:
        return EVENT.replace("%s", author).replace('"v":1}', f'"v":1{record_changes}}}').encode()

    def sealed(event: bytes, signer: Identity = a) -> bytes:
        return seal_event(sign_event(Signer(signer), event), team)

    def raw(blob: bytes, begin: bytes, trailer: bytes, *, parts: int = 1) -> bytes:
        one = record(BEGIN, begin) + record(DATA, blob) + record(END, struct.pack(">Q", len(blob)))
        return raw_envelope(team, padded(one * parts + record(CLOSE, trailer)))

    def in_payload(member: bytes) -> bytes:
        """A member the payload's kind does not name: ignored, unless it breaks the item."""
        return item().replace(b'"payload":{', b'"payload":{' + member + b",")

    blob = sign_event(Signer(a), item())
    begin = b'{"kind":"file","name":"staff-event","type":"application/vnd.sealdrop.staff-event"'
    trailer = b'{"sealdrop":"staff-event-v1"'
    write(
        "ok-extra-members",
        raw(blob, begin + b',"x":1}', trailer + b',"reply_key":null}'),
        "a's note; its BEGIN and trailer carry members no reader knows (ignored, as §3.3)",
        "ok",
        author="a",
    )
    write(
        "fail-trailer-version",
        raw(blob, begin + b"}", b'{"sealdrop":"staff-event-v2"}'),
        "a's signed note, but the trailer says staff-event-v2",
        "forged",
    )
    write(
        "fail-two-parts",
        raw(blob, begin + b"}", trailer + b"}", parts=2),
        "a's signed note twice, as two parts",
        "forged",
    )
    write(
        "fail-author-not-signer",
        sealed(item(author=b.public_key.key_id_hex)),
        "signed by a, but the record names b as its author",
        "forged",
        opens=True,
    )
    big = item().replace(b'"text":"', b'"pad":"' + b"x" * (1 << 20) + b'","text":"')
    write(
        "fail-item-too-large",
        seal_event(Signer(a).public_key.raw + Signer(a).sign(b"x") + big, team),
        f"an item of {len(big)} bytes, over 1 MiB (the signature is not even checked)",
        "forged",
    )
    for name, event, what in (
        ("fail-item-nan", in_payload(b'"n":NaN'), "NaN in the payload"),
        ("fail-item-bom", b"\xef\xbb\xbf" + item(), "a byte-order mark first"),
        ("fail-item-too-deep", in_payload(b'"n":' + b"[" * 6 + b"]" * 6), "nesting 9 deep"),
        ("fail-record-unknown-member", item(',"n":1'), "a record member no version has"),
        ("fail-record-version-2", item().replace(b'"v":1', b'"v":2'), "record version 2"),
    ):
        write(name, sealed(event), f"signed by a, a member: {what}", "malformed", opens=True)
    deep = in_payload(b'"n":' + b"[" * 5 + b"]" * 5)
    write("ok-item-depth-8", sealed(deep), "a payload nested to depth 8 in all", "ok", author="a")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["items"]:  # only the item vectors; the others stay as they are
        ids = Identity(SECRET_A), Identity(SECRET_B)
        write_item_vectors(*ids, [i.public_key for i in ids])
    else:
        main()
