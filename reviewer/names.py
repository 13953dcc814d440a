"""Names for conversations that people can say aloud: "toma-lesi", "тома-леси".

A conversation id is BLAKE2b-hashed into two made-up words of two syllables each, built from a
small syllable list whose every syllable is said the same way in English and in Russian and
written unambiguously in both scripts. Made-up words, not a dictionary list, because real
words carry meaning (a case called "prison-knife" is a bad thing to say on a phone) and
because 70 syllables give 70**4 = 24 million names: a vault of 10,000 conversations expects
about two names shared by two conversations, where two words from a 256-word list would share
hundreds. When two conversations do share a name, commands that take a name say so and ask
for the id. The same conversation has the same name on every machine.
"""

from __future__ import annotations

import hashlib
from functools import cache

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_CYRILLIC = dict(
    zip(
        _CONSONANTS + _VOWELS,
        [
            "б",
            "д",
            "ф",
            "г",
            "к",
            "л",
            "м",
            "н",
            "п",
            "р",
            "с",
            "т",
            "в",
            "з",
            "а",
            "э",
            "и",
            "о",
            "у",
        ],
        strict=True,
    )
)
SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]


@cache
def name(conversation_id: str) -> str:
    """The conversation's two-word name, in Latin letters."""
    digest = hashlib.blake2b(
        conversation_id.encode("utf-8"), digest_size=8, person=b"sealdrop-name"
    ).digest()
    number = int.from_bytes(digest, "big")
    syllables = []
    for _ in range(4):
        number, index = divmod(number, len(SYLLABLES))
        syllables.append(SYLLABLES[index])
    return f"{syllables[0]}{syllables[1]}-{syllables[2]}{syllables[3]}"


def in_cyrillic(latin_name: str) -> str:
    """The same name written in Cyrillic, read aloud the same way."""
    return "".join(_CYRILLIC.get(ch, ch) for ch in latin_name)


def to_latin(text: str) -> str:
    """Accepts a name typed in either script (for `show toma-lesi` and the search box)."""
    reverse = {cyr: lat for lat, cyr in _CYRILLIC.items()} | {"е": "e", "ё": "e"}
    return "".join(reverse.get(ch, ch) for ch in text.strip().lower())


def looks_like_name(text: str) -> bool:
    latin = to_latin(text)
    words = latin.split("-")
    return len(words) == 2 and all(
        len(w) == 4
        and w[0] in _CONSONANTS
        and w[1] in _VOWELS
        and w[2] in _CONSONANTS
        and w[3] in _VOWELS
        for w in words
    )
