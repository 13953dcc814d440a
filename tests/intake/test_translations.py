"""The pages' texts are gettext catalogs: every string in the code and templates is in the
committed messages.pot, every language translates all of it (each plural form, the same
placeholders) and is compiled; Russian plurals and dates read naturally; and a right-to-left
language lays the pages out mirrored without touching code."""

from __future__ import annotations

import calendar
import io
import re
import shutil
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.checkers import python_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from intake import catalogs, i18n
from intake.catalogs import extract, read, translation_files
from tests.intake.conftest import Intake, build

ROOT = Path(__file__).resolve().parents[2]
STYLESHEET = ROOT / "intake" / "static" / "css" / "style.css"


def ids(catalog: Catalog) -> set[object]:
    return {(message.id, message.context) for message in catalog if message.id}


def test_the_committed_template_holds_exactly_the_texts_in_the_code() -> None:
    extracted, committed = ids(extract()), ids(read(catalogs.TEMPLATE))
    assert extracted - committed == set(), "new texts: run `make messages` and translate them"
    assert committed - extracted == set(), "stale texts in messages.pot: run `make messages`"


def test_there_is_at_least_one_translation() -> None:
    assert [path.parent.parent.name for path in translation_files()] == ["ru"]


@pytest.mark.parametrize("path", translation_files(), ids=lambda path: path.parent.parent.name)
def test_every_language_translates_every_text_completely(path: Path) -> None:
    template, catalog = read(catalogs.TEMPLATE), read(path)
    lang = path.parent.parent.name
    assert ids(catalog) == ids(template), f"{path}: run `make messages`, then translate"
    assert not catalog.fuzzy, f"{path}: the header is marked fuzzy, so nothing would be used"
    plurals = len(set(Locale.parse(lang).plural_form.tags)) or 1
    for message in catalog:
        if not message.id:
            continue
        assert "fuzzy" not in message.flags, f"{path}: unchecked translation of {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{path}: {message.id!r} is not translated"
        if message.pluralizable:
            assert len(strings) == catalog.num_plurals >= plurals, message.id
        python_format(catalog, message)  # raises on a placeholder missing or misspelt


@pytest.mark.parametrize("path", translation_files(), ids=lambda path: path.parent.parent.name)
def test_every_language_is_compiled_from_its_current_po(path: Path) -> None:
    compiled = path.with_suffix(".mo")
    assert compiled.is_file(), "run `make translations`"
    fresh = io.BytesIO()
    write_mo(fresh, read(path))
    assert compiled.read_bytes() == fresh.getvalue(), f"{compiled} is stale: `make translations`"


def test_a_po_without_its_mo_stops_the_server_with_what_to_run(tmp_path: Path) -> None:
    (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "de" / "LC_MESSAGES" / "messages.po").write_text("", encoding="utf-8")
    with pytest.raises(i18n.CatalogError, match="make translations"):
        i18n.discover(tmp_path)


def test_russian_plurals_and_dates(intake: Intake, tmp_path, watched_tmp, captured_log) -> None:
    from intake.pageconfig import replies_none

    with intake.app.test_request_context("/?lang=ru"):
        for days, word in ((1, "1 день"), (3, "3 дня"), (5, "5 дней"), (21, "21 день")):
            assert f"через {word} после" in replies_none(days, "ru")
        assert "30 days" in replies_none(30, "en") and "1 day " in replies_none(1, "en")
        forms = i18n.plural_forms("about %(num)s minute", "about %(num)s minutes", "ru")
        assert forms == {
            "one": "около %(num)s минуты",
            "few": "около %(num)s минут",
            "many": "около %(num)s минут",
        }
    (tmp_path / "m").mkdir()
    moscow = build(tmp_path / "m", watched_tmp, captured_log, TIME_ZONE="Europe/Moscow")
    hour = calendar.timegm((2026, 11, 28, 1, 0, 0))
    with moscow.app.test_request_context("/?lang=ru"):
        assert i18n.hour_text(hour) == "28 ноября, около 04:00 (Москва)"
    with moscow.app.test_request_context("/?lang=en"):
        assert i18n.hour_text(hour) == "28 November, about 04:00 (Moscow)"
    with intake.app.test_request_context("/?lang=en"):
        assert i18n.hour_text(hour) == "28 November, about 01:00 (UTC)"


def test_a_wrong_time_zone_is_named(tmp_path, watched_tmp, captured_log) -> None:
    from intake.config import ConfigError

    with pytest.raises(ConfigError, match="SEALDROP_TIME_ZONE"):
        build(tmp_path, watched_tmp, captured_log, TIME_ZONE="Mars/Olympus")


def pseudo_rtl(text: str) -> str:
    """An Arabic-script pseudo-translation that keeps the placeholders."""
    return "ـ".join(["عربي", text, "ـ"])


def with_pseudo_rtl(directory: Path) -> Path:
    """A copy of the real catalogs plus a pseudo-Arabic one ("ar"), in ``directory``."""
    translations = directory / "translations"
    shutil.copytree(catalogs.TRANSLATIONS, translations)
    template = read(catalogs.TEMPLATE)
    catalog = Catalog(locale="ar", fuzzy=False)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            string = tuple(pseudo_rtl(message.id[1]) for _ in range(catalog.num_plurals))
        else:
            string = pseudo_rtl(message.id)
        catalog.add(message.id, string, flags=message.flags)
    directory = translations / "ar" / "LC_MESSAGES"
    directory.mkdir(parents=True)
    with (directory / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    with (directory / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return translations


def test_a_right_to_left_language_needs_only_a_catalog(
    tmp_path: Path, watched_tmp, captured_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", with_pseudo_rtl(tmp_path))
    intake = build(tmp_path, watched_tmp, captured_log)

    page = intake.client.get("/?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert 'href="/?lang=ar"' in intake.client.get("/").get_data(as_text=True)  # offered
    assert pseudo_rtl("Send") in page and "العربية" in page
    assert pseudo_rtl("Encrypting on your device…") in page  # the scripts' texts too
    replies = intake.client.get("/replies?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in replies
    assert '<html lang="ru" dir="ltr">' in intake.client.get("/?lang=ru").get_data(as_text=True)


def test_the_stylesheet_uses_only_logical_directions() -> None:
    """With dir="rtl" the browser mirrors logical properties; physical ones would not move."""
    css = STYLESHEET.read_text("utf-8")
    physical = re.findall(
        r"(?:margin|padding|border)-(?:left|right)\b|(?<![\w-])(?:left|right)\s*:"
        r"|text-align\s*:\s*(?:left|right)|float\s*:\s*(?:left|right)",
        css,
    )
    assert physical == []
