"""Vectors for reading a typed codename (FORMAT.md §5.2, §5.3): one case per typing rule, the
failures, and how the version is decided; written to tests/vectors/codename-typing.json.

Run: .venv/bin/python -m tests.vectors.generate_typing (deterministic). Examples are found in
the word lists by the rule that decides them, so each case exercises the rule it names.
"""

from __future__ import annotations

import json

from crypto import wordlists
from crypto.codename import (
    Codename,
    InvalidCodename,
    _entries,
    _new_index,
    _one_edit,
    apart_from_legacy,
    fold,
    legacy_wordlist,
)

from .generate import HERE

BASE = (3, 1023, 512, 7, 100, 900, 333, 64)  # an English codename with words apart from BIP39


def rule_of(piece: str) -> str | None:
    """Which rule of §5.2 resolves ``piece`` alone ("a".."d"), None if none does."""
    if piece in _new_index():
        return "a"
    if len(piece) < 4:
        return None
    head = piece[:4]
    for rule, matches in (
        ("b", lambda e: _one_edit(piece, e.folded)),
        ("c", lambda e: e.folded[:4] == head),
        ("d", lambda e: _one_edit(head, e.folded[:4])),
    ):
        found = [e for e in _entries() if matches(e)]
        if found:
            return rule if len(found) == 1 else f"{rule}-ambiguous"
    return None


def expected(text: str) -> dict[str, object]:
    try:
        codename = Codename.parse(text)
    except InvalidCodename as error:
        if error.count is not None:
            return {"error": "count", "count": error.count}
        return {"error": "word", "position": error.position}
    return {
        "version": 1 if codename.legacy else 2,
        "canonical": str(codename),
        "secret_hex": codename.secret().hex(),
    }


def first(candidates: list[str], rule: str) -> str:
    found = next((c for c in candidates if rule_of(c) == rule), None)
    assert found is not None, f"no example for rule {rule}"
    return found


def main() -> None:
    base = Codename.from_positions(BASE, "en")
    words = list(base.words)
    at = next(i for i, w in enumerate(words) if apart_from_legacy([w]))  # the word retyped
    en = wordlists.load("en")
    long_words = [w for w in en if len(w) >= 7]
    swap = [w[:2] + w[3] + w[2] + w[4:] for w in long_words]
    cases: list[tuple[str, str, str]] = [
        ("a", "a whole word", words[at]),
        ("a", "a word's first four letters", words[at][:4]),
        ("a", "a three-letter word", first([w for w in en if len(w) == 3], "a")),
        ("b", "one letter deleted", first([w[:3] + w[4:] for w in long_words], "b")),
        ("b", "one letter added", first([w[:3] + "q" + w[3:] for w in long_words], "b")),
        ("b", "one letter changed", first([w[:5] + "q" + w[6:] for w in long_words], "b")),
        ("b", "two neighbouring letters swapped", first(swap, "b")),
        ("b", "a three-letter word with one letter added", first(["caat", "coow", "boxx"], "b")),
        ("c", "the first four letters, then anything", first([w[:4] + "zzzz" for w in en], "c")),
        ("d", "the first four letters mistyped", first([w[:3] + "q" + "zzzz" for w in en], "d")),
        (
            "b-ambiguous",
            "one edit from two words: refused",
            first([w[:-1] for w in en if len(w) >= 5], "b-ambiguous"),
        ),
        ("none", "no word: refused", "qqqqqq"),
    ]
    vectors = []
    for rule, about, piece in cases:
        typed = [*words[:at], piece, *words[at + 1 :]]
        text = " ".join(typed)
        assert rule == "none" or rule_of(fold(piece)) == rule, (rule, piece)
        vectors.append({"rule": rule, "about": about, "typed": text, "expect": expected(text)})
    both = [w for w in en if w in set(legacy_wordlist())][:8]
    russian = Codename.from_positions(BASE, "ru").words
    for rule, about, text in (
        ("count", "seven words", " ".join(words[:7])),
        (
            "count",
            "numbered and punctuated: still eight",
            " ".join(f"{n}) {w}," for n, w in enumerate(words, 1)),
        ),
        (
            "version",
            "eight words in both a new list and BIP39: none apart, read as version 1",
            " ".join(both),
        ),
        (
            "version",
            "a BIP39 codename with one word apart from BIP39: read as version 1, word 3 fails",
            "abandon ability " + words[at] + " about above absent absorb abstract",
        ),
        ("version", "the Russian spelling of the same positions", " ".join(russian)),
        ("version", "Russian and English words mixed", " ".join([*russian[:4], *words[4:]])),
        (
            "fold",
            "upper case, and ё for е",
            " ".join(russian).upper().replace("Е", "Ё"),
        ),
    ):
        vectors.append({"rule": rule, "about": about, "typed": text, "expect": expected(text)})
    (HERE / "codename-typing.json").write_text(
        json.dumps({"base": str(base), "cases": vectors}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
