"""Bundles of replies beside bundles of submissions (docs/FORMAT.md, section 4)."""

from __future__ import annotations

import io

import pytest

from crypto import Identity, open_bytes, seal_bytes
from crypto.bundle import REPLIES, Bundle, BundleError, BundleWriter, hour_stamp
from crypto.codename import Codename


def write_bundle(path, kind, envelopes, mailbox=None) -> None:
    with path.open("wb") as out:
        writer = BundleWriter(out, kind)
        for index, envelope in enumerate(envelopes):
            writer.add(
                f"r{index}", hour_stamp(), io.BytesIO(envelope), len(envelope), mailbox=mailbox
            )
        writer.close()


def test_a_replies_bundle_round_trips_with_its_mailboxes(tmp_path) -> None:
    keys = Codename.generate().derive()
    reply = seal_bytes([keys.public_key], "We read your message.")
    path = tmp_path / "replies.tar"
    write_bundle(path, REPLIES, [reply], mailbox=keys.mailbox)
    with Bundle(path, REPLIES) as bundle:
        [(entry, reader)] = list(bundle.envelopes())
        data = reader.read()
        reader.check()
    assert entry.mailbox == keys.mailbox
    assert open_bytes(data, [keys.identity]).message.data == b"We read your message."


def test_each_kind_is_refused_where_the_other_is_expected(tmp_path) -> None:
    keys = Codename.generate().derive()
    replies, submissions = tmp_path / "replies.tar", tmp_path / "submissions.tar"
    write_bundle(replies, REPLIES, [seal_bytes([keys.public_key], "x")], mailbox=keys.mailbox)
    write_bundle(submissions, "submissions", [seal_bytes([Identity.generate().public_key], "y")])
    with pytest.raises(BundleError, match="import-replies"):
        Bundle(replies)
    with pytest.raises(BundleError, match="sealdrop-reviewer open"):
        Bundle(submissions, REPLIES)


def test_writer_insists_on_mailboxes_for_replies_only(tmp_path) -> None:
    writer = BundleWriter(io.BytesIO(), REPLIES)
    with pytest.raises(ValueError, match="mailbox"):
        writer.add("a", hour_stamp(), io.BytesIO(b"x"), 1)
    with pytest.raises(ValueError, match="mailbox"):
        writer.add("a", hour_stamp(), io.BytesIO(b"x"), 1, mailbox="NOT-A-MAILBOX")
    with pytest.raises(ValueError, match="mailbox"):
        BundleWriter(io.BytesIO()).add("a", hour_stamp(), io.BytesIO(b"x"), 1, mailbox="a" * 26)
