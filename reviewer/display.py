"""Showing untrusted text in a terminal: no markup, no escape sequences, no bidi tricks.

Message text, field values and file names come from the submitter. Printed raw, control
characters could rewrite the screen (ANSI escapes), and bidirectional overrides could make a
name ending in ``gpj.exe`` read as one ending in ``exe.jpg``. They are shown as visible
``\\uXXXX`` codes instead, and the result is printed as rich ``Text`` (never as markup).
"""

from __future__ import annotations

import unicodedata

from rich.text import Text

_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


_HIDDEN = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def clean_text(text: str) -> str:
    """For message bodies and field values: keeps line breaks and tabs; every invisible or
    format character (zero-width spaces and joiners, byte-order marks, soft hyphens, tag
    characters, bidi controls) is shown as its code, so nothing hides in a message."""
    text = text.replace("\r\n", "\n")
    return "".join(
        ch
        if ch in "\n\t" or (unicodedata.category(ch) not in _HIDDEN and ch not in _BIDI)
        else _visible(ch)
        for ch in text
    )


_JOINERS = {"\u200c", "\u200d"}  # needed by Persian and Indic scripts, and by emoji


def clean_message(text: str) -> str:
    """For message bodies in the inbox app: as ``clean_text``, and every other invisible
    format character (zero-width space, word joiner, BOM, tag characters) made visible too."""
    return "".join(
        _visible(ch) if unicodedata.category(ch) == "Cf" and ch not in _JOINERS else ch
        for ch in clean_text(text)
    )


def clean_name(text: str | None) -> str:
    """For file and field names: one line, every invisible or format character made visible."""
    if text is None:
        return "(no name)"
    return "".join(_visible(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in text)


def plain(text: str, style: str = "") -> Text:
    return Text(text, style=style)


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
