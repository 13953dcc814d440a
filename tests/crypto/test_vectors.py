"""The committed vectors open as they say, with crypto/ and with the minimal decoder."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from crypto import (
    CorruptedEnvelope,
    Identity,
    InvalidPublicKey,
    MalformedContent,
    MemorySink,
    NotAnEnvelope,
    NotForYou,
    PublicKey,
    TruncatedEnvelope,
    UnsupportedVersion,
    WrongPassphrase,
    open_envelope,
)

from . import minimal_decoder

VECTORS = Path(__file__).parent.parent / "vectors"
KEYS = json.loads((VECTORS / "keys.json").read_text())
ERRORS = {
    "not-an-envelope": NotAnEnvelope,
    "unsupported-version": UnsupportedVersion,
    "not-for-you": NotForYou,
    "corrupted": CorruptedEnvelope,
    "truncated": TruncatedEnvelope,
    "malformed-content": MalformedContent,
}
NAMES = sorted(p.stem for p in VECTORS.glob("*.sdenv"))


def load(name: str) -> tuple[dict, bytes, list[bytes]]:
    doc = json.loads((VECTORS / f"{name}.json").read_text())
    secrets = [bytes.fromhex(KEYS["identities"][i]["secret_key_hex"]) for i in doc["identities"]]
    return doc, (VECTORS / f"{name}.sdenv").read_bytes(), secrets


def content_matches(expected: dict, content: bytes) -> bool:
    if "content_hex" in expected:
        return content.hex() == expected["content_hex"]
    return (
        hashlib.sha256(content).hexdigest() == expected["content_sha256"]
        and len(content) == expected["size"]
    )


def test_there_are_vectors_of_every_kind() -> None:
    expects = {json.loads((VECTORS / f"{n}.json").read_text())["expect"] for n in NAMES}
    assert expects == {"ok", *ERRORS}


@pytest.mark.parametrize("name", NAMES)
def test_crypto_package_opens_vector_as_specified(name: str) -> None:
    doc, envelope, secrets = load(name)
    identities = [Identity(secret) for secret in secrets]
    if doc["expect"] != "ok":
        with pytest.raises(ERRORS[doc["expect"]]):
            open_envelope(io.BytesIO(envelope), identities, MemorySink())
        return
    contents = open_envelope(io.BytesIO(envelope), identities, MemorySink())
    assert contents.trailer == doc["trailer"]
    assert len(contents.parts) == len(doc["parts"])
    for part, expected in zip(contents.parts, doc["parts"], strict=True):
        assert (part.info.kind, part.info.name, part.info.media_type) == (
            expected["kind"],
            expected["name"],
            expected["type"],
        )
        assert part.data is not None and content_matches(expected, part.data)


@pytest.mark.parametrize("name", NAMES)
def test_minimal_decoder_from_the_spec_agrees(name: str) -> None:
    doc, envelope, secrets = load(name)
    if doc["expect"] != "ok":
        with pytest.raises(minimal_decoder.Refused) as refused:
            minimal_decoder.decode(envelope, secrets)
        assert refused.value.kind == doc["expect"]
        return
    parts, trailer = minimal_decoder.decode(envelope, secrets)
    assert trailer == doc["trailer"]
    assert len(parts) == len(doc["parts"])
    for part, expected in zip(parts, doc["parts"], strict=True):
        assert (part["kind"], part["name"], part["type"]) == (
            expected["kind"],
            expected["name"],
            expected["type"],
        )
        assert content_matches(expected, part["content"])


def test_key_vectors() -> None:
    for entry in KEYS["identities"].values():
        identity = Identity(bytes.fromhex(entry["secret_key_hex"]))
        pk = identity.public_key
        assert pk.raw.hex() == entry["public_key_hex"]
        assert pk.line == entry["public_key_line"]
        assert PublicKey.from_line(entry["public_key_line"]) == pk
        assert pk.key_id_hex == entry["key_id_hex"]
        assert pk.fingerprint == entry["fingerprint"]
        assert minimal_decoder.key_id(pk.raw).hex() == entry["key_id_hex"]
    for line in KEYS["invalid_public_key_lines"].values():
        with pytest.raises(InvalidPublicKey):
            PublicKey.from_line(line)
    a = PublicKey.from_line(KEYS["identities"]["a"]["public_key_line"])
    for line in KEYS["public_key_line_spellings"].values():
        assert PublicKey.from_line(line) == a


def test_identity_file_vector() -> None:
    doc = json.loads((VECTORS / "identity-a.json").read_text())
    text = (VECTORS / "identity-a.txt").read_text()
    identity = Identity.from_file_text(text, doc["passphrase"])
    assert identity.public_key.line == doc["public_key_line"]
    assert identity._secret.hex() == doc["secret_key_hex"]
    with pytest.raises(WrongPassphrase):
        Identity.from_file_text(text, doc["wrong_passphrase"])


# --- bundles -------------------------------------------------------------------------------

BUNDLES = sorted(p.stem for p in VECTORS.glob("bundle-*.tar"))


def crypto_bundle_class(path: Path, kind: str) -> tuple[str, list[str], dict]:
    """The error class crypto/ reports (FORMAT.md §4.3), the entries and events failing their
    hash, and what the bundle lists (entries, events, acks)."""
    from crypto.bundle import Bundle, BundleError

    try:
        bundle = Bundle(path, kind)
    except BundleError as error:
        text = str(error)
        if "version" in text and "not supported" in text:
            return "unsupported-version", [], {}
        if "this is a bundle of" in text:
            return "wrong-kind", [], {}
        if "not a readable sealdrop bundle" in text or "not a sealdrop bundle" in text:
            return "not-a-bundle", [], {}
        return "damaged", [], {}
    bad = []
    with bundle:
        for entry, reader in [*bundle.envelopes(), *bundle.event_envelopes()]:
            reader.read()
            try:
                reader.check()
            except BundleError:
                bad.append(entry.id)
        listed = {
            "entries": [e.to_json() for e in bundle.entries],
            "events": [e.to_json() for e in bundle.events],
            "acks": bundle.acks.to_json() if bundle.acks else None,
        }
    return ("hash-mismatch" if bad else "ok"), bad, listed


def test_there_are_bundle_vectors_of_every_class() -> None:
    expects = {json.loads((VECTORS / f"{n}.json").read_text())["expect"] for n in BUNDLES}
    assert expects == {
        "ok",
        "not-a-bundle",
        "unsupported-version",
        "wrong-kind",
        "damaged",
        "hash-mismatch",
    }


@pytest.mark.parametrize("name", BUNDLES)
def test_crypto_and_the_minimal_reader_agree_on_bundle_vectors(name: str) -> None:
    doc = json.loads((VECTORS / f"{name}.json").read_text())
    data = (VECTORS / f"{name}.tar").read_bytes()
    found, bad, listed = crypto_bundle_class(VECTORS / f"{name}.tar", doc["kind"])
    assert found == doc["expect"], name
    assert bad == doc.get("bad_entries", [])
    if found in ("ok", "hash-mismatch"):
        assert listed == {
            "entries": doc["entries"],
            "events": doc.get("events", []),
            "acks": doc.get("acks"),
        }
    try:
        read = minimal_decoder.read_bundle(data, doc["kind"])
    except minimal_decoder.Refused as refused:
        assert refused.kind == doc["expect"]
        return
    pairs = read["entries"] + read["events"]
    minimal_bad = [e["id"] for e, body in pairs if not minimal_decoder.entry_matches(e, body)]
    assert ("hash-mismatch" if minimal_bad else "ok") == doc["expect"]
    assert minimal_bad == doc.get("bad_entries", [])
    known = ("id", "received", "mailbox", "size", "sha256")  # others are ignored (§4.2)
    for listed_as in ("entries", "events"):
        entries = [{k: e[k] for k in known if k in e} for e, _ in read[listed_as]]
        assert entries == doc.get(listed_as, [])
    assert read["acks"] == doc.get("acks")


def test_the_readme_names_every_vector_file() -> None:
    readme = (VECTORS / "README.md").read_text()
    for path in VECTORS.rglob("*"):  # team/, keyfiles/ and deployment/ included
        if path.suffix in {".sdenv", ".tar", ".json", ".txt"}:
            assert f"`{path.stem}`" in readme or f"`{path.name}`" in readme, path.name


def test_the_readme_tables_list_every_vector_with_its_result() -> None:
    from tests.vectors import readme_tables

    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    assert readme_tables.tables(readme) == readme, "run python -m tests.vectors.readme_tables"
