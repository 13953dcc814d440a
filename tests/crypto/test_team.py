"""Teams and staff events (docs/FORMAT.md §8): the committed vectors, and the forgeries a
member, the server or an outsider could try."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto import Identity, open_bytes
from crypto.team import (
    ForgedEvent,
    InvalidMemberCard,
    Member,
    Signer,
    SigningPublicKey,
    open_event,
    read_member_card,
    read_team_file,
    seal_event,
    sign_event,
    team_file_text,
    verify_event,
)

from . import minimal_decoder

VECTORS = Path(__file__).parent.parent / "vectors"
TEAM = VECTORS / "team"
MEMBERS = json.loads((TEAM / "members.json").read_text())
CASES = sorted(p.stem for p in TEAM.glob("*.sdenv"))


def identity(name: str) -> Identity:
    return Identity(bytes.fromhex(MEMBERS[name]["secret_key_hex"]))


def member(name: str) -> Member:
    return read_member_card(MEMBERS[name]["card"])


def test_every_member_vector_derives_as_committed():
    for name, expected in MEMBERS.items():
        ident = identity(name)
        assert ident.signing_seed().hex() == expected["signing_seed_hex"]
        derived = Member.of(ident, name)
        assert derived.signing_key.line == expected["signing_key_line"]
        assert derived.fingerprint == expected["team_fingerprint"]
        assert member(name) == derived


def test_an_identity_file_made_before_teams_signs_without_being_rewritten():
    doc = json.loads((VECTORS / "identity-a.json").read_text())
    old = Identity.load(VECTORS / "identity-a.txt", doc["passphrase"])
    assert Signer(old).public_key.line == MEMBERS["a"]["signing_key_line"]


@pytest.mark.parametrize("name", CASES)
def test_staff_event_vectors(name: str):
    doc = json.loads((TEAM / f"{name}.json").read_text())
    team = [member(m) for m in doc["team"]]
    envelope = (TEAM / f"{name}.sdenv").read_bytes()
    secrets = [bytes.fromhex(MEMBERS[doc["open_with"]]["secret_key_hex"])]
    signing_keys = {
        bytes.fromhex(MEMBERS[m]["signing_key_hex"]): member(m).public_key.raw for m in doc["team"]
    }
    assert minimal_decoder.read_staff_event(envelope, secrets, signing_keys) == doc["expect"]
    if doc["expect"] == "ok" or doc.get("opens"):  # refused later, by the item's rules
        opened = open_event(envelope, identity(doc["open_with"]), team)
        assert opened.author.label == doc.get("author", "a")
        if "signed_blob_hex" in doc:
            assert opened.event.decode("utf-8") == doc["event_utf8"]
            assert opened.blob.hex() == doc["signed_blob_hex"]
            # Ed25519 is deterministic: signing again gives the committed bytes.
            assert sign_event(Signer(identity("a")), opened.event).hex() == doc["signed_blob_hex"]
    else:
        with pytest.raises(ForgedEvent):
            open_event(envelope, identity(doc["open_with"]), team)


def test_an_organisation_key_is_not_taken_for_a_members() -> None:
    """One sdsig1 prefix, two checksum labels (FORMAT.md §7, §8.1): the reader says which."""
    deployment = json.loads((VECTORS / "deployment" / "deployment.json").read_text())
    card = MEMBERS["a"]["card"].replace(
        MEMBERS["a"]["signing_key_line"], deployment["signing_key_line"]
    )
    with pytest.raises(InvalidMemberCard, match="organisation's signing key"):
        read_member_card(card)


def test_a_member_cannot_forge_an_event_towards_a_third_member():
    a, b, c = Identity.generate(), Identity.generate(), Identity.generate()
    team = [Member.of(a, "a"), Member.of(b, "b"), Member.of(c, "c")]
    blob = open_event(
        seal_event(sign_event(Signer(a), b'{"text": "close it"}'), [m.public_key for m in team]),
        b,
        team,
    ).blob
    # b keeps a's signature but changes the text: c refuses it.
    altered = blob.replace(b"close it", b"delete it")
    with pytest.raises(ForgedEvent, match="false"):
        open_event(seal_event(altered, [team[2].public_key]), c, team)
    # b signs the new text with b's own key: it verifies, but as b's, never as a's.
    own = verify_event(sign_event(Signer(b), b'{"text": "delete it"}'), team)
    assert own.author.label == "b"


def test_a_submitter_or_the_server_cannot_pass_a_message_off_as_an_event():
    a = Identity.generate()
    team = [Member.of(a, "a")]
    from crypto import seal_bytes

    envelope = seal_bytes([a.public_key], "hello")
    assert open_bytes(envelope, [a]).message is not None
    with pytest.raises(ForgedEvent, match="not a staff event"):
        open_event(envelope, a, team)


def test_member_cards_and_team_files_round_trip_and_refuse_damage():
    members = [Member.of(Identity.generate(), name) for name in ("Аня", "Bo")]
    assert [read_member_card(m.card_text()) for m in members] == members
    assert read_team_file(team_file_text(members)) == members
    card = members[0].card_text()
    line = members[0].signing_key.line
    with pytest.raises(InvalidMemberCard, match="mistyped or altered"):
        read_member_card(
            card.replace(line, line[:-2] + ("a" if line[-2] != "a" else "b") + line[-1])
        )
    with pytest.raises(InvalidMemberCard, match="no signing-key line"):
        read_member_card("# an old public key file\n" + members[0].public_key.line + "\n")
    with pytest.raises(InvalidMemberCard, match="private identity file"):
        read_member_card(Identity.generate().to_file_text("pw", opslimit=1, memlimit=8192))
    with pytest.raises(InvalidMemberCard, match="--label"):
        read_member_card(card.replace("member: Аня", ""))
    assert SigningPublicKey.from_line(line.upper()) == members[0].signing_key


def test_the_vectors_verify_from_the_spec_alone():
    """Section 7 is enough: the minimal decoder opens the envelope, libsodium checks the
    signature, and the keys derive as written, with nothing from crypto.team."""
    import nacl.bindings as sodium

    from . import minimal_decoder as spec

    for name, expected in MEMBERS.items():
        secret = bytes.fromhex(expected["secret_key_hex"])
        seed = spec.blake2b(secret, 32, b"sealdrop-signing-seed-v1")
        public, _ = sodium.crypto_sign_seed_keypair(seed)
        assert public.hex() == expected["signing_key_hex"], name
    doc = json.loads((TEAM / "ok-note-from-a.json").read_text())
    parts, trailer = spec.decode(
        (TEAM / "ok-note-from-a.sdenv").read_bytes(),
        [bytes.fromhex(MEMBERS["b"]["secret_key_hex"])],
    )
    assert trailer == {"sealdrop": "staff-event-v1"}
    [part] = parts
    assert (part["kind"], part["name"]) == ("file", "staff-event")
    blob = part["content"]
    spk, signature, item = blob[:32], blob[32:96], blob[96:]
    assert spk.hex() == MEMBERS["a"]["signing_key_hex"]
    signed = b"sealdrop-staff-event-v1\x00" + spk + item
    assert sodium.crypto_sign_open(signature + signed, spk) == signed
    assert item.decode() == doc["event_utf8"]
