"""What the submission page fetches on its first load, up to a sealed submission (issue 22's
"first load", target 40 KB as served): the page, what it links to, the worker app.js starts,
the weekly keys the worker asks for before sealing, and the codename list of the page's
language it imports to issue a codename. No libsodium: the submission page seals with
WebCrypto (format v2). tests/intake/test_page_weight.py keeps this list in step with the
built scripts; the browser bench records what a real browser fetched."""

from __future__ import annotations

import re

TARGET_BYTES = 40_000
WORKER = "/static/js/worker.js"
EPOCHS = "/api/v1/epochs"
_LINKED = re.compile(r'(?:href|src)="(/static/[^"?]+)')


def words(lang: str) -> str:
    return f"/static/js/words-{lang}.js"


def paths(html: str, lang: str) -> list[str]:
    """The addresses, in the order the page asks for them, given its HTML."""
    linked = _LINKED.findall(html)
    return list(dict.fromkeys([f"/?lang={lang}", *linked, WORKER, EPOCHS, words(lang)]))
