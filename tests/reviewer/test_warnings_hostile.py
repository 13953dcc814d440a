"""Risk warnings judged by name and by content, and invisible characters made visible
(issue 10, item 5)."""

from __future__ import annotations

import pytest

from reviewer.attachments import risks
from reviewer.display import clean_name, clean_text


@pytest.mark.parametrize(
    ("name", "media_type", "head"),
    [
        ("flyer.ps", None, b""),
        ("logo.eps", None, b""),
        ("photo.jpg", "image/jpeg", b"%!PS-Adobe-3.0\n"),  # PostScript in disguise
        ("logo.jpg", "image/jpeg", b"\xc5\xd0\xd3\xc6"),  # binary EPS header
        ("scan.pdf", "application/postscript", b""),
        ("help.chm", None, b""),
        ("readme.txt", "text/plain", b"ITSF\x03\x00\x00\x00"),  # a CHM in disguise
        ("setup.pif", None, b""),
        ("bank.url", None, b""),
        ("notes.txt", "text/plain", b"[InternetShortcut]\r\nURL=file://x\r\n"),
        ("addin.xll", None, b""),
        ("notes.txt", "text/plain", b"\xef\xbb\xbf<!DOCTYPE html><script>"),  # BOM, then HTML
        ("notes.txt", "text/plain", b"\xef\xbb\xbf  <html>"),
        ("notes.txt", "text/plain", "\ufeff<svg onload=x>".encode("utf-16-le")),
        ("notes.txt", "text/plain", b"\xfe\xff" + "<html>".encode("utf-16-be")),
        ("NOTES.PS", None, b""),
    ],
)
def test_risky_by_name_or_by_content(name: str, media_type: str | None, head: bytes) -> None:
    assert risks(name, media_type, head), (name, head)


@pytest.mark.parametrize(
    ("name", "media_type", "head"),
    [
        ("notes.txt", "text/plain", "\ufeffПривет, мир".encode()),
        ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("report.pdf", "application/pdf", b"%PDF-1.7\n"),
    ],
)
def test_ordinary_files_get_no_warning(name: str, media_type: str, head: bytes) -> None:
    assert risks(name, media_type, head) == []


@pytest.mark.parametrize(
    ("hidden", "shown"),
    [
        ("\u200b", "\\u200b"),  # zero-width space
        ("\u200d", "\\u200d"),  # zero-width joiner
        ("\u200c", "\\u200c"),  # zero-width non-joiner
        ("\ufeff", "\\ufeff"),  # byte-order mark
        ("\u00ad", "\\u00ad"),  # soft hyphen
        ("\u2060", "\\u2060"),  # word joiner
        ("\U000e0041", "\\U000e0041"),  # tag character LATIN CAPITAL A
        ("\U000e007f", "\\U000e007f"),  # cancel tag
        ("\u202e", "\\u202e"),  # right-to-left override
        ("\u2067", "\\u2067"),  # right-to-left isolate
        ("\u061c", "\\u061c"),  # Arabic letter mark
    ],
)
def test_clean_text_shows_invisible_characters(hidden: str, shown: str) -> None:
    text = f"pay to{hidden} account 1"
    cleaned = clean_text(text)
    assert hidden not in cleaned and shown in cleaned
    assert cleaned == f"pay to{shown} account 1"
    assert clean_name(text) == cleaned


def test_clean_text_keeps_ordinary_text_lines_and_tabs() -> None:
    text = "Привет,\tмир\nсалам — ok 👍\r\nnext"
    assert clean_text(text) == "Привет,\tмир\nсалам — ok 👍\nnext"
