"""What one check says (a Line), and what the pages of one address lead to."""

from __future__ import annotations

from dataclasses import dataclass, field

from .fetch import Client

OK, FAIL, ERROR = "ok", "FAIL", "ERROR"


@dataclass(frozen=True)
class Line:
    status: str  # OK; FAIL: served something other than what was signed; ERROR: unreachable
    text: str

    def __str__(self) -> str:
        return f"{self.status}: {self.text}"


@dataclass(frozen=True)
class Visit:
    method: str
    path: str

    def __str__(self) -> str:
        return self.path if self.method == "GET" else f"{self.path} (a form posted to it)"


@dataclass
class Found:
    """What the pages of one address lead to, whichever browser asked."""

    visits: set[Visit] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)


def merged(results: list[tuple[Client, list[Line]]], how: str) -> list[Line]:
    """One line per finding; a finding that only some ways of asking met says which."""
    everyone = len(results)
    seen: dict[Line, list[str]] = {}
    for client, lines in results:
        for line in lines:
            seen.setdefault(line, []).append(str(client))
    merged = []
    for line, names in seen.items():
        if line.status == OK and len(names) < everyone:
            continue  # the others' lines say what differs
        if len(names) < everyone:
            line = Line(line.status, f"{line.text} ({how} {'; '.join(names)})")
        merged.append(line)
    return merged
