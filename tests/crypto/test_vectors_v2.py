"""Format v2's vectors: RFC 9180's published HPKE values, pyca's HPKE against them both ways,
the v2 envelopes re-sealed byte for byte, key commitment, and a bundle mixing versions."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto import Identity, MemorySink, PartInfo, Sealer, followup, hpke_stanza, open_envelope
from crypto.bundle import Bundle
from crypto.envelope_v2 import MAC_BYTES
from crypto.followup import Proof
from tests.vectors.generate_v2 import FixedWrap

from . import rfc9180

VECTORS = Path(__file__).parent.parent / "vectors"
KEYS = json.loads((VECTORS / "keys.json").read_text())["identities"]
HPKE = json.loads((VECTORS / "hpke-rfc9180.json").read_text())


def identity(name: str) -> Identity:
    return Identity(bytes.fromhex(KEYS[name]["secret_key_hex"]))


def test_the_rfc_9180_encapsulation_reproduces_the_published_vector() -> None:
    v = {name: bytes.fromhex(value) for name, value in HPKE["rfc9180_a_1_1"].items()}
    assert rfc9180.derive_key_pair(v["ikmE"]) == (v["skEm"], v["pkEm"])
    assert rfc9180.derive_key_pair(v["ikmR"]) == (v["skRm"], v["pkRm"])
    shared, enc = rfc9180.encap(v["pkRm"], v["skEm"])
    assert (shared, enc) == (v["shared_secret"], v["enc"])
    assert rfc9180.decap(enc, v["skRm"]) == shared
    schedule = rfc9180.key_schedule(shared, v["info"], aead_id=1)
    assert schedule.key_schedule_context == v["key_schedule_context"]
    assert (schedule.secret, schedule.key) == (v["secret"], v["key"])
    assert schedule.base_nonce == v["base_nonce"]
    assert schedule.exporter_secret == v["exporter_secret"]
    assert AESGCM(schedule.key).encrypt(schedule.base_nonce, v["pt"], v["aad"]) == v["ct"]


def test_pyca_hpke_agrees_with_the_rfc_encapsulation_both_ways() -> None:
    ours = {name: bytes.fromhex(value) for name, value in HPKE["sealdrop_v2_stanza"].items()}
    enc, wrapped = rfc9180.seal_base(ours["pkRm"], ours["info"], b"", ours["pt"], ours["skEm"])
    assert enc + wrapped == ours["stanza_body"]
    # pyca opens what the RFC's construction sealed ...
    assert hpke_stanza.unwrap(ours["skRm"], ours["stanza_body"]) == ours["pt"]
    # ... and the RFC's construction opens what pyca seals (a random ephemeral key each time)
    body = hpke_stanza.wrap(ours["pkRm"], ours["pt"])
    assert body != ours["stanza_body"]
    assert rfc9180.open_base(body[:32], ours["skRm"], ours["info"], b"", body[32:]) == ours["pt"]


def _content(part: dict) -> bytes:
    if "content_hex" in part:
        return bytes.fromhex(part["content_hex"])
    return bytes.fromhex(part["content_fill_hex"]) * part["size"]


def test_sealing_the_ok_vectors_again_gives_the_same_bytes() -> None:
    sealed = 0
    for doc_path in sorted(VECTORS.glob("v2-ok-*.json")):
        doc = json.loads(doc_path.read_text())
        if "file_key_hex" not in doc:
            continue
        out = io.BytesIO()
        sealer = Sealer(
            out,
            [identity(name).public_key for name in doc["recipients"]],
            version=2,
            file_key=bytes.fromhex(doc["file_key_hex"]),
            wrap=FixedWrap(),
        )
        for part in doc["parts"]:
            sealer.begin_part(PartInfo(part["kind"], part["name"], part["type"]))
            sealer.write(_content(part))
            sealer.end_part()
        sealer.close(doc["trailer"])
        assert out.getvalue() == doc_path.with_suffix(".sdenv").read_bytes(), doc_path.name
        assert sealer.header_hash.hex() == doc["header_hash_hex"]
        for name in doc["recipients"]:
            contents = open_envelope(io.BytesIO(out.getvalue()), [identity(name)], MemorySink())
            assert contents.version == 2 and contents.header_hash == sealer.header_hash
            if "proof" in doc["trailer"]:  # signed over the v2 header hash (SHA-256)
                assert followup.check(contents.trailer, contents.header_hash) is Proof.PROVEN
                assert followup.check(contents.trailer, bytes(32)) is Proof.FORGED
        sealed += 1
    assert sealed == 5


def test_two_reviewers_cannot_read_different_plaintexts_from_one_envelope() -> None:
    """b's stanza really opens (to another file key): it is the MAC that refuses it."""
    envelope = (VECTORS / "v2-fail-key-commitment.sdenv").read_bytes()
    a, b = identity("a"), identity("b")
    stanza_a, stanza_b = envelope[18:98], envelope[106:186]
    assert a.unwrap_file_key(stanza_a) != b.unwrap_file_key(stanza_b)
    assert len(envelope) > 42 + 88 * 2 and MAC_BYTES == 32
    contents = open_envelope(io.BytesIO(envelope), [a], MemorySink())
    assert contents.message is not None and contents.message.data == b"for a"


def test_a_bundle_mixing_versions_opens_every_envelope() -> None:
    with Bundle(VECTORS / "bundle-ok-mixed-versions.tar", "submissions") as bundle:
        versions = []
        for _entry, reader in bundle.envelopes():
            data = reader.read()
            reader.check()
            contents = open_envelope(io.BytesIO(data), [identity("a")], MemorySink())
            assert contents.message is not None and contents.message.data == b"hello"
            versions.append(contents.version)
    assert versions == [1, 2]


def test_epoch_statement_vectors() -> None:
    from crypto.bundle import hour_stamp, parse_hour
    from crypto.epochs import DeletedKey, StatementError, read_statement, sealing_key
    from crypto.errors import EpochKeyDeleted
    from crypto.keys import PublicKey
    from crypto.team import Signer, SigningPublicKey

    folder = VECTORS / "epochs"
    doc = json.loads((folder / "epochs.json").read_text())
    reviewer = Identity(bytes.fromhex(doc["reviewer_secret_key_hex"]))
    signing = SigningPublicKey.from_line(doc["signing_key_line"])
    assert Signer(reviewer).public_key == signing
    for name, case in doc["statements"].items():
        text = (folder / name).read_bytes()
        if case["expect"] != "ok":
            with pytest.raises(StatementError) as refused:
                read_statement(text, reviewer.public_key, signing)
            assert refused.value.kind == case["expect"], name
            continue
        statement = read_statement(text, reviewer.public_key, signing)
        listed = [
            {
                "not_before": hour_stamp(e.not_before),
                "not_after": hour_stamp(e.not_after),
                "public_key_line": e.public_key.line,
            }
            for e in statement.epochs
        ]
        assert listed == doc["ok_epochs"]
        assert statement.signed_by(Signer(reviewer)).encode() == text  # deterministic
        for when, line in doc["sealing_key_at"].items():
            assert sealing_key(statement, reviewer.public_key, parse_hour(when)).line == line
    deleted = doc["deleted_week"]
    stand_in = DeletedKey(
        PublicKey.from_line(deleted["sealed_to"]),
        parse_hour(deleted["not_after"]),
        parse_hour(deleted["deleted"]),
    )
    envelope = (folder / deleted["envelope"]).read_bytes()
    with pytest.raises(EpochKeyDeleted) as error:
        open_envelope(io.BytesIO(envelope), [reviewer, stand_in], MemorySink())
    assert (error.value.week_ending, error.value.deleted_on) == (
        deleted["week_ending"],
        deleted["deleted_on"],
    )
