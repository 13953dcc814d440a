"""A team of reviewers on their own vaults, and a stand-in for the server between them: what
it stores and exports is exactly what it is handed (opaque bundles' entries)."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from crypto import Identity, seal_bytes
from crypto.bundle import REPLIES, SUBMISSIONS, Bundle, BundleWriter, hour_stamp
from crypto.codename import Codename
from crypto.team import Member
from reviewer import opening, replies, sync
from reviewer.team import Team
from reviewer.vault import Vault

RECEIVED = "2026-11-24T12:00Z"


@dataclass
class Reviewer:
    label: str
    identity: Identity
    vault: Vault

    @property
    def key_id(self) -> str:
        return self.identity.public_key.key_id_hex

    @property
    def member(self) -> Member:
        return Member.of(self.identity, self.label)


def make_team(root: Path, labels: tuple[str, ...] = ("anna", "boris", "chen")) -> list[Reviewer]:
    team = [Reviewer(label, Identity.generate(), Vault(root / label)) for label in labels]
    for reviewer in team:
        for colleague in team:
            Team(reviewer.vault).add(colleague.member)
    return team


def person_submission(team: list[Reviewer], text: str) -> tuple[bytes, Codename]:
    codename = Codename.generate()
    keys = codename.derive()
    envelope = seal_bytes(
        [r.identity.public_key for r in team],
        text,
        trailer={"reply_key": keys.public_key.line, "mailbox": keys.mailbox},
    )
    return envelope, codename


def write_submissions(path: Path, envelopes: dict[str, bytes], events: dict[str, bytes]) -> Path:
    with path.open("wb") as out:
        writer = BundleWriter(out, SUBMISSIONS)
        for submission_id, envelope in envelopes.items():
            writer.add(submission_id, RECEIVED, io.BytesIO(envelope), len(envelope))
        for event_id, envelope in events.items():
            writer.add_event(event_id, RECEIVED, io.BytesIO(envelope), len(envelope))
        writer.close()
    return path


def open_into(reviewer: Reviewer, path: Path) -> sync.Received | None:
    """What `sealdrop-reviewer open` does, without the passphrase prompt."""
    with Bundle(path) as bundle:
        todo, outcomes = opening.plan(bundle, reviewer.vault)
        outcomes += opening.open_entries(bundle, reviewer.vault, todo, [reviewer.identity])
        assert all(o.status != opening.FAILED for o in outcomes), outcomes
        return opening.merge_staff_events(bundle, reviewer.vault, outcomes, reviewer.identity)


_names = itertools.count()


def send(reviewer: Reviewer, directory: Path) -> Path | None:
    """What `sealdrop-reviewer export-replies` does: replies, events, confirmations."""
    events = sync.outgoing(reviewer.vault, reviewer.identity)
    acks = sync.pending_acks(reviewer.vault, reviewer.identity)
    path = directory / f"replies-{next(_names)}.tar"
    replies.export_replies(reviewer.vault, path, events, acks)
    if not path.exists():
        return None
    sync.acks_sent(reviewer.vault, acks)
    return path


@dataclass
class SimServer:
    """Keeps every event envelope it is handed, by id; an export carries the new ones, an
    export ``again`` all of them (as `export --again` before anyone confirmed)."""

    directory: Path
    events: dict[str, bytes] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    replies: set[str] = field(default_factory=set)

    def import_replies(self, path: Path) -> None:
        with Bundle(path, REPLIES) as bundle:
            self.replies |= {entry.id for entry in bundle.entries}
            for entry, reader in bundle.event_envelopes():
                data = reader.read()
                reader.check()
                self.events.setdefault(entry.id, data)

    def export(self, again: bool = False) -> Path:
        chosen = {i: e for i, e in self.events.items() if again or i not in self.exported}
        self.exported |= set(chosen)
        path = self.directory / f"export-{next(_names)}-{hour_stamp()[:10]}.tar"
        return write_submissions(path, {}, chosen)
