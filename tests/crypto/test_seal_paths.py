"""Every way of handing a part to the Sealer seals exactly the bytes FORMAT.md section 9 gives
for the same records, whatever the batch size: data copied from writes of any size (one
record or many per write, the batch's end inside a record or inside a head), and a plain file
read straight into the chunk buffer. The reference is built from the primitives
(tests.vectors.generate_v2.raw_v2), not from the Sealer."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from crypto import CHUNK_SIZE, Identity, MemorySink, PartInfo, Sealer, gcm_stream, open_envelope
from crypto.framing import BEGIN, CLOSE, DATA, END, MAX_DATA, record
from crypto.padding import padded_length
from crypto.records import RecordWriter
from tests.vectors.generate import SECRET_A
from tests.vectors.generate_v2 import FILE_KEY, FixedWrap, public, raw_v2

from .readers import CountingReader

INFO = PartInfo("file", "f.bin", "x/y")
CONTENT = random.Random(22).randbytes(9 * MAX_DATA + 12345)  # past two batches of 4


def _reference(writes: Sequence[bytes]) -> bytes:
    """The envelope for one file part given as ``writes``: each write becomes its own DATA
    records of at most MAX_DATA bytes (FORMAT.md 3.3)."""
    records = record(BEGIN, INFO.to_json())
    for data in writes:
        records += b"".join(
            record(DATA, data[i : i + MAX_DATA]) for i in range(0, len(data), MAX_DATA)
        )
    records += record(END, sum(map(len, writes)).to_bytes(8, "big")) + record(CLOSE, b"{}")
    return raw_v2(["a"], records + bytes(padded_length(len(records)) - len(records)))


def _seal(add: Callable[[Sealer], None]) -> bytes:
    out = io.BytesIO()
    with Sealer(out, [public("a")], version=2, file_key=FILE_KEY, wrap=FixedWrap()) as sealer:
        add(sealer)
    assert sealer.bytes_written == len(out.getvalue())
    return out.getvalue()


def _written(pieces: Sequence[bytes | bytearray | memoryview]) -> bytes:
    def add(sealer: Sealer) -> None:
        sealer.begin_part(INFO)
        for piece in pieces:
            sealer.write(piece)
        sealer.end_part()

    return _seal(add)


def _cut(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    pieces, start = [], 0
    for size in sizes:
        pieces.append(data[start : start + size])
        start += size
    return [*pieces, data[start:]]


@pytest.fixture(params=[1, 2, 4], ids=lambda n: f"batch{n}")
def batch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(gcm_stream, "SEAL_BATCH", request.param)
    return request.param


@pytest.mark.parametrize(
    "sizes",
    [
        [],  # one write of everything
        [MAX_DATA] * 9,  # one record per write
        [2 * MAX_DATA, 3 * MAX_DATA],  # several records per write
        [1, 4, MAX_DATA - 5, MAX_DATA + 1, 65531, 3, 200_000],  # heads cut by chunk ends
        [7] * 40 + [MAX_DATA - 1] * 3,
    ],
    ids=["whole", "records", "multi", "odd", "small"],
)
def test_writes_of_any_size_seal_the_reference_bytes(batch: int, sizes: list[int]) -> None:
    pieces = _cut(CONTENT, sizes)
    expected = _reference(pieces)
    assert _written(pieces) == expected
    # a bytearray or a memoryview of another shape takes the general path
    assert _written([bytearray(p) for p in pieces]) == expected
    assert _written([memoryview(p).cast("B", (1, len(p))) for p in pieces if p]) == expected


def test_a_file_read_straight_into_the_buffer_seals_the_reference_bytes(
    batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _reference(_cut(CONTENT, [MAX_DATA] * 9))
    (tmp_path / "f.bin").write_bytes(CONTENT)

    def no_copying(self: RecordWriter, data: object) -> None:
        raise AssertionError("a plain file was copied through write()")

    with monkeypatch.context() as patched:  # proves the readinto path is the one taken
        patched.setattr(RecordWriter, "write", no_copying)
        with (tmp_path / "f.bin").open("rb") as source:
            assert _seal(lambda s: s.add_file("f.bin", "x/y", source)) == expected
        with (tmp_path / "f.bin").open("rb", buffering=0) as raw:
            assert _seal(lambda s: s.add_file("f.bin", "x/y", raw)) == expected
        assert _seal(lambda s: s.add_file("f.bin", "x/y", io.BytesIO(CONTENT))) == expected
    assert _seal(lambda s: s.add_file("f.bin", "x/y", CONTENT)) == expected


def test_a_source_that_overrides_read_is_read_through_it(batch: int) -> None:
    source = CountingReader(CONTENT)
    sealed = _seal(lambda s: s.add_file("f.bin", "x/y", source))
    assert source.count == len(CONTENT)
    assert sealed == _reference(_cut(CONTENT, [MAX_DATA] * 9))


@pytest.mark.parametrize("size", [0, 1, MAX_DATA + 1])
def test_a_short_file_and_an_empty_one(batch: int, size: int) -> None:
    content = CONTENT[:size]
    expected = _reference(_cut(content, [MAX_DATA] * (size // MAX_DATA)))
    assert _seal(lambda s: s.add_file("f.bin", "x/y", io.BytesIO(content))) == expected


@pytest.mark.parametrize("version", [1, 2])
def test_both_versions_open_what_every_path_sealed(batch: int, version: int) -> None:
    alice = Identity(SECRET_A)
    for content in (CONTENT, io.BytesIO(CONTENT)):
        out = io.BytesIO()
        with Sealer(out, [alice.public_key], version=version) as sealer:
            sealer.add_file("f.bin", "x/y", content)
            sealer.add_message("after")
        opened = open_envelope(io.BytesIO(out.getvalue()), [alice], MemorySink())
        assert opened.files[0].data == CONTENT and opened.message
        assert opened.message.data == b"after"


def test_the_chunk_sealer_uses_each_index_once_and_refuses_misuse() -> None:
    written: list[bytes] = []
    sealer = gcm_stream.ChunkSealer(bytes(32), lambda sealed: written.append(bytes(sealed)))
    whole = memoryview(CONTENT[: 2 * CHUNK_SIZE])
    sealer.seal(whole, False)
    with pytest.raises(ValueError, match="only the last one short"):
        sealer.seal(whole[:100], False)
    with pytest.raises(ValueError, match="at most SEAL_BATCH"):
        sealer.seal(memoryview(bytes((gcm_stream.SEAL_BATCH + 1) * CHUNK_SIZE)), False)
    sealer.seal(whole[:100], True)
    with pytest.raises(ValueError, match="already sealed"):
        sealer.seal(whole[:100], True)
    sealed = b"".join(written)
    opener = gcm_stream.ChunkOpener(bytes(32))
    size = gcm_stream.SEALED_CHUNK_SIZE
    pieces = [sealed[i : i + size] for i in range(0, len(sealed), size)]
    opened = [opener.open(i, p, i == len(pieces) - 1).tobytes() for i, p in enumerate(pieces)]
    assert opened == [CONTENT[:CHUNK_SIZE], CONTENT[CHUNK_SIZE : 2 * CHUNK_SIZE], CONTENT[:100]]
