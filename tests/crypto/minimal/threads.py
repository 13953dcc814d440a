"""Threads (FORMAT.md §5.6)."""

from __future__ import annotations


def thread_members(submissions: list[dict]) -> list[str]:
    """The ids, of submissions naming one reply key in order, that belong to its thread."""
    proven = [s for s in submissions if s["proof"] == "proven"]
    unproven = [s for s in submissions if s["proof"] == "unproven"]
    anchor = (proven or unproven or [None])[0]
    before = submissions.index(proven[0]) if proven else len(submissions)
    return [
        s["id"]
        for place, s in enumerate(submissions)
        if s["proof"] == "proven"
        or (s["proof"] == "unproven" and place < before and s["mailbox"] == anchor["mailbox"])
    ]
