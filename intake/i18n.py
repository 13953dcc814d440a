"""The submitter's language: gettext catalogs (Flask-Babel), one per language, in
intake/translations/<lang>/LC_MESSAGES/messages.po, compiled to .mo by `make translations`.

English is the source language (the msgids); every other language is whatever catalog the
directory holds, so an organisation adds one by translating a .po file (docs/TRANSLATING.md).
The language is, in this order: the one the person chose (?lang=ru, which every link and
form on the pages carries on), else the browser's Accept-Language, else the organisation's
default (SEALDROP_DEFAULT_LANGUAGE, English if unset). Tor Browser asks for English pages by
default with exactly "en-US, en" (whatever the q-values), whatever its own language: that says
nothing about the person, so it counts as no preference (an English speaker whose browser
says the same gets the default too, and the language links). Never a cookie. docs/ADMIN.md
says how to publish an address that opens in one language (?lang=ru).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime, get_timezone_location
from babel.numbers import format_decimal
from flask import Flask, current_app, request
from flask_babel import Babel, force_locale, get_translations, gettext

from .config import ConfigError
from .messages import MESSAGES, SIZE_UNITS

DEFAULT = "en"
# What Tor Browser asks for when "Request English versions of web pages" is on (its default):
# "en-US,en;q=0.5", or with q=0.9 from Firefox 128 on.
TOR_BROWSER_SPOOFED = ["en-US", "en"]
DOMAIN = "messages"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


class CatalogError(Exception):
    """A translation is missing its compiled .mo file; the message says what to run."""


def discover(directory: Path) -> tuple[str, ...]:
    """English, then every language with a catalog in ``directory``, each checked to be
    compiled (a .po without its .mo would silently show English)."""
    found = []
    for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        if not po.with_suffix(".mo").is_file():
            raise CatalogError(
                f"{po} is not compiled: run `make translations` "
                f"(pybabel compile -d {directory} -D {DOMAIN})"
            )
        found.append(po.parent.parent.name)
    return (DEFAULT, *(code for code in found if code != DEFAULT))


def default_language(config: Mapping[str, Any] | object | None, languages: tuple[str, ...]) -> str:
    """DEFAULT_LANGUAGE from a config dict, or SEALDROP_DEFAULT_LANGUAGE; it must name a
    language the site has a catalog for."""
    if isinstance(config, Mapping):
        value = config.get("DEFAULT_LANGUAGE")
    else:
        value = os.environ.get("SEALDROP_DEFAULT_LANGUAGE")
    if value in (None, ""):
        return DEFAULT
    if value not in languages:
        raise ConfigError(
            f"SEALDROP_DEFAULT_LANGUAGE is {value!r}, but the site's languages are "
            f"{', '.join(languages)}"
        )
    return str(value)


def init_app(app: Flask, time_zone: str = "UTC", config: object = None) -> None:
    languages = discover(TRANSLATIONS_DIR)
    app.extensions["sealdrop_default_language"] = default_language(config, languages)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_DEFAULT_TIMEZONE"] = time_zone
    app.config["BABEL_DOMAIN"] = DOMAIN
    app.extensions["sealdrop_languages"] = languages
    Babel(app, locale_selector=current_language, timezone_selector=lambda: time_zone)
    app.jinja_env.globals.update(
        languages=lambda: [(code, language_name(code)) for code in languages],
        text_direction=text_direction,
    )


def languages() -> tuple[str, ...]:
    return current_app.extensions["sealdrop_languages"]


def current_language() -> str:
    chosen = request.args.get("lang")
    if chosen in languages():
        return str(chosen)
    return browser_language() or current_app.extensions["sealdrop_default_language"]


def browser_language() -> str | None:
    """The site's language the browser asks for first, if it says anything about the person."""
    if [value for value, _quality in request.accept_languages] == TOR_BROWSER_SPOOFED:
        return None
    return request.accept_languages.best_match(languages())


@cache
def language_name(code: str) -> str:
    """The language's own name for itself, as the language switch shows it."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


@cache
def text_direction(code: str) -> str:
    return "rtl" if Locale.parse(code).character_order == "right-to-left" else "ltr"


def translate(key: str, lang: str | None = None, **values: object) -> str:
    """A message from intake/messages.py, in ``lang`` (default: the request's language)."""
    with force_locale(lang or current_language()):
        return gettext(MESSAGES[key], **values)


def plural_forms(singular: str, plural: str, lang: str, **values: object) -> dict[str, str]:
    """Every plural form of a message, keyed by CLDR category (one, few, many, other...), for
    the browser to choose with Intl.PluralRules; ``%(num)s`` is left for it to fill in."""
    rule = Locale.parse(lang).plural_form
    samples: dict[str, int] = {}
    for n in range(200):
        samples.setdefault(rule(n), n)
    with force_locale(lang):
        translations = get_translations()
        return {
            tag: translations.ungettext(singular, plural, n) % {**values, "num": "%(num)s"}
            for tag, n in samples.items()
        }


def human_size(n: int, lang: str | None = None) -> str:
    lang = lang or current_language()
    size = float(n)
    for unit in SIZE_UNITS:
        if size < 1024 or unit == SIZE_UNITS[-1]:
            number = format_decimal(size, "#,##0.#", locale=lang)
            with force_locale(lang):
                return gettext(unit, size=number)
        size /= 1024
    raise AssertionError("unreachable")


def hour_text(epoch_hour: int, lang: str | None = None) -> str:
    """An hour-rounded time as people say it: "28 November, about 04:00 (Moscow)", in the
    organisation's time zone (SEALDROP_TIME_ZONE)."""
    lang = lang or current_language()
    zone = current_app.extensions["sealdrop_time_zone"]
    moment = datetime.fromtimestamp(epoch_hour, UTC).astimezone(zone)
    with force_locale(lang):
        return gettext(
            MESSAGES["hour_format"],
            date=format_datetime(moment, "d MMMM", locale=lang),
            time=format_datetime(moment, "HH:mm", locale=lang),
            zone=get_timezone_location(zone, locale=lang, return_city=True),
        )
