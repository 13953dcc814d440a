"""Keyboard layouts: the same physical key in the Latin (QWERTY) and the Russian (ЙЦУКЕН)
layout. A Russian-speaking worker types notes in Cyrillic and forgets to switch back, so every
one-letter key of the app answers to both letters of its key, and a passphrase refused while
the Russian layout was on gets a hint."""

from __future__ import annotations

LATIN = "qwertyuiop[]asdfghjkl;'zxcvbnm,./`"
RUSSIAN = "йцукенгшщзхъфывапролджэячсмитьбю.ё"
_LETTERS = [(a, b) for a, b in zip(LATIN, RUSSIAN, strict=True) if a.isalpha()]
_TO_RUSSIAN = str.maketrans(
    LATIN + "".join(a.upper() for a, _b in _LETTERS),
    RUSSIAN + "".join(b.upper() for _a, b in _LETTERS),
)
_TO_LATIN = str.maketrans(
    RUSSIAN + "".join(b.upper() for _a, b in _LETTERS),
    LATIN + "".join(a.upper() for a, _b in _LETTERS),
)
# Textual's names of the keys that are not letters, and what the same key types in Russian.
_NAMED = {"slash": "full_stop", "question_mark": "comma"}


def in_russian_layout(latin: str) -> str:
    """What typing ``latin`` gives with the Russian layout on (r -> к, D -> В)."""
    return latin.translate(_TO_RUSSIAN)


def in_latin_layout(typed: str) -> str:
    """What typing the same keys gives with the Latin layout on (к -> r)."""
    return typed.translate(_TO_LATIN)


def either_layout(key: str) -> str:
    """A Textual binding's keys for one key in both layouts: "r" -> "r,к", "D" -> "D,В"."""
    if key in _NAMED:
        return f"{key},{_NAMED[key]}"
    other = in_russian_layout(key)
    return f"{key},{other}" if len(key) == 1 and other != key else key


def has_cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


RUSSIAN_LAYOUT_HINT = (
    "The passphrase you typed contains Russian letters: your keyboard may be in the Russian "
    "layout. Switch the layout (Super+Space on Tails and GNOME) and type it again."
)
LATIN_LAYOUT_HINT = (
    "If your passphrase has Russian letters, your keyboard may be in the Latin layout: "
    "switch it and type the passphrase again."
)


def passphrase_hint(passphrase: str, russian_speaker: bool = False) -> str:
    """The English sentence (a gettext id) to add when a passphrase was refused and may have
    been typed in the wrong layout; empty when nothing suggests it."""
    if has_cyrillic(passphrase):
        return RUSSIAN_LAYOUT_HINT
    if russian_speaker and any(char in LATIN for char in passphrase.lower()):
        return LATIN_LAYOUT_HINT
    return ""
