"""A large no-JS post's ciphertext is handed to the disk as it is written (posix_fadvise starts
the writeback), so that the fsync of its publish has little left to wait for (issue 18)."""

from __future__ import annotations

import os

import pytest

from crypto import writeback

from .conftest import Intake
from .helpers import post_form, seal, upload

STEP = 1 << 20


@pytest.fixture
def advised(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (offset, length) of each writeback asked for, a step of a MiB."""
    calls: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def record(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_DONTNEED
        calls.append((offset, length))
        real(fd, offset, length, advice)

    monkeypatch.setattr(writeback, "WRITEBACK_STEP", STEP)
    monkeypatch.setattr(writeback.os, "posix_fadvise", record)
    return calls


def test_a_large_post_starts_its_writeback_as_it_grows(
    intake: Intake, advised: list[tuple[int, int]]
) -> None:
    big = [("big.bin", "application/octet-stream", os.urandom(3 * STEP))]
    assert post_form(intake.client, "big", big).status_code == 200
    # Each whole MiB of the file once, in order, as soon as it is whole.
    assert advised == [(0, STEP), (STEP, STEP), (2 * STEP, STEP)]


def test_a_chunked_upload_starts_its_writeback_across_chunks(
    intake: Intake, advised: list[tuple[int, int]]
) -> None:
    envelope = seal([intake.public_key], "big", [("b.bin", "a/b", os.urandom(3 * STEP))])
    assert upload(intake.client, envelope, chunk=300_000).status_code == 201
    assert advised == [(0, STEP), (STEP, STEP), (2 * STEP, STEP)]
