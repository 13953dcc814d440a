"""DirectorySink writes whole MiBs and starts writeback as it goes, so its one fsync per file
has little left."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from crypto import Contents, DirectorySink, PartInfo, sinks, writeback


def test_a_large_part_is_handed_to_the_disk_in_steps_and_fsynced_once(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised: list[tuple[int, int]] = []
    fsyncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(writeback, "WRITEBACK_STEP", 1 << 20)
    monkeypatch.setattr(writeback, "_START_WRITEBACK", os.POSIX_FADV_DONTNEED)
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


def test_only_a_part_of_a_mib_or_more_gets_a_writing_thread(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    real_writer = sinks._PartWriter

    def counted(fd: int) -> sinks._PartWriter:
        started.append(fd)
        return real_writer(fd)

    monkeypatch.setattr(sinks, "_PartWriter", counted)
    block = memoryview(os.urandom(65536))
    sink = DirectorySink(tmp_path / "out")
    for chunks in (15, 16, 40):  # 960 KiB, 1 MiB, 2.5 MiB
        sink.begin_part(PartInfo("file", f"p{chunks}", "x/y"))
        for _ in range(chunks):
            sink.write(block)
        sink.end_part(chunks * 65536)
    assert len(started) == 2  # a part under a MiB is one write at its end, with no thread
    sink.commit(Contents(["00"], header_hash=bytes(32), version=2))
    sizes = [(tmp_path / "out" / f"part-00{i}").stat().st_size for i in range(3)]
    assert sizes == [15 * 65536, 16 * 65536, 40 * 65536]


def test_a_full_disk_under_the_writing_thread_fails_the_part_and_keeps_nothing(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls: list[int] = []

    def filling(fd: int, data: memoryview) -> int:
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", filling)
    block = memoryview(os.urandom(65536))
    sink = DirectorySink(tmp_path / "out")
    sink.begin_part(PartInfo("file", "big", "x/y"))
    with pytest.raises(OSError) as raised:
        for _ in range(20 * 16):  # 20 MiB: the error reaches the filling thread on the way
            sink.write(block)
        sink.end_part(20 << 20)
    assert raised.value.errno == errno.ENOSPC
    assert len(calls) == 2  # the writing thread stopped at the first failure
    sink.discard()
    assert list(tmp_path.iterdir()) == []
    assert not any(t.name == "sealdrop-writer" for t in threading.enumerate())
