"""DirectorySink writes whole MiBs and starts writeback as it goes, so its one fsync per file
has little left."""

from __future__ import annotations

import os

import pytest

from crypto import Contents, DirectorySink, PartInfo, sinks


def test_a_large_part_is_handed_to_the_disk_in_steps_and_fsynced_once(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised: list[tuple[int, int]] = []
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(sinks, "WRITEBACK_STEP", 1 << 20)
    monkeypatch.setattr(sinks, "_START_WRITEBACK", os.POSIX_FADV_DONTNEED)
    monkeypatch.setattr(
        os, "posix_fadvise", lambda fd, offset, length, advice: advised.append((offset, length))
    )
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    writes: list[int] = []
    real_write = os.write
    monkeypatch.setattr(
        os, "write", lambda fd, data: writes.append(len(data)) or real_write(fd, data)
    )
    block = os.urandom(65536)
    sink = DirectorySink(tmp_path / "out")
    sink.begin_part(PartInfo("file", "big", "x/y"))
    for _ in range(3 * 16 + 3):  # 3 MiB and 3 chunks, in the uneven pieces records make
        sink.write(memoryview(block)[:5])
        sink.write(memoryview(block)[5:])
    sink.end_part(51 * 65536)
    assert writes == [sinks.WRITE_BYTES] * 3 + [3 * 65536]
    assert advised == [(0, 1 << 20), (1 << 20, 1 << 20), (2 << 20, 1 << 20)]
    assert len(fsyncs) == 1  # the part file, once
    contents = Contents(["00"], header_hash=bytes(32), version=2)
    sink.commit(contents)
    assert (tmp_path / "out" / "part-000").read_bytes() == block * 51
