"""A large no-JS post's ciphertext is handed to the disk as it is written (posix_fadvise starts
the writeback), so that the fsync of its publish has little left to wait for (issue 18)."""

from __future__ import annotations

import os

import pytest

from intake import files

from .conftest import Intake
from .helpers import post_form


def test_a_large_post_starts_its_writeback_as_it_grows(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def record(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((offset, length, advice))
        real(fd, offset, length, advice)

    monkeypatch.setattr(files, "WRITEBACK_STEP", 1 << 20)
    monkeypatch.setattr(files.os, "posix_fadvise", record)
    big = [("big.bin", "application/octet-stream", os.urandom(3 << 20))]
    assert post_form(intake.client, "big", big).status_code == 200
    assert len(advised) >= 2, advised
    assert all(advice == os.POSIX_FADV_DONTNEED for _, _, advice in advised)
    # Whole stretches of the file, one after another from its start, a step or more each.
    assert [offset for offset, _, _ in advised] == [0] + [
        sum(length for _, length, _ in advised[:i]) for i in range(1, len(advised))
    ]
    assert all(length >= 1 << 20 for _, length, _ in advised)
