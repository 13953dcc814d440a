"""Hostile bundles (issue 10, item 4): each is refused with a BundleError sentence, never a
traceback, and nothing is read that a bundle cannot need."""

from __future__ import annotations

import hashlib
import json
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from crypto import Identity, seal_bytes
from crypto.bundle import MANIFEST, Bundle, BundleError, parse_hour

HOUR = "2026-11-24T12:00Z"
ENVELOPE = seal_bytes([Identity(bytes(range(1, 33))).public_key], "hello")
MEMBER = "sealdrop-bundle/submissions/aaaa.sdenv"


def entry(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "aaaa",
        "received": HOUR,
        "size": len(ENVELOPE),
        "sha256": hashlib.sha256(ENVELOPE).hexdigest(),
    }
    return {**base, **changes}


def manifest_bytes(entries: list[dict[str, object]], **changes: object) -> bytes:
    doc = {"format": "sealdrop-bundle", "version": 1, "created": HOUR, "submissions": entries}
    return json.dumps({**doc, **changes}).encode()


def tar_of(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with path.open("wb") as out:
        for info, data in members:
            out.write(info.tobuf(tarfile.PAX_FORMAT))
            out.write(data + bytes(-len(data) % 512))
        out.write(bytes(1024))
    return path


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def bundle_with_manifest(path: Path, manifest: bytes) -> Path:
    return tar_of(path, [regular(MEMBER, ENVELOPE), regular(MANIFEST, manifest)])


def refused(path: Path) -> str:
    with pytest.raises(BundleError) as error:
        Bundle(path).close()
    return str(error.value)


def test_a_well_formed_bundle_opens(tmp_path: Path) -> None:
    path = bundle_with_manifest(tmp_path / "ok.tar", manifest_bytes([entry()]))
    with Bundle(path) as bundle:
        [(listed, reader)] = list(bundle.envelopes())
        assert reader.read() == ENVELOPE
        reader.check()
        assert listed.id == "aaaa"


def test_a_manifest_nested_200k_deep_is_refused(tmp_path: Path) -> None:
    deep = b'{"format":"sealdrop-bundle","x":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    message = refused(bundle_with_manifest(tmp_path / "deep.tar", deep))
    assert "manifest is damaged" in message and "nested more than" in message


@pytest.mark.parametrize(
    ("size", "text"),
    [
        ("Infinity", "Infinity"),
        ("-Infinity", "-Infinity"),
        ("NaN", "NaN"),
        ("1e400", "finite"),
        ("1.0e2", "malformed"),
        ('"117"', "malformed"),
        ("true", "malformed"),
        ("-1", "malformed"),
        ("99999999999999999999", "2^53"),
    ],
)
def test_a_size_that_is_not_a_whole_number_is_refused(tmp_path: Path, size: str, text: str) -> None:
    body = manifest_bytes([entry(size=7)]).replace(b'"size": 7', b'"size": ' + size.encode())
    assert size.encode() in body
    assert text in refused(bundle_with_manifest(tmp_path / "size.tar", body))


@pytest.mark.parametrize(
    "hour",
    [
        "9999-99-99T99:00Z",
        "2026-02-30T12:00Z",
        "2026-11-24T24:00Z",
        "٢٠٢٦-١١-٢٤T١٢:00Z",  # Arabic-Indic digits match \\d
        "２０２６-１１-２４T１２:00Z",  # fullwidth digits
        "2026-11-24T12:30Z",
    ],
)
def test_an_impossible_or_non_ascii_hour_is_refused(tmp_path: Path, hour: str) -> None:
    body = manifest_bytes([entry(received=hour)])
    assert "malformed id, hour" in refused(bundle_with_manifest(tmp_path / "hour.tar", body))
    with pytest.raises(ValueError):
        parse_hour(hour)


def test_hour_stamps_that_exist_parse() -> None:
    assert parse_hour("1970-01-01T00:00Z") == 0
    assert parse_hour("9999-12-31T23:00Z") == 253402297200


@pytest.mark.parametrize(
    "changes",
    [
        {"version": True},
        {"version": 1.0},
        {"version": 2},
        {"kind": ["submissions"]},
        {"submissions": {"aaaa": 1}},
    ],
)
def test_manifest_fields_of_the_wrong_type_are_refused(tmp_path: Path, changes: dict) -> None:
    body = manifest_bytes([entry()], **changes)
    assert refused(bundle_with_manifest(tmp_path / "types.tar", body))


def test_upper_case_hex_and_duplicate_names_are_refused(tmp_path: Path) -> None:
    upper = manifest_bytes([entry(sha256=hashlib.sha256(ENVELOPE).hexdigest().upper())])
    assert "malformed" in refused(bundle_with_manifest(tmp_path / "hex.tar", upper))
    twice = manifest_bytes([entry()]).replace(b'"id": "aaaa"', b'"id": "aaaa", "id": "bbbb"')
    assert "'id' twice" in refused(bundle_with_manifest(tmp_path / "dup.tar", twice))


def test_a_gnu_sparse_member_is_refused(tmp_path: Path) -> None:
    info, data = regular(MEMBER, ENVELOPE)
    info.type = tarfile.GNUTYPE_SPARSE
    path = tar_of(tmp_path / "sparse.tar", [(info, data), regular(MANIFEST, b"{}")])
    assert "GNU sparse member" in refused(path)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (tarfile.SYMTYPE, "symbolic link"),
        (tarfile.LNKTYPE, "hard link"),
        (tarfile.DIRTYPE, "directory"),
        (tarfile.XGLTYPE, "pax global header"),
        (tarfile.GNUTYPE_LONGNAME, "GNU long name"),
    ],
)
def test_other_entry_types_are_refused(tmp_path: Path, kind: bytes, words: str) -> None:
    info, _ = regular(MEMBER, b"")
    info.type = kind
    path = tar_of(tmp_path / "types.tar", [(info, b""), regular(MANIFEST, b"{}")])
    assert words in refused(path)


def test_a_300_mb_pax_header_is_refused_without_reading_it(tmp_path: Path) -> None:
    size = 300_000_000
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = size
    record_head = f"{size} comment=".encode()
    path = tmp_path / "pax.tar"
    with path.open("wb") as out:
        out.write(info.tobuf(tarfile.USTAR_FORMAT))
        out.write(record_head)
        out.seek(512 + size - 1)  # a sparse file: no 300 MB on the test disk
        out.write(b"\n" + bytes(-size % 512))
        for member, data in (regular(MEMBER, ENVELOPE), regular(MANIFEST, manifest_bytes([]))):
            out.write(member.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512))
        out.write(bytes(1024))
    tracemalloc.start()
    try:
        message = refused(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "pax header of 300000000 bytes" in message
    assert peak < 1 << 20


def test_a_small_pax_header_giving_the_path_and_size_is_allowed(tmp_path: Path) -> None:
    """What tar writers produce for long names or sizes over 8 GiB."""
    info, data = regular(MEMBER, ENVELOPE)
    info.pax_headers = {"path": MEMBER, "size": str(len(ENVELOPE))}
    path = tar_of(
        tmp_path / "pax-ok.tar", [(info, data), regular(MANIFEST, manifest_bytes([entry()]))]
    )
    assert b"path=" in path.read_bytes()
    with Bundle(path) as bundle:
        assert [e.id for e in bundle.entries] == ["aaaa"]


def test_a_pax_header_with_other_records_is_refused(tmp_path: Path) -> None:
    info, data = regular(MEMBER, ENVELOPE)
    info.pax_headers = {"comment": "x"}
    path = tar_of(tmp_path / "pax.tar", [(info, data), regular(MANIFEST, b"{}")])
    assert "only path and size" in refused(path)
