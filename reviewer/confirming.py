"""Confirming to the server what this vault holds, signed (docs/FORMAT.md §8.5).

Each replies bundle of a team member carries one confirmation signed with their team signing
key: every submission in the vault and every staff event received that no earlier
confirmation carried. Since it covers the whole vault rather than only what ``open`` noted,
a reviewer who opened bundles before joining a team catches up on their next export, with no
extra round trip. A bundle lost on the way costs nothing: the server ignores what it already
counts, and ``export --again`` repeats what it still waits for.
"""

from __future__ import annotations

from collections.abc import Iterable

from crypto import Identity
from crypto.confirmation import SignedConfirmation, sign_confirmation
from crypto.team import Signer

from .syncstate import SyncState
from .vault import Vault


def pending_acks(vault: Vault, identity: Identity) -> SignedConfirmation | None:
    """The signed confirmation for the next replies bundle, or None if all is confirmed."""
    state = SyncState(vault)
    submissions = (set(vault.ids()) | state.acked_submissions) - state.confirmed
    if not submissions and not state.acked_events:
        return None
    reviewer = identity.public_key.key_id_hex
    return sign_confirmation(Signer(identity), reviewer, submissions, state.acked_events)


def acks_sent(vault: Vault, acks: SignedConfirmation | None) -> None:
    """After the bundle is written: what it confirmed is not confirmed again."""
    if acks is None:
        return
    state = SyncState(vault)
    state.confirmed |= set(acks.submissions)
    state.acked_submissions -= set(acks.submissions)
    state.acked_events -= set(acks.events)
    state.save()


def record_opened(vault: Vault, submission_ids: Iterable[str]) -> None:
    """Remembers submissions now in the vault, to confirm them to the server (even should
    they be destroyed before the next export). One that arrives again was sent again because
    the server still waits for it (a bundle lost on the way): it is confirmed again."""
    ids = set(submission_ids)
    state = SyncState(vault)
    state.acked_submissions |= ids
    state.confirmed -= ids
    state.save()
