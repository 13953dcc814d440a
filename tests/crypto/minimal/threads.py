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


def conversation_id(reply_key: str | None, first_submission: str) -> str:
    """§8.2: "c" and base32 of BLAKE2b-120 (personalisation sealdrop-conv) of the key line."""
    import base64

    import nacl.bindings as sodium

    if reply_key is None:
        return first_submission
    digest = sodium.crypto_generichash.generichash_blake2b_salt_personal(
        reply_key.encode(), digest_size=15, person=b"sealdrop-conv".ljust(16, b"\0")
    )
    return "c" + base64.b32encode(digest).decode().lower()
