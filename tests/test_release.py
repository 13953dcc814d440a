"""`make release` (tools/release.py) is reproducible and ships what the server needs: two builds
of the same commit, each from its own `git archive` and `npm ci` in its own directory, give
identical bytes; the wheel carries the minified, precompressed bundle and its asset manifest;
SHA256SUMS matches the files."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def release(out: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "release.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to build the bundle")
def test_two_builds_of_one_commit_are_identical_and_complete(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "dist", tmp_path / "b" / "elsewhere"
    release(first)
    release(second)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name

    sums = dict(
        reversed(line.split("  ")) for line in (first / "SHA256SUMS").read_text().splitlines()
    )
    assert set(sums) == set(names) - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((first / name).read_bytes()).hexdigest() == digest

    (wheel,) = first.glob("sealdrop-*-py3-none-any.whl")
    epoch = int(
        subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=REPO, capture_output=True, text=True
        ).stdout
    )
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
        assert members[-1].endswith(".dist-info/RECORD")
        assert not [m for m in members if "node_modules" in m or "__pycache__" in m]
        # The compiled catalogs the server and the staff app need to start in Russian.
        assert "intake/translations/ru/LC_MESSAGES/messages.mo" in members
        assert "reviewer/locale/ru/LC_MESSAGES/sealdrop-reviewer.mo" in members
        manifest = json.loads(archive.read("intake/assets.json"))["assets"]
        for name in ("js/app.js", "js/worker.js", "js/sodium.js", "css/style.css"):
            data = archive.read(f"intake/static/{name}")
            assert hashlib.sha256(data).hexdigest() == manifest[name]
            if name.endswith(".js"):
                assert gzip.decompress(archive.read(f"intake/static/{name}.gz")) == data
                assert b"\n  " not in data  # minified: no indented lines
        assert set(manifest) == {
            m.removeprefix("intake/static/")
            for m in members
            if m.startswith(("intake/static/js/", "intake/static/css/"))
        }
        stamp = time.gmtime(epoch)[:6]
        stamp = (*stamp[:5], stamp[5] // 2 * 2)  # zip keeps even seconds
        assert {info.date_time for info in archive.infolist()} == {stamp}
