"""Envelope vectors for records that meet a chunk boundary (FORMAT.md §3.5): a record may run
on into the next chunk; input that ends there is truncated, a record cut by the FINAL chunk's
end is malformed. Written beside generate.py's envelope vectors, in the same form.

Run: .venv/bin/python -m tests.vectors.generate_chunks (sealing is random: new bytes).
"""

from __future__ import annotations

import struct

from crypto import Identity
from crypto.envelope import CHUNK_SIZE
from crypto.framing import BEGIN, CLOSE, DATA, END, PartInfo, record
from crypto.padding import padded_length

from .generate import SECRET_A, padded, parts_json, raw_envelope, write


def main() -> None:
    pa = Identity(SECRET_A).public_key
    begin = record(BEGIN, PartInfo("message").to_json())
    # DATA ends 2 bytes before the chunk boundary: END's 5-byte head straddles it.
    text = b"x" * (CHUNK_SIZE - 2 - len(begin) - 5)
    records = (
        begin
        + record(DATA, text)
        + record(END, struct.pack(">Q", len(text)))
        + record(CLOSE, b"{}")
    )
    plaintext = padded(records)
    assert len(begin) + 5 + len(text) == CHUNK_SIZE - 2 and len(plaintext) > CHUNK_SIZE
    write(
        "ok-record-head-across-chunks",
        raw_envelope([pa], plaintext),
        "END's 5-byte head starts 2 bytes before the first chunk's end and ends in the second",
        "ok",
        parts=parts_json([(PartInfo("message"), text)]),
        trailer={},
    )
    write(
        "fail-truncated-inside-record",
        raw_envelope([pa], plaintext[:CHUNK_SIZE], final_tag=False),
        "the same plaintext's first chunk alone (MESSAGE): a record head cut by the end of "
        "input is truncated, not malformed",
        "truncated",
    )
    whole = CHUNK_SIZE - len(begin) - 5
    exact = begin + record(DATA, b"y" * whole)
    assert len(exact) == CHUNK_SIZE
    write(
        "fail-truncated-after-whole-record",
        raw_envelope([pa], exact, final_tag=False),
        "one MESSAGE chunk ending exactly after a DATA record, then the end of input",
        "truncated",
    )
    cut = begin + struct.pack(">BI", DATA, 3000) + b"z" * 100
    cut += bytes(padded_length(len(cut)) - len(cut))
    write(
        "fail-record-cut-by-final",
        raw_envelope([pa], cut),
        "a FINAL chunk whose DATA record claims 3,000 bytes and holds fewer: malformed",
        "malformed-content",
    )


if __name__ == "__main__":
    main()
