"""The codename word lists, one per language, as package data (one word per line, UTF-8).

Each list holds exactly 1,056 words, so that the same
positions read in any list name the same codename (docs/FORMAT.md §5).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

LANGUAGES = ("en", "ru")


@cache
def load(language: str) -> tuple[str, ...]:
    if language not in LANGUAGES:
        raise ValueError(f"no codename word list for language {language!r}")
    text = resources.files(__package__).joinpath(f"{language}.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def javascript() -> str:
    """intake/static/src/wordlists.js, the same lists for the browser (a test keeps it equal):
    ``python -m crypto.wordlists > intake/static/src/wordlists.js``."""
    lines = [
        "'use strict';",
        "// Generated from crypto/wordlists/*.txt by `python -m crypto.wordlists`; do not edit.",
        "module.exports = {",
    ]
    for language in LANGUAGES:
        lines.append(f"  {language}: Object.freeze('{' '.join(load(language))}'.split(' ')),")
    lines.append("};")
    return "\n".join(lines) + "\n"
