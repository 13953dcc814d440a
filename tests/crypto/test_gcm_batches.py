"""Format v2's chunks are written and read in batches (crypto.gcm_stream); the batch edges
must change nothing a reader or a recipient can see. Batches of 2 chunks keep this fast."""

from __future__ import annotations

import functools
import io

import pytest

from crypto import (
    CHUNK_SIZE,
    Contents,
    CorruptedEnvelope,
    Identity,
    MemorySink,
    Sealer,
    TruncatedEnvelope,
    gcm_stream,
    open_envelope,
)
from crypto.envelope import header_length
from tests.vectors.generate_v2 import FixedWrap

from .readers import CountingReader

HEADER = header_length(1, 2)
CHUNK_COUNTS = range(1, 8)  # up to three full reading batches and a bit


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcm_stream, "READ_BATCH", 2)
    monkeypatch.setattr(gcm_stream, "SEAL_BATCH", 2)


class _ReadOnly:
    """A source with read() only, as reviewer.streaming.Prefetcher is."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._file.read(n)


def _content(chunks: int) -> bytes:
    return bytes(range(256)) * ((chunks * CHUNK_SIZE - 9000) // 256)


@functools.cache
def _sealed(alice: Identity, chunks: int) -> tuple[bytes, bytes]:
    content = _content(chunks)
    return content, _seal(alice, content)


def _seal(alice: Identity, content: bytes) -> bytes:
    out = io.BytesIO()
    with Sealer(out, [alice.public_key], version=2, file_key=bytes(32), wrap=FixedWrap()) as s:
        s.add_file("f.bin", "x/y", io.BytesIO(content))
    assert s.bytes_written == len(out.getvalue())
    return out.getvalue()


def _open(envelope: bytes, alice: Identity, read_only: bool) -> Contents:
    source = _ReadOnly(envelope) if read_only else io.BytesIO(envelope)
    return open_envelope(source, [alice], MemorySink(len(envelope)))  # type: ignore[arg-type]


def _chunk_count(envelope: bytes) -> int:
    return -(-(len(envelope) - HEADER) // gcm_stream.SEALED_CHUNK_SIZE)


@pytest.mark.parametrize("read_only", [False, True], ids=["readinto", "read"])
@pytest.mark.parametrize("chunks", CHUNK_COUNTS)
def test_every_chunk_count_opens_and_refuses_cuts_at_every_chunk_edge(
    alice: Identity, chunks: int, read_only: bool
) -> None:
    content, envelope = _sealed(alice, chunks)
    assert _chunk_count(envelope) == chunks
    assert _open(envelope, alice, read_only).files[0].data == content
    for kept in range(chunks):
        with pytest.raises(TruncatedEnvelope):
            _open(envelope[: HEADER + kept * gcm_stream.SEALED_CHUNK_SIZE], alice, read_only)
    with pytest.raises(CorruptedEnvelope, match="failed authentication"):
        _open(envelope[:-1], alice, read_only)  # a cut inside the last chunk
    with pytest.raises(CorruptedEnvelope):
        _open(envelope + b"\0", alice, read_only)


def test_the_sealed_bytes_do_not_depend_on_the_batch_size(
    alice: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = _content(5)
    sealed = {}
    for batch in (1, 2, 3):
        monkeypatch.setattr(gcm_stream, "SEAL_BATCH", batch)
        sealed[batch] = _seal(alice, content)
    assert sealed[1] == sealed[2] == sealed[3]


def test_a_reader_that_overrides_read_sees_every_byte(alice: Identity) -> None:
    content, envelope = _sealed(alice, 5)
    source = CountingReader(envelope)
    contents = open_envelope(source, [alice], MemorySink(len(envelope)))
    assert contents.files[0].data == content and source.count == len(envelope)
