"""Rewrites the vector tables of tests/vectors/README.md from the vectors' own JSON, so the
README names every vector with its expected result: .venv/bin/python -m tests.vectors.readme_tables
(tests/crypto/test_vectors.py checks the README is current)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent


def _rows(pattern: str, columns: list[str], folder: Path = HERE) -> list[str]:
    rows = []
    for path in sorted(folder.glob(pattern)):
        doc = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        cells = [f"`{path.stem}`"]
        for column in columns:
            value = doc.get(column, "")
            cells.append(", ".join(value) if isinstance(value, list) else str(value))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


# table head -> (the heading above it, its rows)
TABLES = {
    "| name | expect | identities | description |": (
        "## Envelopes: `NAME.sdenv` and `NAME.json`",
        lambda: _rows("*.sdenv", ["expect", "identities", "description"]),
    ),
    "| name | expect | kind | description |": (
        "## Bundles: `bundle-NAME.tar` and `bundle-NAME.json`",
        lambda: _rows("bundle-*.tar", ["expect", "kind", "description"]),
    ),
    "| staff event | expect | description |": (
        "## Staff events: `team/`",
        lambda: _rows("*.sdenv", ["expect", "description"], HERE / "team"),
    ),
}


def tables(text: str) -> str:
    """``text`` with every table whose header is in TABLES rewritten."""
    for head, (heading, rows_for) in TABLES.items():
        rows = rows_for()
        at = text.index(heading)
        line_end = text.index("\n", at)
        text = text[:at] + f"{heading} ({len(rows)} vectors)" + text[line_end:]
        start = text.index(head)
        end = text.find("\n\n", start)
        end = len(text) if end < 0 else end
        separator = "| " + " | ".join("---" for _ in head.strip("| ").split(" | ")) + " |"
        text = text[:start] + "\n".join([head, separator, *rows]) + text[end:]
    return text


def main() -> None:
    readme = HERE / "README.md"
    readme.write_text(tables(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
