"""The browser's strip-metadata.js (run in Node): a photo's location, camera, XMP, comments
and what phones append after the image are gone, the image data and orientation kept; other
files are left alone; a malformed photo is refused rather than sent as it is."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from reviewer import photo_metadata
from tests.photos import base_jpeg, identifying, photo, tags, video, webp

MODULE = Path(__file__).resolve().parents[2] / "intake" / "static" / "src" / "strip-metadata.js"
SCRIPT = """
const fs = require('node:fs');
const { stripBytes } = require(process.argv[1]);
const [input, output] = process.argv.slice(2);
try {
  const parts = stripBytes(new Uint8Array(fs.readFileSync(input)), 'photo');
  if (parts === null) { process.stdout.write('"not a photo"'); process.exit(0); }
  fs.writeFileSync(output, Buffer.concat(parts.map((p) => Buffer.from(p))));
  process.stdout.write('"cleaned"');
} catch (error) {
  process.stdout.write(JSON.stringify(error.code || String(error)));
}
"""


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed; the page scripts' tests need Node.js (see README)")
    return path


def strip(node: str, source: Path, target: Path) -> str:
    result = subprocess.run(
        [node, "-e", SCRIPT, str(MODULE), str(source), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_location_and_camera_are_gone(node: str, tmp_path: Path, kind: str) -> None:
    source = photo(tmp_path, kind)
    assert "[EXIF] GPSLatitude" in identifying(source)
    target = tmp_path / f"clean-{source.name}"
    assert strip(node, source, target) == "cleaned"
    assert identifying(target) == []
    assert b"trailer" not in target.read_bytes() and b"43.3178" not in target.read_bytes()
    left = tags(target)
    assert left["[File] ImageWidth" if kind == "jpeg" else "[PNG] ImageWidth"] == "1"
    if kind == "jpeg":
        assert left["[EXIF] Orientation"] == "6"  # still shown upright
        assert target.read_bytes().endswith(base_jpeg()[-40:])  # the scan, byte for byte


def test_scans_with_stuffing_and_restarts_are_copied_whole(node: str, tmp_path: Path) -> None:
    scan = b"\x12\xff\x00\x34\xff\xd0\x56\xff\xff\xd1\x78"
    jpeg = base_jpeg().replace(b"\x3f\xff\xd9", scan + b"\xff\xd9")
    source = tmp_path / "s.jpg"
    source.write_bytes(jpeg + b"\xff\xe1 appended")
    target = tmp_path / "t.jpg"
    assert strip(node, source, target) == "cleaned"
    assert target.read_bytes() == jpeg


def test_other_files_and_broken_photos(node: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.docx"
    text.write_bytes(b"PK\x03\x04 not a photo")
    assert strip(node, text, tmp_path / "x") == "not a photo"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(base_jpeg()[:30])
    assert strip(node, broken, tmp_path / "y") == "strip"


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_the_browser_and_the_reviewer_clean_alike(node: str, tmp_path: Path, kind: str) -> None:
    """The staff side (reviewer/photo_metadata.py) follows the same rules, byte for byte."""
    source = photo(tmp_path, kind)
    target = tmp_path / "js-cleaned"
    assert strip(node, source, target) == "cleaned"
    assert photo_metadata.strip(source.read_bytes()) == target.read_bytes()


def test_webp_loses_exif_and_xmp_alike_in_both(node: str, tmp_path: Path) -> None:
    source = tmp_path / "photo.webp"
    source.write_bytes(webp())
    target = tmp_path / "clean.webp"
    assert strip(node, source, target) == "cleaned"
    cleaned = target.read_bytes()
    assert b"EXIF" not in cleaned and b"GPSLatitude" not in cleaned and b"VP8L" in cleaned
    assert cleaned[20] & 0x0C == 0  # VP8X no longer announces EXIF or XMP
    assert int.from_bytes(cleaned[4:8], "little") == len(cleaned) - 8
    assert photo_metadata.strip(source.read_bytes()) == cleaned


VIDEO_SCRIPT = """
const fs = require('node:fs');
const { stripFile } = require(process.argv[1]);
const [input, output] = process.argv.slice(2);
const file = new File([fs.readFileSync(input)], 'clip.mp4', { type: 'video/mp4' });
stripFile(file).then(async ({ file: cleaned, cleaned: done }) => {
  fs.writeFileSync(output, Buffer.from(await cleaned.arrayBuffer()));
  process.stdout.write(JSON.stringify(done));
});
"""


@pytest.mark.parametrize("moov_first", [False, True])
def test_a_video_loses_its_place_and_phone_in_place(
    node: str, tmp_path: Path, moov_first: bool
) -> None:
    source = video(tmp_path, moov_first)
    assert "[QuickTime] GPSCoordinates" in identifying(source)
    target = tmp_path / "clean.mp4"
    result = subprocess.run(
        [node, "-e", VIDEO_SCRIPT, str(MODULE), str(source), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) is True
    assert identifying(target) == []
    before, after = source.read_bytes(), target.read_bytes()
    assert len(after) == len(before)  # renamed in place: no offset moves
    assert after.replace(b"free", b"udta") == before
