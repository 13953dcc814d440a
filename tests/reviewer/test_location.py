"""Staff side of issue 20: a file that says where it was made is flagged in the thread, and
saving removes location and camera details by default (photos by sealdrop's own filter),
while the vault keeps the original; --keep-metadata keeps them, for evidence."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reviewer_helpers import seal, write_bundle
from test_inbox_app import _app, _text

from reviewer import photo_metadata
from reviewer.app.thread_screen import ThreadScreen
from reviewer.attachments import location_flag
from tests.photos import LATITUDE, MODEL, identifying, photo, tags, video


def test_photos_with_a_location_are_flagged(tmp_path: Path) -> None:
    assert location_flag(photo(tmp_path, "jpeg")) is not None
    assert location_flag(photo(tmp_path, "png")) is not None
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(photo_metadata.strip(photo(tmp_path, "jpeg", "x.jpg").read_bytes()))
    assert location_flag(plain) is None
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500 + b"\xa9xyz+43.3178+045.6981/")
    assert location_flag(video) is not None


def test_show_flags_and_save_strips_by_default(cli, tmp_path: Path, keys) -> None:
    jpeg = photo(tmp_path, "jpeg").read_bytes()
    bundle = tmp_path / "b.tar"
    files = [("IMG_2041.jpg", "image/jpeg", jpeg), ("notes.txt", "text/plain", b"words")]
    write_bundle(bundle, {"geo1": seal([keys.public], "see the photo", files)})
    assert cli("open", bundle, "--passphrase-file", keys.passphrase_file).exit_code == 0
    shown = " ".join(cli("show", "geo1").output.split())
    assert "IMG_2041.jpg" in shown and "LOCATION:" in shown
    assert shown.count("LOCATION:") == 1  # the text file is not flagged

    saved = cli("save", "geo1", "--out", tmp_path / "out")
    assert saved.exit_code == 0, saved.output
    assert "location and camera details removed" in saved.output
    clean = tmp_path / "out" / "IMG_2041.jpg"
    assert identifying(clean) == [] and tags(clean)["[EXIF] Orientation"] == "6"

    kept = cli("save", "geo1", "--out", tmp_path / "evidence", "--keep-metadata")
    assert kept.exit_code == 0, kept.output
    original = tmp_path / "evidence" / "IMG_2041.jpg"
    assert original.read_bytes() == jpeg  # the vault kept the original, byte for byte
    found = tags(original)
    assert found["[EXIF] GPSLatitude"] == LATITUDE and found["[EXIF] Model"] == MODEL


def test_a_broken_photo_is_saved_but_said_to_keep_its_metadata(cli, tmp_path: Path, keys):
    broken = photo(tmp_path, "jpeg").read_bytes()[:200]
    bundle = tmp_path / "b.tar"
    write_bundle(bundle, {"bad1": seal([keys.public], "", [("cut.jpg", "image/jpeg", broken)])})
    cli("open", bundle, "--passphrase-file", keys.passphrase_file)
    saved = cli("save", "bad1", "--out", tmp_path / "out")
    assert saved.exit_code == 0 and "metadata NOT removed" in " ".join(saved.output.split())


def test_the_staff_app_flags_the_photo_in_the_thread(cli, vault: Path, tmp_path: Path, keys):
    files = [("IMG_2041.jpg", "image/jpeg", photo(tmp_path, "jpeg").read_bytes())]
    bundle = tmp_path / "b.tar"
    write_bundle(bundle, {"geo2": seal([keys.public], "где это снято", files)})
    assert cli("open", bundle, "--passphrase-file", keys.passphrase_file).exit_code == 0

    async def look() -> None:
        app = _app(vault)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("enter")
            assert isinstance(app.screen, ThreadScreen)
            assert "LOCATION: this file says where it was made" in _text(app)

    asyncio.run(look())


def test_a_saved_video_loses_its_place_and_phone(cli, tmp_path: Path, keys) -> None:
    clip = video(tmp_path).read_bytes()
    bundle = tmp_path / "b.tar"
    write_bundle(bundle, {"vid1": seal([keys.public], "", [("clip.mp4", "video/mp4", clip)])})
    cli("open", bundle, "--passphrase-file", keys.passphrase_file)
    assert "LOCATION:" in " ".join(cli("show", "vid1").output.split())
    saved = cli("save", "vid1", "--out", tmp_path / "out")
    assert "location and camera details removed" in saved.output
    cleaned = tmp_path / "out" / "clip.mp4"
    assert identifying(cleaned) == [] and len(cleaned.read_bytes()) == len(clip)
