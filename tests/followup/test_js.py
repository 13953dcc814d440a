"""The browser's codename and reply-opening code (intake/static/src) agrees with crypto/:
the same keys and mailbox from the vectors, replies sealed in Python open whole, and a reply
that is tampered with, cut short or sealed to someone else is refused rather than shown."""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from crypto import Attachment, Sealer, seal_bytes, wordlists
from crypto.codename import Codename, InvalidCodename, legacy_wordlist

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "vectors" / "codenames.json"
PROOFS = json.loads((HERE.parent / "vectors" / "followup-proofs.json").read_text())
# Typed texts whose reading must agree between Python and the browser, typos and traps included.
PARSE_CASES = [
    "яблоко груша слива лимон апельсин мандарин абрикос персик",
    "яблако груша слива лимон апельсин мандарин абрикос персик",  # two words one edit away
    "ЯБЛОКО ГРУША СЛИВА ЛИМОН АПЕЛЬСИН МАНДАРИН АБРИКОС ПЕРСИК",
    "1) ёжевика 2) чаиник 3) сливa 4) лимон 5) апелсин 6) мандарин 7) абрикос 8) пёрсик",
    "apple pear plum lemon lime orange apricot mango",
    "aple paer plumm lemn lime orange apricot mango",
    "apple груша plum лимон lime апельсин apricot персик",
    "abandon ability able about above absent absorb abstract",
    "abandon ability able about above absent absorb abstrct",
    "acorn zucchini mackerel aluminium broccoli tart fudge",
    "cat dog fig yak cod ant emu eel",
    "ca do fi ya co an em ee",
    "apple pear plum﻿lemon	lime\norange,apricot;mango",
    "apple pear plum lemon lime orange apricot 😀😀😀😀",
]


def mutated_codenames(count: int) -> list[str]:
    """Codenames of all three lists, mistyped at random (fixed seed), for both readers."""
    rng = random.Random(11)
    lists = [wordlists.load("en"), wordlists.load("ru"), legacy_wordlist()]
    texts = []
    for _ in range(count):
        one = rng.choice(lists)  # mostly one list; a few codenames mix all three
        words = [rng.choice(one if rng.random() < 0.9 else rng.choice(lists)) for _ in range(8)]
        for _ in range(rng.randrange(4)):
            i = rng.randrange(8)
            word, cut = words[i], rng.randrange(len(words[i]))
            letter = rng.choice("aeoiкаеёй")
            words[i] = rng.choice(
                [word[:cut] + word[cut + 1 :], word[:cut] + letter + word[cut:], word[:4], word[:3]]
            )
        texts.append(rng.choice([" ", "-", "\n", ", "]).join(words))
    return texts


def run_node(tmp_path: Path, spec: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "codenames.js"), str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_js_codenames_and_reply_opening_match_python(tmp_path):
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    person, stranger = Codename.generate(), Codename.generate()
    key = person.derive().public_key
    big = bytes(range(256)) * 400  # 100 KiB: more than one chunk
    whole = seal_bytes([key], "Привет <b>", [Attachment("a.bin", "x/y", big)])  # format v2
    tampered = bytearray(whole)
    tampered[-40] ^= 1
    # Replies written before format v2 still open (with libsodium, loaded for them alone).
    v1 = io.BytesIO()
    with Sealer(v1, [key], version=1) as sealer:
        sealer.add_message("старый ответ")
    replies = [
        (person, whole),
        (person, bytes(tampered)),
        (person, whole[:-100]),
        (stranger, whole),
        (person, v1.getvalue()),
    ]
    report = run_node(
        tmp_path,
        {
            "vectors": vectors,
            "replies": [{"codename": str(c), "envelope_hex": e.hex()} for c, e in replies],
            "invalid": ["abandon ability", "abandon ability able about above absent absorb qqqq"],
            "parse": PARSE_CASES + mutated_codenames(300),
            "proof": {
                "codename": vectors[2]["canonical"],
                "header_hash_hex": PROOFS["header_hash_hex"],
            },
        },
    )
    for vector, derived in zip(vectors, report["derived"], strict=True):
        same = {"line": vector["reply_public_key_line"], "mailbox": vector["mailbox"]}
        assert derived == {
            "canonical": vector["canonical"],
            **same,
            "verifyKey": vector["verify_key"],
            "others": [same] * len(vector["same_codename"]),
            # Mailbox v2 with the vectors' deployment salt: WebCrypto's PBKDF2 as Python's.
            "v2": [vector["mailbox_v2"], vector["mailbox"]],
        }
    assert report["trailer"] == PROOFS["trailers"][0]["trailer"]
    for text, parsed in zip(PARSE_CASES + mutated_codenames(300), report["parsed"], strict=True):
        try:
            expected = str(Codename.parse(text))
        except InvalidCodename as error:
            count = error.count is not None
            expected = ["count", error.count] if count else ["word", error.position]
        assert parsed == expected, text
    russian = Codename.parse(report["generatedRu"])
    assert russian.language == "ru" and str(russian) == report["generatedRu"]
    ok, flipped, cut, foreign, old = report["opened"]
    assert whole[8] == 2 and v1.getvalue()[8] == 1
    assert ok == {"message": "Привет <b>", "files": [{"name": "a.bin", "hex": big.hex()}]}
    assert old == {"message": "старый ответ", "files": []}
    assert report["sodiumLoads"] == 1  # the v1 reply alone asked for libsodium
    assert flipped == {"error": "corrupted"}
    assert cut["error"] in ("truncated", "corrupted")
    assert foreign == {"error": "not-for-you"}
    assert report["errors"] == [["count", 2], ["word", 8]]
    generated = Codename.parse(report["generated"])
    assert str(generated) == report["generated"]
