"""Submitter-facing text in English and Russian, from JSON catalogs in intake/translations/.

Tor Browser always sends English in Accept-Language, so the language comes only from the
URL (?lang=ru), never from headers or cookies. Unknown languages fall back to English.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import request

LANGUAGES = ("en", "ru")
DEFAULT = "en"
JS_MESSAGE_KEYS = (
    "encrypting",
    "uploading",
    "retrying",
    "finishing",
    "error_too_large",
    "error_storage_full",
    "error_busy",
    "error_broken",
    "error_generic",
    "sent",
    "error_codename",
    "error_empty",
    "error_unreadable",
)


@cache
def catalog(lang: str) -> dict[str, str]:
    text = (Path(__file__).parent / "translations" / f"{lang}.json").read_text("utf-8")
    return json.loads(text)


def current_language() -> str:
    lang = request.args.get("lang", DEFAULT)
    return lang if lang in LANGUAGES else DEFAULT


def translate(key: str, lang: str | None = None, **values: object) -> str:
    lang = lang or current_language()
    text = catalog(lang).get(key) or catalog(DEFAULT)[key]
    return text.format(**values) if values else text


def human_size(n: int, lang: str | None = None) -> str:
    lang = lang or current_language()
    units = ("B", "KiB", "MiB", "GiB", "TiB") if lang == "en" else ("Б", "КиБ", "МиБ", "ГиБ", "ТиБ")
    size = float(n)
    for unit in units:
        if size < 1024 or unit == units[-1]:
            text = f"{size:.0f}" if size == int(size) else f"{size:.1f}"
            return f"{text} {unit}" if lang == "en" else f"{text.replace('.', ',')} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
