"""The strict JSON reader stays linear on hostile input (issue 17, G3), and a manifest of too
many containers is refused before it is parsed. The speed itself is measured by `make bench`
(tests/bench/parsers_bench.py); these check the structure that makes it linear, and that the
old attack's 1 MiB inputs are answered at all (the quadratic reader took hours on them)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import strictjson
from crypto.bundle import Bundle, BundleError

MiB = 1 << 20
ADVERSARIAL = {
    "escaped quotes, never closed": b'"' + b'\\"' * (MiB // 2),
    "escaped quotes in a list, then a backslash": b'["' + b'\\"' * (MiB // 2) + b"\\",
    "quotes and backslashes": b'"\\' * (MiB // 2),
    "a closed string of escaped quotes": b'["' + b'\\"' * (MiB // 2) + b'"]',
}


def _quotes(data: bytes) -> list[int]:
    return [i for i, byte in enumerate(data) if byte == ord('"')]


@given(st.binary(max_size=300) | st.lists(st.sampled_from([b'"', b"\\", b"a", b"["])).map(b"".join))
def test_a_string_match_never_fails_once_started(data: bytes) -> None:
    """Stripping strings is one pass because a match begun at a quote always succeeds and
    consumes everything it scanned; a pattern that could fail is retried at every later
    quote, which is what made the old reader quadratic."""
    for position in _quotes(data):
        assert strictjson._STRING.match(data, position) is not None


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_the_old_attack_is_answered(name: str) -> None:
    data = ADVERSARIAL[name]
    if data.endswith(b'"]'):
        assert strictjson.loads(data, max_bytes=2 * MiB, max_depth=4) == ['"' * (MiB // 2)]
    else:
        with pytest.raises(strictjson.JSONRefused, match="not valid JSON"):
            strictjson.loads(data, max_bytes=2 * MiB, max_depth=4)


def test_brackets_inside_hostile_strings_do_not_count() -> None:
    inside = b'["' + b'\\"[' * 1000 + b'"]'
    assert strictjson.loads(inside, max_bytes=MiB, max_depth=1) == ['"[' * 1000]


def test_containers_are_counted_before_parsing() -> None:
    limit = 1000
    text = b"[" + b",".join([b"[]"] * (limit - 1)) + b"]"
    assert len(strictjson.loads(text, max_bytes=MiB, max_depth=2, max_containers=limit)) == 999
    over = b"[" + b",".join([b"{}"] * limit) + b"]"
    with pytest.raises(strictjson.JSONRefused, match="more than 1000 objects and arrays"):
        strictjson.loads(over, max_bytes=MiB, max_depth=2, max_containers=limit)
    in_strings = b'["' + b"[]" * limit + b'"]'
    assert strictjson.loads(in_strings, max_bytes=MiB, max_depth=2, max_containers=1)


def _bundle_of_manifest(path: Path, manifest: bytes) -> Path:
    """A bundle holding only this manifest."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("sealdrop-bundle/manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return path


def test_a_manifest_of_empty_containers_is_refused(tmp_path: Path) -> None:
    manifest = b'{"format":"sealdrop-bundle","version":1,"pad":[' + b"[]," * (1 << 20) + b"[]]}"
    path = _bundle_of_manifest(tmp_path / "bundle.tar", manifest)
    with pytest.raises(BundleError, match="more than 1048576 objects and arrays"):
        Bundle(path)


def test_a_manifest_of_escaped_quotes_is_refused_at_once(tmp_path: Path) -> None:
    """Issue 17: a 128 KiB manifest like this held `open` 97 s and `import-replies` 83 s."""
    manifest = b'{"format":"sealdrop-bundle","pad":"' + b'\\"' * MiB
    path = _bundle_of_manifest(tmp_path / "bundle.tar", manifest)
    with pytest.raises(BundleError, match="manifest is damaged"):
        Bundle(path)
