"""A follow-up's proof of its codename (crypto.followup, docs/FORMAT.md §5)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from crypto import Identity, Sealer, open_bytes
from crypto.codename import Codename, new_codename
from crypto.followup import Proof, check, signed_trailer

PROOFS = json.loads((Path(__file__).parent.parent / "vectors" / "followup-proofs.json").read_text())
REVIEWER = Identity.generate()


def seal(trailer_of) -> bytes:
    """An envelope to REVIEWER whose trailer is ``trailer_of(header_hash)``."""
    out = io.BytesIO()
    sealer = Sealer(out, [REVIEWER.public_key])
    sealer.add_message("I am writing again.")
    sealer.close(trailer_of(sealer.header_hash))
    return out.getvalue()


@pytest.mark.parametrize("case", PROOFS["trailers"], ids=lambda case: case["about"])
def test_proof_vectors(case: dict) -> None:
    header_hash = bytes.fromhex(PROOFS["header_hash_hex"])
    assert check(case["trailer"], header_hash).value == case["expect"]


def test_the_signed_trailer_matches_its_vector_exactly() -> None:
    vector = json.loads((Path(__file__).parent.parent / "vectors" / "codenames.json").read_text())
    keys = Codename.parse(vector[2]["canonical"]).derive()
    header_hash = bytes.fromhex(PROOFS["header_hash_hex"])
    assert signed_trailer(keys, header_hash) == PROOFS["trailers"][0]["trailer"]


def test_a_follow_up_sealed_with_the_codename_is_proven_by_the_opened_header() -> None:
    keys = new_codename("ru").derive()
    contents = open_bytes(seal(lambda h: signed_trailer(keys, h)), [REVIEWER])
    assert check(contents.trailer, contents.header_hash) is Proof.PROVEN


def test_a_forger_with_the_reply_public_key_cannot_prove_a_follow_up() -> None:
    person, forger = new_codename("en").derive(), new_codename("en").derive()
    # The forger knows the person's reply public key and sends their own mailbox, signing
    # with their own key, with none, or with the person's verify key (public too).
    attempts = [
        lambda h: {**signed_trailer(forger, h), "reply_key": person.public_key.line},
        lambda h: {"reply_key": person.public_key.line, "mailbox": forger.mailbox},
        lambda h: {
            **signed_trailer(forger, h),
            "reply_key": person.public_key.line,
            "verify_key": person.verify_key.hex(),
        },
    ]
    verdicts = []
    for attempt in attempts:
        contents = open_bytes(seal(attempt), [REVIEWER])
        verdicts.append(check(contents.trailer, contents.header_hash))
    assert verdicts == [Proof.FORGED, Proof.UNPROVEN, Proof.FORGED]


def test_a_proof_lifted_into_another_envelope_does_not_hold() -> None:
    keys = new_codename("en").derive()
    first = open_bytes(seal(lambda h: signed_trailer(keys, h)), [REVIEWER])
    lifted = open_bytes(seal(lambda h: first.trailer), [REVIEWER])
    assert check(lifted.trailer, lifted.header_hash) is Proof.FORGED
    assert check(first.trailer, None) is Proof.FORGED  # header unknown: cannot be proven
