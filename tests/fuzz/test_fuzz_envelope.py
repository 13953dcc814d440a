"""Envelope header, records and whole envelopes: an EnvelopeError or the contents, and a sink
that is committed only on success and discarded on every failure (never partial output)."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from crypto import Contents, EnvelopeError, PartInfo, open_envelope, read_header
from crypto.padding import padded_length
from tests.vectors.generate import raw_envelope

from .harness import fuzz_target
from .strategies import IDENTITIES, mutated, records, vector_bytes

ENVELOPES = vector_bytes(".sdenv")


class RecordingSink:
    def __init__(self) -> None:
        self.parts: list[tuple[PartInfo, bytearray, int | None]] = []
        self.committed = self.discarded = 0

    def begin_part(self, info: PartInfo) -> None:
        assert not (self.committed or self.discarded)
        self.parts.append((info, bytearray(), None))

    def write(self, data: memoryview) -> None:
        self.parts[-1][1].extend(data)

    def end_part(self, size: int) -> None:
        info, data, _ = self.parts[-1]
        assert size == len(data)
        self.parts[-1] = (info, data, size)

    def commit(self, contents: Contents) -> None:
        self.committed += 1

    def discard(self) -> None:
        self.discarded += 1


def open_checked(envelope: bytes) -> Contents | None:
    sink = RecordingSink()
    try:
        contents = open_envelope(io.BytesIO(envelope), IDENTITIES, sink)
    except EnvelopeError as error:
        assert str(error)
        assert (sink.committed, sink.discarded) == (0, 1)
        return None
    assert (sink.committed, sink.discarded) == (1, 0)
    assert [(p.info, p.size) for p in contents.parts] == [(i, s) for i, _, s in sink.parts]
    for part in contents.parts:
        assert part.info.kind in ("message", "file", "field")
    assert isinstance(contents.trailer, dict)
    return contents


@given(mutated(ENVELOPES + [e[:122] for e in ENVELOPES], max_mutations=3))
@fuzz_target("envelope header")
def test_header(data: bytes) -> None:
    try:
        header = read_header(io.BytesIO(data))
    except EnvelopeError as error:
        assert str(error)
        return
    assert 1 <= len(header.stanzas) <= 64 and header.raw == data[: len(header.raw)]


@given(records(), st.integers(-2, 2))
@fuzz_target("envelope records")
def test_records(plaintext: bytes, pad_error: int) -> None:
    length = max(padded_length(len(plaintext)) + pad_error, 1)
    body = plaintext[:length] + bytes(max(length - len(plaintext), 0))
    open_checked(raw_envelope([IDENTITIES[0].public_key], body))


@given(mutated(ENVELOPES, max_mutations=3))
@fuzz_target("envelope bytes")
def test_whole_envelopes(data: bytes) -> None:
    open_checked(data)
