"""Where a submission's replies go, and which submissions form one person's thread.

A submission's trailer names a reply key and a mailbox, and, since proofs exist, carries a
signature by the codename's key (crypto.followup, docs/FORMAT.md §5). Anyone who learnt a
person's reply *public* key can write a trailer naming it with a mailbox of their own, so a
thread is not simply every submission naming one reply key:

- a **proven** submission (the signature holds for its envelope) belongs to its key's thread;
- a **forged** one (a proof that does not hold) never does, and is never answered;
- an **unproven** one (no proof: sealed before proofs existed, or by a forger) belongs only
  if it names the thread's mailbox (the first proven member's, else the earliest member's)
  and came before the thread's first proven submission: once a person's software signs,
  everything they send is proven. Any other stands alone, marked.

``reply`` answers a submission only in its own thread's mailbox: never one an outsider named.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crypto import PublicKey, SealdropError
from crypto.bundle import MAILBOX_PATTERN
from crypto.followup import Proof, check

from .vault import Submission, Vault, VaultError


class ReplyError(VaultError):
    """A reply cannot be written or exported; the message says why and what to do."""


# A hand-over's re-sealed copy names the header hash of the envelope the person sent.
HANDED_OVER_HEADER = "handed_over_header_hash"


def _listing(submission: Submission) -> dict[str, Any]:
    try:
        listing = json.loads((submission.path / "contents.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise VaultError(
            f"the vault entry {submission.id} is damaged; destroy it and open its bundle again"
        ) from None
    return listing if isinstance(listing, dict) else {}


def trailer_of(submission: Submission) -> dict[str, Any]:
    trailer = _listing(submission).get("trailer")
    return trailer if isinstance(trailer, dict) else {}


def header_hash_of(submission: Submission) -> str | None:
    """The hex header hash of the envelope the person sent: recorded when it was opened (None
    before proofs), or, for a copy re-sealed by a colleague for a hand-over (FORMAT.md §8.4),
    the one the colleague recorded, which the person's proof signs."""
    listing = _listing(submission)
    trailer = listing.get("trailer")
    if isinstance(trailer, dict) and isinstance(trailer.get(HANDED_OVER_HEADER), str):
        return trailer[HANDED_OVER_HEADER]
    header_hash = listing.get("header_hash")
    return header_hash if isinstance(header_hash, str) else None


def proof_of(submission: Submission) -> Proof:
    """Whether the submission proves its codename (entries opened before proofs existed have
    no header hash, so a proof in them cannot be checked: forged)."""
    trailer = _listing(submission).get("trailer")
    header_hash = header_hash_of(submission)
    try:
        known = bytes.fromhex(header_hash) if isinstance(header_hash, str) else None
    except ValueError:
        known = None
    return check(trailer if isinstance(trailer, dict) else {}, known)


def reply_target(submission: Submission) -> tuple[PublicKey, str]:
    """The reply key and mailbox the submitter asked replies to go to."""
    trailer = trailer_of(submission)
    if trailer.get("reply_key") is None:
        raise ReplyError(
            f"submission {submission.id} has no reply key: the person did not ask for "
            "replies or used an older sealdrop, so it cannot be answered"
        )
    key, mailbox = trailer.get("reply_key"), trailer.get("mailbox")
    try:
        if not isinstance(key, str) or not isinstance(mailbox, str):
            raise ValueError
        public_key = PublicKey.from_line(key)
    except (SealdropError, ValueError):
        public_key = None
    if public_key is None or not MAILBOX_PATTERN.fullmatch(str(mailbox)):
        raise ReplyError(
            f"submission {submission.id} carries a malformed reply key or mailbox, so it "
            "cannot be answered (the sender's software is faulty or the envelope was forged)"
        )
    return public_key, str(mailbox)


def thread_key(submission: Submission) -> str | None:
    """The canonical reply key line the submission names, if it is valid (its thread's, when
    it belongs to one; see ``standings``)."""
    try:
        return reply_target(submission)[0].line
    except ReplyError:
        return None


@dataclass(frozen=True)
class Standing:
    proof: Proof
    member: bool  # belongs to the thread of the reply key it names

    def describe(self) -> str:
        if self.proof is Proof.PROVEN:
            return "proven: sent with this person's codename"
        if self.proof is Proof.FORGED:
            return (
                "FORGED: its proof of the codename does not hold; not from this person, "
                "and it cannot be answered"
            )
        if self.member:
            return "unproven: sent before follow-ups carried a proof of the codename"
        return (
            "UNPROVEN and not in this person's thread: it names their reply key but another "
            "mailbox, or came after their proven messages; it may be forged"
        )


def standings(
    vault: Vault, key: str, positions: Mapping[str, int]
) -> dict[str, tuple[Submission, Standing]]:
    """Every submission naming reply key ``key``, with its standing; ``positions`` is the
    order submissions entered the vault (reviewer.replies.order), for same-hour ties."""
    named = sorted(
        (s for s in vault.submissions() if thread_key(s) == key),
        key=lambda s: (s.record.received, positions.get(s.id, 0), s.id),
    )
    proofs = [proof_of(s) for s in named]
    members = memberships([reply_target(s)[1] for s in named], proofs)
    return {
        s.id: (s, Standing(proof, member))
        for s, proof, member in zip(named, proofs, members, strict=True)
    }


def memberships(mailboxes: Sequence[str], proofs: Sequence[Proof]) -> list[bool]:
    """FORMAT.md §5.6 for the submissions naming one reply key, given in order (hour received,
    then the order they entered the vault): whether each belongs to the thread."""
    proven = [i for i, proof in enumerate(proofs) if proof is Proof.PROVEN]
    unproven = [i for i, proof in enumerate(proofs) if proof is Proof.UNPROVEN]
    anchor = (proven or unproven or [None])[0]
    mailbox = mailboxes[anchor] if anchor is not None else None
    first_proven = proven[0] if proven else len(proofs)
    return [
        proof is Proof.PROVEN
        or (proof is Proof.UNPROVEN and mailboxes[place] == mailbox and place < first_proven)
        for place, proof in enumerate(proofs)
    ]


def standing(vault: Vault, submission: Submission, positions: Mapping[str, int]) -> Standing:
    key = thread_key(submission)
    if key is None:
        return Standing(proof_of(submission), False)
    return standings(vault, key, positions)[submission.id][1]


def check_answerable(vault: Vault, submission: Submission, positions: Mapping[str, int]) -> None:
    """Raises ReplyError unless a reply to ``submission`` reaches the person of its thread."""
    reply_target(submission)
    found = standing(vault, submission, positions)
    if found.proof is Proof.FORGED:
        raise ReplyError(
            f"submission {submission.id} carries a proof of the codename that does not hold: "
            "it was not sent by the person whose reply key it names, so it is not answered; "
            "nothing was queued"
        )
    if not found.member:
        raise ReplyError(
            f"submission {submission.id} names another thread's reply key with a mailbox of "
            "its own and no proof of the codename: a reply would not reach that person, so "
            "none is queued. Answer the thread's own submissions instead"
        )
