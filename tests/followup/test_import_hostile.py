"""import-replies checks the whole bundle before it stores anything (issue 10, item 4)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.codename import Codename
from intake.errors import storage_full
from intake.replies import ImportError_, Reply, import_replies
from intake.storage import Store

from .conftest import reply_envelope, write_bundle


def stored(intake) -> tuple[int, list[Path]]:
    with Session(intake.app.extensions["sealdrop"].engine) as session:
        count = session.scalar(select(func.count()).select_from(Reply)) or 0
    directory = intake.settings.data_dir / "replies"
    return count, sorted(directory.iterdir()) if directory.is_dir() else []


def two_replies(tmp_path: Path) -> Path:
    keys = Codename.generate().derive()
    first = reply_envelope(keys.public_key, "first")
    second = reply_envelope(keys.public_key, "second")
    return write_bundle(
        tmp_path / "r.tar", [("a1", keys.mailbox, first), ("b2", keys.mailbox, second)]
    )


def with_second_hour(bundle: Path, hour: str) -> Path:
    """The same bundle, its manifest naming ``hour`` for reply 2 (no hash covers it)."""
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    info, manifest = members[-1]
    doc = json.loads(manifest)
    doc["replies"][1]["received"] = hour
    members[-1] = (info, json.dumps(doc).encode())
    with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in members:
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return bundle


@pytest.mark.parametrize("hour", ["9999-99-99T99:00Z", "٢٠٢٦-١١-٢٤T١٢:00Z", "2026-11-24T12:30Z"])
def test_reply_2_with_an_impossible_hour_stores_not_even_reply_1(intake, tmp_path, hour):
    bundle = with_second_hour(two_replies(tmp_path), hour)
    with pytest.raises(ImportError_, match="hour"):
        import_replies(intake.app, bundle)
    assert stored(intake) == (0, [])


def test_room_for_reply_1_only_stores_nothing_and_says_so(intake, tmp_path, monkeypatch):
    bundle = two_replies(tmp_path)
    room = [2500]  # bytes free above the reserve: one reply fits, two do not

    def check_disk(self, needed: int) -> None:
        if needed > room[0]:
            raise storage_full()
        room[0] -= needed

    monkeypatch.setattr(Store, "check_disk", check_disk)
    with pytest.raises(ImportError_, match="no room"):
        import_replies(intake.app, bundle)
    assert stored(intake) == (0, [])


def test_a_bundle_larger_than_the_budget_is_refused_whole_and_says_so(make_intake, tmp_path):
    """Issue 17, G9: replies (and staff events) are stored ciphertext too, charged to the
    storage budget before a byte is written; a bundle that does not fit is refused up front,
    in words, and nothing is lost: the same bundle imports once there is room."""
    mib = 1 << 20
    intake = make_intake(STORAGE_BUDGET_BYTES=4 * mib, SMALL_RESERVE_BYTES=mib)
    store = intake.app.extensions["sealdrop"]
    keys = Codename.generate().derive()
    big = reply_envelope(keys.public_key, "big", [("a.bin", "x/y", b"a" * (2 * mib))])
    bundle = write_bundle(
        tmp_path / "r.tar", [("a1", keys.mailbox, big), ("b2", keys.mailbox, big)]
    )
    with pytest.raises(ImportError_, match="do not fit in the storage budget"):
        import_replies(intake.app, bundle)
    assert stored(intake) == (0, [])
    assert store.used_bytes() == 0  # nothing stays charged for the refused bundle
    one = write_bundle(tmp_path / "one.tar", [("a1", keys.mailbox, big)])
    assert import_replies(intake.app, one) == ["a1"]
    assert store.used_bytes() == len(big)  # a reply counts against the budget
    # Texts keep their slice: the rest of the general space is 3 MiB - 2 MiB - a bit.
    assert store.ledger().stored == len(big)
    store.cleanup()
    assert store.used_bytes() == len(big)  # and the recount agrees
