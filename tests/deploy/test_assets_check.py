"""`sealdrop-intake check` compares the served browser files with intake/assets.json, the
hashes the release build recorded: an altered byte, a stray script or a missing manifest is a
problem that names the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from intake import assets
from intake.check_keys import check_assets


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, Path]:
    if not assets.MANIFEST.is_file():
        pytest.fail("intake/assets.json is missing: build the bundle first (make js)")
    static = tmp_path / "static"
    for directory in assets.SERVED_DIRS:
        shutil.copytree(assets.STATIC_DIR / directory, static / directory)
    manifest = tmp_path / "assets.json"
    shutil.copyfile(assets.MANIFEST, manifest)
    return manifest, static


def test_the_built_files_match_their_manifest(installed: tuple[Path, Path]) -> None:
    (finding,) = check_assets(*installed)
    assert finding.ok and "browser files match" in finding.message
    assert set(assets.load_manifest(installed[0])) >= {"js/app.js", "js/app.js.gz", "css/style.css"}


def test_one_altered_byte_is_named(installed: tuple[Path, Path]) -> None:
    manifest, static = installed
    script = static / "js" / "worker.js"
    data = bytearray(script.read_bytes())
    data[100] ^= 1
    script.write_bytes(bytes(data))
    (finding,) = check_assets(manifest, static)
    assert not finding.ok and "static/js/worker.js differs from the release" in finding.message


def test_a_stray_or_missing_file_is_named(installed: tuple[Path, Path]) -> None:
    manifest, static = installed
    (static / "js" / "extra.js").write_text("alert(1)")
    (static / "js" / "app.js.gz").unlink()
    messages = [str(f) for f in check_assets(manifest, static)]
    assert "PROBLEM: static/js/app.js.gz is missing" in messages[0]
    assert "static/js/extra.js is served but not part of the release" in messages[1]
    assert len(messages) == 2


def test_no_manifest_is_a_problem_that_says_what_to_do(installed: tuple[Path, Path]) -> None:
    manifest, static = installed
    manifest.unlink()
    (finding,) = check_assets(manifest, static)
    assert not finding.ok and "install the release wheel" in finding.message
    manifest.write_text('{"format": "other"}')
    (finding,) = check_assets(manifest, static)
    assert not finding.ok and "not a sealdrop-assets-v1 manifest" in finding.message
