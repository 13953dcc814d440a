"""Which language a page opens in: the person's choice (?lang=), else the browser's
Accept-Language (Tor Browser's spoofed English counts as no preference), else the
organisation's SEALDROP_DEFAULT_LANGUAGE."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from intake.config import ConfigError

from .conftest import Intake, build

SPOOFED = {"Accept-Language": "en-US,en;q=0.5"}
SPOOFED_SINCE_128 = {"Accept-Language": "en-US,en;q=0.9"}


def html_lang(intake: Intake, path: str, headers: dict[str, str] | None = None) -> str:
    response = intake.client.get(path, headers=headers or {})
    assert "Accept-Language" in response.headers.get("Vary", "")
    page = response.get_data(as_text=True)
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_browser_language_unless_chosen(intake: Intake) -> None:
    assert html_lang(intake, "/", {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}) == "ru"
    assert html_lang(intake, "/replies", {"Accept-Language": "ru"}) == "ru"
    assert html_lang(intake, "/", {"Accept-Language": "de,en;q=0.3"}) == "en"
    assert html_lang(intake, "/?lang=en", {"Accept-Language": "ru"}) == "en"  # chosen wins
    assert html_lang(intake, "/", SPOOFED) == "en"
    page = intake.client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'action="/submit?lang=ru"' in page  # the form keeps the language it opened in


def test_admin_default(tmp_path: Path, watched_tmp: Path, captured_log: io.StringIO) -> None:
    intake = build(tmp_path, watched_tmp, captured_log, DEFAULT_LANGUAGE="ru")
    assert html_lang(intake, "/") == "ru"
    assert html_lang(intake, "/", SPOOFED) == "ru"  # Tor Browser's English says nothing
    assert html_lang(intake, "/", SPOOFED_SINCE_128) == "ru"
    assert html_lang(intake, "/", {"Accept-Language": "en-GB,en;q=0.8"}) == "en"
    assert html_lang(intake, "/?lang=en") == "en"


def test_unknown_default_refused(
    tmp_path: Path, watched_tmp: Path, captured_log: io.StringIO
) -> None:
    with pytest.raises(ConfigError, match="DEFAULT_LANGUAGE"):
        build(tmp_path, watched_tmp, captured_log, DEFAULT_LANGUAGE="xx")
