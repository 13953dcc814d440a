"""Round trips and tampering for the envelope format."""

from __future__ import annotations

import io
import os
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CHUNK_SIZE,
    Attachment,
    CorruptedEnvelope,
    DirectorySink,
    EnvelopeError,
    Identity,
    NotAnEnvelope,
    NotForYou,
    NullSink,
    PartInfo,
    Sealer,
    TruncatedEnvelope,
    UnsupportedVersion,
    open_bytes,
    open_envelope,
    plaintext_length_of,
    read_header,
    seal_bytes,
)
from crypto import envelope as envelope_module
from crypto.envelope import header_length, sealed_chunk_size, sealed_payload_length
from crypto.padding import padded_length

# Every test here runs for both versions: version 1 is still read, version 2 is written.
HEADER_1 = 0
SEALED_CHUNK_SIZE = 0
VERSION = 0


@pytest.fixture(autouse=True, params=[1, 2], ids=["v1", "v2"])
def written_version(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    version = request.param
    monkeypatch.setattr(envelope_module, "WRITTEN_VERSION", version)
    monkeypatch.setitem(globals(), "HEADER_1", header_length(1, version))
    monkeypatch.setitem(globals(), "SEALED_CHUNK_SIZE", sealed_chunk_size(version))
    monkeypatch.setitem(globals(), "VERSION", version)
    return version


def test_empty_message_round_trip(alice: Identity) -> None:
    contents = open_bytes(seal_bytes([alice.public_key], ""), [alice])
    assert contents.message is not None and contents.message.data == b""
    assert contents.files == [] and contents.trailer == {}


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 7]
)
def test_file_sizes_around_chunk_boundaries(alice: Identity, size: int) -> None:
    data = os.urandom(size)
    envelope = seal_bytes([alice.public_key], "m", [Attachment("f.bin", "x/y", data)])
    contents = open_bytes(envelope, [alice])
    assert contents.files[0].data == data and contents.files[0].size == size


def test_plaintext_of_exactly_n_chunks_ends_with_a_full_final_chunk(alice: Identity) -> None:
    # Find a file size whose padded plaintext is exactly two chunks.
    for size in range(2 * CHUNK_SIZE - 300, 2 * CHUNK_SIZE):
        envelope = seal_bytes([alice.public_key], "", [Attachment("f", "t", bytes(size))])
        if len(envelope) == HEADER_1 + 2 * SEALED_CHUNK_SIZE:
            break
    else:
        pytest.fail("no size gave a two-full-chunk plaintext")
    assert open_bytes(envelope, [alice]).files[0].size == size
    with pytest.raises(TruncatedEnvelope):
        open_bytes(envelope[: HEADER_1 + SEALED_CHUNK_SIZE], [alice])


def test_many_attachments_and_non_ascii_names(alice: Identity, bob: Identity) -> None:
    files = [
        Attachment(f"файл {i} — 写真 🙂.bin", "application/octet-stream", os.urandom(i * 997))
        for i in range(60)
    ]
    envelope = seal_bytes(
        [alice.public_key, bob.public_key], "Сообщение", files, fields={"contact": "сигнал"}
    )
    for who in (alice, bob):
        contents = open_bytes(envelope, [who])
        assert contents.message is not None
        assert contents.message.data.decode() == "Сообщение"
        assert [(p.info.name, p.data) for p in contents.files] == [(f.name, f.data) for f in files]
        assert contents.fields[0].info.name == "contact"


def test_trailer_round_trips(alice: Identity) -> None:
    envelope = seal_bytes([alice.public_key], "x", trailer={"reply_key": "abc"})
    assert open_bytes(envelope, [alice]).trailer == {"reply_key": "abc"}


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 3 * CHUNK_SIZE), max_size=4),
    pieces=st.lists(st.integers(1, 70_000), min_size=1, max_size=6),
    message=st.text(max_size=300),
)
def test_streamed_writes_of_any_split_round_trip(
    alice: Identity, sizes: list[int], pieces: list[int], message: str
) -> None:
    files = [os.urandom(size) for size in sizes]
    out = io.BytesIO()
    with Sealer(out, [alice.public_key]) as sealer:
        sealer.add_message(message)
        for index, data in enumerate(files):
            sealer.begin_part(PartInfo("file", f"f{index}", "application/octet-stream"))
            position, step = 0, 0
            while position < len(data):
                width = pieces[step % len(pieces)]
                sealer.write(data[position : position + width])
                position, step = position + width, step + 1
            sealer.end_part()
    envelope = out.getvalue()
    assert sealer.bytes_written == len(envelope)
    contents = open_bytes(envelope, [alice], max_bytes=1 << 30)
    assert contents.message is not None and contents.message.data == message.encode()
    assert [p.data for p in contents.files] == files
    # The length is predictable from the header and the padded plaintext alone.
    plaintext = plaintext_length_of(len(envelope) - HEADER_1, VERSION)
    assert len(envelope) == HEADER_1 + sealed_payload_length(plaintext, VERSION)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 1 << 40))
def test_padding_is_padme_with_bounded_overhead(length: int) -> None:
    padded = padded_length(length)
    assert padded >= max(length, 2048)
    assert padded_length(padded) == padded
    if length > 2048:
        assert padded - length <= length // 16


def test_a_different_key_is_told_which_key_ids_it_needs(alice: Identity, bob: Identity) -> None:
    envelope = seal_bytes([alice.public_key], "x")
    with pytest.raises(NotForYou) as refused:
        open_bytes(envelope, [bob])
    assert refused.value.key_ids == [alice.public_key.key_id_hex]
    assert alice.public_key.key_id_hex in str(refused.value)


def test_every_single_bit_flip_is_detected(alice: Identity) -> None:
    envelope = seal_bytes([alice.public_key], "short")
    for position in range(len(envelope)):
        for bit in range(8):
            damaged = bytearray(envelope)
            damaged[position] ^= 1 << bit
            with pytest.raises(EnvelopeError):
                open_bytes(bytes(damaged), [alice])


def test_header_fields_report_their_specific_errors(alice: Identity) -> None:
    envelope = seal_bytes([alice.public_key], "x")
    with pytest.raises(NotAnEnvelope):
        open_bytes(b"X" + envelope[1:], [alice])
    with pytest.raises(UnsupportedVersion) as unsupported:
        open_bytes(envelope[:8] + b"\x07" + envelope[9:], [alice])
    assert unsupported.value.version == 7
    with pytest.raises(CorruptedEnvelope):
        open_bytes(envelope[:9] + b"\x00" + envelope[10:], [alice])
    with pytest.raises(TruncatedEnvelope):
        open_bytes(envelope[:50], [alice])
    with pytest.raises(TruncatedEnvelope):
        open_bytes(envelope[:HEADER_1], [alice])


def test_recipient_changes_are_detected(alice: Identity, bob: Identity) -> None:
    envelope = seal_bytes([alice.public_key, bob.public_key], "x")
    stanza_a, stanza_b = envelope[10:98], envelope[98:186]
    removed = envelope[:9] + b"\x01" + stanza_a + envelope[186:]
    swapped = envelope[:10] + stanza_b + stanza_a + envelope[186:]
    eve = Identity.generate()
    other = seal_bytes([eve.public_key, bob.public_key], "y")
    replaced = envelope[:10] + stanza_a + other[10:98] + envelope[186:]
    for tampered in (removed, swapped):
        with pytest.raises(CorruptedEnvelope):
            open_bytes(tampered, [alice])
    with pytest.raises(CorruptedEnvelope):
        open_bytes(replaced, [alice])
    with pytest.raises(NotForYou):
        open_bytes(replaced, [bob])  # bob's stanza is gone; eve's is there instead


def test_chunk_reordering_truncation_and_extension(alice: Identity) -> None:
    envelope = seal_bytes([alice.public_key], "z" * (3 * CHUNK_SIZE))
    head, body = envelope[:HEADER_1], envelope[HEADER_1:]
    chunks = [body[i : i + SEALED_CHUNK_SIZE] for i in range(0, len(body), SEALED_CHUNK_SIZE)]
    assert len(chunks) == 4
    with pytest.raises(CorruptedEnvelope):
        open_bytes(head + chunks[1] + chunks[0] + chunks[2] + chunks[3], [alice])
    with pytest.raises(CorruptedEnvelope):
        open_bytes(head + chunks[0] + chunks[1] + chunks[3], [alice])  # one dropped
    with pytest.raises(TruncatedEnvelope):
        open_bytes(head + chunks[0] + chunks[1], [alice])
    with pytest.raises(CorruptedEnvelope):
        open_bytes(envelope + b"\x00", [alice])
    with pytest.raises(CorruptedEnvelope):
        open_bytes(envelope[:-1], [alice])  # cut inside the final chunk


def test_a_failed_envelope_leaves_nothing_in_the_directory(
    alice: Identity, tmp_path: os.PathLike
) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    envelope = seal_bytes([alice.public_key], "m", [Attachment("a", "b", data)])
    destination = tmp_path / "out"
    with pytest.raises(TruncatedEnvelope):
        open_envelope(
            io.BytesIO(envelope[: HEADER_1 + 2 * SEALED_CHUNK_SIZE]),
            [alice],
            DirectorySink(destination),
        )
    assert list(tmp_path.iterdir()) == []
    contents = open_envelope(io.BytesIO(envelope), [alice], DirectorySink(destination))
    assert (destination / "part-001").read_bytes() == data
    assert contents.files[0].path == str(destination / "part-001")
    assert oct((destination / "part-001").stat().st_mode & 0o777) == "0o600"
    assert (destination / "contents.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_memory_sink_refuses_oversized_content(alice: Identity) -> None:
    from crypto import ContentTooLarge

    envelope = seal_bytes([alice.public_key], "x" * 5000)
    with pytest.raises(ContentTooLarge):
        open_bytes(envelope, [alice], max_bytes=4096)


def test_sealer_refuses_misuse(alice: Identity) -> None:
    with pytest.raises(ValueError):
        Sealer(io.BytesIO(), [])
    with pytest.raises(ValueError):
        Sealer(io.BytesIO(), [alice.public_key, alice.public_key])
    sealer = Sealer(io.BytesIO(), [alice.public_key])
    with pytest.raises(ValueError):
        sealer.write(b"no part begun")
    sealer.begin_part(PartInfo("message"))
    with pytest.raises(ValueError):
        sealer.close()


def test_an_exception_inside_the_block_leaves_an_unfinished_envelope(alice: Identity) -> None:
    out = io.BytesIO()
    with pytest.raises(RuntimeError), Sealer(out, [alice.public_key]) as sealer:
        sealer.add_message("partial")
        raise RuntimeError("upload broke")
    with pytest.raises(TruncatedEnvelope):
        open_bytes(out.getvalue(), [alice])


def test_read_header_exposes_key_ids_without_any_key(alice: Identity, bob: Identity) -> None:
    envelope = seal_bytes([alice.public_key, bob.public_key], "x")
    header = read_header(io.BytesIO(envelope))
    assert header.key_ids == [alice.public_key.key_id_hex, bob.public_key.key_id_hex]
    assert header.version == VERSION
    assert len(header.raw) == header_length(2, VERSION)


class _Repeat(io.RawIOBase):
    """A source of n bytes produced block by block, never held whole."""

    def __init__(self, block: bytes, total: int) -> None:
        self._block, self._left = block, total

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = min(n if n >= 0 else self._left, self._left, len(self._block))
        self._left -= n
        return self._block[:n]


class _Spool:
    """Keeps the sealed bytes on disk so that only the crypto's own memory is measured."""

    def __init__(self, path: os.PathLike) -> None:
        self._file = open(path, "w+b")

    def write(self, data: bytes) -> int:
        return self._file.write(data)


def test_sealing_and_opening_run_in_constant_memory(alice: Identity, tmp_path) -> None:
    size = 48 << 20
    spool = _Spool(tmp_path / "env")
    tracemalloc.start()
    try:
        with Sealer(spool, [alice.public_key]) as sealer:
            sealer.add_file("big", "x/y", _Repeat(os.urandom(CHUNK_SIZE), size))
        _, seal_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        spool._file.seek(0)
        contents = open_envelope(spool._file, [alice], NullSink())
        _, open_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        spool._file.close()
    assert contents.files[0].size == size
    assert seal_peak < 2 << 20, seal_peak
    assert open_peak < 2 << 20, open_peak
