"""The reviewer's language: English, or Russian from reviewer/locale (stdlib gettext).

The language is the vault's setting (``sealdrop-reviewer config --language ru``) if there is
one, else the environment's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext reads them).
The .po catalogs are compiled to .mo by Babel (``make translations``); nothing here needs Babel.
"""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "sealdrop-reviewer"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru")

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def use(language: str | None) -> str:
    """Switches the language (None: the environment's) and returns the one in use."""
    global _current, _language
    languages = [language] if language else None
    _current = gettext.translation(DOMAIN, LOCALE_DIR, languages=languages, fallback=True)
    _language = _current.info().get("language", "en") if _current.info() else "en"
    _language = _language if _language in LANGUAGES else "en"
    return _language


def language() -> str:
    return _language


def _(message: str) -> str:
    return _current.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _current.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks a message for extraction; translated later, where it is shown."""
    return message
