"""The no-JS confirmation page (templates/submitted.html), rendered once per language and
kind: between two submissions only the codename differs, so each is the page rendered with
numbered placeholders for its words, and the words (escaped) put in their place. Rendering
the template with its translations for every text cost as much CPU as storing the text."""

from __future__ import annotations

import re

from flask import current_app, render_template
from markupsafe import escape

from crypto.codename import WORD_COUNT

from .i18n import current_language

# A placeholder for word i: NUL never comes out of escaping a codename, nor out of a template.
_SLOT = re.compile("\x00([0-9])\x00")
_PLACEHOLDER = " ".join(f"\x00{i}\x00" for i in range(WORD_COUNT))


def confirmation_page(codename: str, again: bool = False) -> str:
    """The page for a stored submission: ``codename`` the new one to show ("" for a
    follow-up); ``again`` if it is a reload of a post already stored."""
    words = codename.split()
    if codename and (len(words) != WORD_COUNT or "\x00" in codename):
        return render_template("submitted.html", codename=codename, again=again)
    key = (current_language(), again, bool(codename))
    pages: dict[tuple[str, bool, bool], list[str]] = current_app.extensions.setdefault(
        "sealdrop_confirmation_pages", {}
    )
    pieces = pages.get(key)
    if pieces is None:
        placeholder = _PLACEHOLDER if codename else ""
        page = render_template("submitted.html", codename=placeholder, again=again)
        # The page's text between the slots, each slot's word number after its text.
        pieces = pages[key] = _SLOT.split(page)
    if not codename:
        return pieces[0]
    escaped = [str(escape(word)) for word in words]
    return "".join(
        piece if index % 2 == 0 else escaped[int(piece)] for index, piece in enumerate(pieces)
    )
