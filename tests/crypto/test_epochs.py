"""Epoch statements (FORMAT.md section 10): signed, checked in order, chosen by time, and an
envelope sealed to a deleted epoch key says why it cannot be opened."""

from __future__ import annotations

import base64
import io

import pytest

from crypto import EpochKeyDeleted, Identity, MemorySink, NotForYou, open_envelope, seal_bytes
from crypto.epochs import (
    WEEK,
    DeletedKey,
    Epoch,
    Statement,
    StatementError,
    day_text,
    read_statement,
    sealing_key,
    week_start,
    weeks,
)
from crypto.team import Signer

MONDAY = week_start(1_796_000_000)  # a Monday, 00:00 UTC


def runway(reviewer: Identity, count: int = 3) -> tuple[Statement, list[Identity]]:
    keys = [Identity.generate() for _ in range(count)]
    epochs = tuple(
        Epoch(start, end, key.public_key)
        for (start, end), key in zip(weeks(MONDAY, count), keys, strict=True)
    )
    return Statement(reviewer.public_key, Signer(reviewer).public_key, MONDAY, epochs), keys


def test_a_signed_statement_reads_back_and_picks_the_week_by_time() -> None:
    reviewer = Identity.generate()
    statement, keys = runway(reviewer)
    signer = Signer(reviewer)
    text = statement.signed_by(signer)
    assert text.startswith("sealdrop-epochs-v1\nreviewer: sdpub1")
    read = read_statement(text, reviewer.public_key, signer.public_key)
    assert read == statement
    assert sealing_key(read, reviewer.public_key, MONDAY + 3600) == keys[0].public_key
    # two hours before a week ends, the next week's key is used already (the skew)
    assert sealing_key(read, reviewer.public_key, MONDAY + WEEK - 7200) == keys[1].public_key
    assert sealing_key(read, reviewer.public_key, MONDAY + WEEK - 7201) == keys[0].public_key
    # past the runway (a lapse) and without a statement: the long-term key
    assert sealing_key(read, reviewer.public_key, MONDAY + 3 * WEEK) == reviewer.public_key
    assert sealing_key(None, reviewer.public_key, MONDAY) == reviewer.public_key
    assert read.expired(MONDAY + 3 * WEEK) and not read.expired(MONDAY + 3 * WEEK - 1)


def test_forged_altered_and_malformed_statements_are_refused_in_order() -> None:
    reviewer, stranger = Identity.generate(), Identity.generate()
    statement, _ = runway(reviewer)
    signer = Signer(reviewer)
    text = statement.signed_by(signer)

    def refused(candidate: str | bytes) -> str:
        with pytest.raises(StatementError) as error:
            read_statement(candidate, reviewer.public_key, signer.public_key)
        return error.value.kind

    assert refused(statement.signed_by(Signer(stranger))) == "bad-signature"
    assert refused(text.replace("issued: ", "issued:  ", 1)) == "bad-signature"
    assert refused(text[:-1]) == "malformed"  # no final newline
    assert refused(text.rsplit("signature: ", 1)[0] + "signature: AAAA\n") == "malformed"
    assert refused(text + "x" * (16 << 10)) == "malformed"
    overlapping = Statement(
        statement.reviewer,
        statement.signing_key,
        statement.issued,
        (statement.epochs[0], Epoch(MONDAY + 3600, MONDAY + WEEK + 3600, stranger.public_key)),
    )
    assert refused(overlapping.signed_by(signer)) == "malformed"
    # a genuine statement of another reviewer is not this reviewer's
    other, _ = runway(stranger)
    with pytest.raises(StatementError) as error:
        read_statement(other.signed_by(Signer(stranger)), reviewer.public_key, signer.public_key)
    assert error.value.kind == "bad-signature"
    body = text.rsplit("signature: ", 1)[0].encode()
    assert base64.b64decode(text.rsplit("signature: ", 1)[1]) == signer.sign(body)


def test_an_envelope_sealed_to_a_deleted_week_says_so() -> None:
    reviewer = Identity.generate()
    _, keys = runway(reviewer, 1)
    envelope = seal_bytes([keys[0].public_key], "sealed to this week")
    contents = open_envelope(io.BytesIO(envelope), [reviewer, keys[0]], MemorySink())
    assert contents.message is not None and contents.message.data == b"sealed to this week"
    deleted = DeletedKey(keys[0].public_key, MONDAY + WEEK, MONDAY + 6 * WEEK)
    with pytest.raises(EpochKeyDeleted) as error:
        open_envelope(io.BytesIO(envelope), [reviewer, deleted], MemorySink())
    assert error.value.week_ending == day_text(MONDAY + 6 * 86400)  # the Sunday
    assert error.value.deleted_on == day_text(MONDAY + 6 * WEEK)
    assert f"sealed to the week ending {error.value.week_ending}" in str(error.value)
    with pytest.raises(NotForYou):
        open_envelope(io.BytesIO(envelope), [reviewer], MemorySink())
