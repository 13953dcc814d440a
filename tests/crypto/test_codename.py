"""Codenames: generation, forgiving parsing, and the reply keys they derive."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from crypto import open_bytes, seal_bytes
from crypto.codename import ENTROPY_BITS, Codename, InvalidCodename, wordlist

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "codenames.json").read_text())


def test_generated_codenames_have_88_bits_from_the_whole_list() -> None:
    assert ENTROPY_BITS == 88 and len(set(wordlist())) == 2048
    counts = Counter(word for _ in range(2000) for word in Codename.generate().words)
    # 16,000 draws over 2,048 words: a biased or short list would leave many unseen.
    assert len(counts) > 1900
    assert len({str(Codename.generate()) for _ in range(200)}) == 200


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["canonical"].split()[0])
def test_derivation_vectors(vector: dict) -> None:
    for text in (vector["canonical"], vector["typed"]):
        keys = Codename.parse(text).derive()
        assert keys.public_key.line == vector["reply_public_key_line"]
        assert keys.mailbox == vector["mailbox"]
    assert str(Codename.parse(vector["typed"])) == vector["canonical"]


def test_parsing_forgives_case_spacing_and_endings_but_not_wrong_words() -> None:
    codename = Codename.generate()
    shouting = "\n  " + "   ".join(word.upper() for word in codename.words) + "  \t"
    assert Codename.parse(shouting) == codename
    with pytest.raises(InvalidCodename, match="has 8 words; this has 7") as short:
        Codename.parse(" ".join(codename.words[:7]))
    assert (short.value.count, short.value.position) == (7, None)
    with pytest.raises(InvalidCodename, match="word 3") as misspelt:
        Codename.parse(" ".join([*codename.words[:2], "qqqq", *codename.words[3:]]))
    assert (misspelt.value.count, misspelt.value.position) == (None, 3)


def test_different_codenames_derive_unlinkable_keys_and_mailboxes() -> None:
    a, b = Codename.generate().derive(), Codename.generate().derive()
    assert a.mailbox != b.mailbox and a.public_key != b.public_key
    assert len(a.mailbox) == 26 and a.mailbox.isalnum() and a.mailbox.islower()


def test_a_reply_sealed_to_the_derived_key_opens_with_the_codename_alone() -> None:
    codename = Codename.generate()
    reply = seal_bytes([codename.derive().public_key], "We received your message.")
    again = Codename.parse(str(codename)).derive()
    assert open_bytes(reply, [again.identity]).message.data == b"We received your message."


def test_the_codename_never_shows_in_its_repr() -> None:
    codename = Codename.generate()
    assert codename.words[0] not in repr(codename)
