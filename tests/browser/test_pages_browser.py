"""Issue 11 in real browsers, at phone size (390x844) and desktop, in English and Russian:
Firefox ESR at Tor Browser's Standard, Safer and Safest levels, and Chromium. One browser run
per level (tests/browser/drive_pages.js) covers:

- the codename shown large (never smaller than body text), numbered, in one column read top
  to bottom at every width (issue 20), no
  word wrapped or cut, even the longest words of each list;
- the codename surviving the language switch, and leaving (reload, link) guarded;
- a codename issued on a Russian page opening the English replies page, and vice versa;
- without JavaScript, an error handing the typed message back;
- every tap target at least 44x44 CSS px, the Send button on a phone's first screen;
- with JavaScript on but the page scripts blocked, the server-sealing notice in view
  (issue 10, item 2);
- a pseudo-Arabic catalog laying the form out right to left, within a phone's width;
- (Chromium) a slow upload saying to keep the page open and how long is left, and leaving
  it guarded.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from crypto.codename import LANGUAGES, Codename
from crypto.wordlists import load as wordlist
from intake import i18n
from tests.intake.test_translations import with_pseudo_rtl

from .conftest import require_executable

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
EXECUTABLES = {"firefox": ("/usr/bin/firefox-esr", "firefox-esr"), "chromium": (
    "/usr/lib/chromium/chromium", "chromium")}  # fmt: skip


@pytest.fixture
def rtl_url(intake_server, start_intake, tmp_path, monkeypatch):
    """A second intake app, with a pseudo-Arabic catalog beside the real ones."""
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", with_pseudo_rtl(tmp_path / "rtl"))
    return start_intake(DATA_DIR=str(tmp_path / "rtl-data")).url


def drive(
    node: str, tmp_path: Path, url: str, browser: str, level: str, rtl_url: str | None = None
) -> dict:
    require_executable(*EXECUTABLES[browser])
    big_file = tmp_path / "photo.jpg"
    big_file.write_bytes(os.urandom(2_500_000))  # three 1 MiB chunks
    spec = {
        # The long-upload check once, in the quickest browser.
        "big_file": str(big_file) if browser == "chromium" else None,
        "rtl_url": rtl_url,
        "browser": browser,
        "level": level,
        "url": url,
        "timeout_ms": 90_000,
        "widest": widest_words(),
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    result = subprocess.run(
        [node, str(HERE / "drive_pages.js"), str(spec_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"browser run failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)


def widest_words() -> dict[str, list[str]]:
    """Each list's longest words, to lay out the worst codename it can issue."""
    return {lang: sorted(wordlist(lang), key=len)[-8:] for lang in LANGUAGES}


def check_codename_layout(layout: dict, columns: int) -> None:
    assert layout["count"] == 8
    assert layout["numbers"] == [str(n) for n in range(1, 9)]
    assert " ".join(layout["words"]) == layout["codename"]
    Codename.parse(layout["codename"])
    assert layout["columns"] == columns
    assert layout["smallest_word_px"] >= 1.25 * layout["body_px"]  # large
    assert layout["smallest_number_px"] >= layout["body_px"]  # nothing smaller than body text
    assert layout["all_on_one_line"] and layout["none_overflowing"]


def check_sent(seen: dict, columns: int, other: str) -> None:
    assert seen["server_notice_hidden"] is True  # the script took over and said so
    assert seen["form_small_targets"] == [] and seen["sent_small_targets"] == []
    assert seen["send_bottom"] <= seen["viewport_height"], "Send is below the first screen"
    assert seen["page_width"] <= seen["viewport_width"], "the form scrolls sideways"
    assert seen["sent_page_width"] <= seen["viewport_width"], "the confirmation scrolls sideways"
    assert seen["guarded_before_sending"] is False  # nothing to lose yet: no nagging
    check_codename_layout(seen["layout"], columns)
    assert seen["widest_fit"] == dict.fromkeys(LANGUAGES, True), "a long word breaks the grid"
    assert seen["guarded_with_codename"] is True
    after = seen["after_switch"]
    assert after["codename"] == seen["layout"]["codename"]
    check_codename_layout(after, columns)
    assert seen["after_switch_url"].endswith(f"/sent?lang={other}")
    heading = {"en": "Your message was received", "ru": "Ваше сообщение получено"}[other]
    assert seen["after_switch_heading"] == heading
    assert seen["guarded_after_switch"] is True


def check_opened(seen: dict, codename: str) -> None:
    assert seen["server_notice_hidden"] is True
    assert seen["small_targets"] == []
    assert seen["codename_field_rows"] == "TEXTAREA"
    assert seen["status_error"] is False and seen["opened"] is True
    assert Codename.parse(seen["followup_codename"]) == Codename.parse(codename)


@pytest.mark.parametrize(
    ("browser", "level"),
    [("firefox", "standard"), ("firefox", "safer"), ("chromium", "standard")],
)
def test_pages_with_javascript(node, tmp_path, intake_server, rtl_url, browser, level):
    report = drive(node, tmp_path, intake_server.url, browser, level, rtl_url)
    check_sent(report["phone_ru"], columns=1, other="en")
    check_opened(report["phone_check_en"], report["phone_ru"]["layout"]["codename"])
    check_sent(report["desktop_en"], columns=1, other="ru")
    check_opened(report["desktop_check_ru"], report["desktop_en"]["layout"]["codename"])
    if browser == "chromium":
        slow = report["slow"]
        assert slow["guarded_while_sending"] is True
        sending = [text for text in slow["statuses"] if "%" in text]
        assert sending and all("Не закрывайте эту страницу" in text for text in sending)
        assert any("осталось меньше минуты" in text for text in sending), sending
    rtl = report["rtl"]
    assert rtl["dir"] == "rtl" and rtl["page_width"] <= 390 and rtl["small_targets"] == []
    assert rtl["send_right"] > 390 - 40 and rtl["send_left"] > 100  # at the right, mirrored
    assert rtl["label_right"] > 390 - 40
    assert report["blocked"] == {
        "form_server_notice_visible": True,
        "form_js_notice_hidden": True,
        "replies_server_notice_visible": True,
    }


def test_pages_at_safest(node, tmp_path, intake_server):
    seen = drive(node, tmp_path, intake_server.url, "firefox", "safest")["plain"]
    assert seen["server_notice_hidden"] is False and seen["js_notice_hidden"] is True
    assert len(seen["words"]) == 8 and " ".join(seen["words"]) == seen["codename"]
    assert seen["after_switch_lang"] == "en" and seen["after_switch_words"] == seen["words"]
    assert seen["replies_server_notice_hidden"] is False
    assert seen["opened"] is True and seen["status_error"] is False
    # The follow-up form carries only the codename just checked (issue 20), and sends.
    assert seen["followup_codename"] == seen["codename"]
    assert seen["followup_sent_title"] == "Your message was received"
