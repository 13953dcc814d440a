"""The reviewer's photo parsers (reviewer/photo_metadata.py), on photos with their metadata,
mutated: cleaning either succeeds or says the photo is not one or is malformed, and the
location check always answers; nothing else is ever raised."""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from pathlib import Path

from hypothesis import given

from reviewer import photo_metadata
from tests.photos import photo, video, webp

from .harness import fuzz_target
from .strategies import mutated

SCRATCH = Path(tempfile.mkdtemp(prefix="sealdrop-fuzz-photos-"))
atexit.register(shutil.rmtree, SCRATCH, True)


SEEDS = [
    photo(SCRATCH, "jpeg").read_bytes(),
    photo(SCRATCH, "png").read_bytes(),
    webp(),
    video(SCRATCH, moov_first=True).read_bytes(),
]


@given(mutated(SEEDS))
@fuzz_target("photos (location check, strip on save)")
def test_photo_parsers(data: bytes) -> None:
    try:
        cleaned = photo_metadata.strip(data)
    except (photo_metadata.NotAPhoto, photo_metadata.MalformedPhoto):
        pass
    else:
        assert len(cleaned) <= len(data) + 64  # at most the orientation segment added
    path = SCRATCH / "photo"
    path.write_bytes(data)
    assert photo_metadata.carries_location(path) in (True, False)
    if photo_metadata.is_video(data[:16]):
        with contextlib.suppress(photo_metadata.MalformedPhoto):
            photo_metadata.strip_video(path)
        assert path.stat().st_size == len(data)
