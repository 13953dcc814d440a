"""The translation catalogs' upkeep: extracting every text the pages show into
intake/translations/messages.pot (`make messages`; docs/TRANSLATING.md), and reading the
catalogs back for the test that fails on a missing or stale string.

    python -m intake.catalogs extract     rewrite messages.pot from the code and templates
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "intake" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
# Where texts live: Python (messages.py's N_ and Nn_ markers) and the Jinja templates.
METHODS = [("intake/**.py", "python"), ("intake/templates/**.html", "jinja2")]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "Nn_": (1, 2),
}


def extract() -> Catalog:
    """Every translatable text in the code and templates, as a fresh catalog."""
    catalog = Catalog(project="sealdrop", version="0.1", copyright_holder="sealdrop contributors")
    found = extract_from_dir(
        str(ROOT),
        METHODS,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
        directory_filter=lambda path: (
            Path(path).name not in {"node_modules", "static"}
            and not Path(path).name.startswith((".", "_"))
        ),
    )
    for filename, _lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, None)], auto_comments=comments, context=context)
    return catalog


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def write_template() -> None:
    with TEMPLATE.open("wb") as handle:
        write_po(handle, extract(), sort_output=True, include_lineno=False, width=100)


def translation_files() -> list[Path]:
    return sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def main(argv: list[str]) -> int:
    if argv != ["extract"]:
        print(__doc__, file=sys.stderr)
        return 2
    write_template()
    print(f"wrote {TEMPLATE.relative_to(ROOT)}; now `pybabel update` merges it into each .po")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
