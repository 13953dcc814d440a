"""The team in a vault: the colleagues whose staff events this machine accepts and seals to.

    <vault>/team.json   {"members": [{"label", "public_key", "signing_key", "added"}]}

Members are added only after comparing their team fingerprint in person (docs/REVIEWER.md).
The vault's own reviewer is a member too (added on first use), so that their own events,
sealed to the whole team, can be opened when they come back from the server. A label is how
people name each other when assigning; ``key_id_for`` turns one into the member's key id.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from crypto import Identity, PublicKey, SealdropError
from crypto.bundle import hour_stamp
from crypto.team import InvalidMemberCard, Member, Signer, SigningPublicKey

from .vault import Vault, VaultError, write_atomically

MAX_MEMBERS = 64  # an envelope has at most 64 recipients


class TeamError(VaultError):
    """The team cannot be changed or read; the message says what to do."""


class Team:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.path = vault.root / "team.json"

    def members(self) -> list[Member]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            raise self._damaged() from None
        try:
            return [
                Member(
                    str(m["label"]),
                    PublicKey.from_line(str(m["public_key"])),
                    SigningPublicKey.from_line(str(m["signing_key"])),
                )
                for m in data["members"]
            ]
        except (KeyError, TypeError, SealdropError):
            raise self._damaged() from None

    def added(self, key_id: str) -> str:
        """The hour the member with this key id was added here ("" if not a member)."""
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            for m in json.loads(self.path.read_text(encoding="utf-8"))["members"]:
                if PublicKey.from_line(str(m["public_key"])).key_id_hex == key_id:
                    return str(m.get("added", ""))
        return ""

    def _damaged(self) -> TeamError:
        return TeamError(
            f"the team list {self.path} is damaged; restore it from the vault's backup, or "
            "delete it and add the members again"
        )

    def _save(self, members: list[Member]) -> None:
        known = {}
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            known = {
                m["public_key"]: m.get("added", "")
                for m in json.loads(self.path.read_text(encoding="utf-8"))["members"]
            }
        data = {
            "members": [
                {
                    "label": m.label,
                    "public_key": m.public_key.line,
                    "signing_key": m.signing_key.line,
                    "added": known.get(m.public_key.line) or hour_stamp(),
                }
                for m in members
            ]
        }
        write_atomically(self.path, json.dumps(data, indent=2, ensure_ascii=False).encode())

    def add(self, member: Member) -> Member:
        """Adds a member, or renames one already there (same keys). Refuses a label or a key
        that another member has."""
        members = self.members()
        for other in members:
            same_key = other.public_key == member.public_key
            if same_key and other.signing_key != member.signing_key:
                raise TeamError(
                    f"{other.label} is in the team with the same encryption key but another "
                    "signing key; someone altered one of the cards: ask them for it in person"
                )
            if not same_key and other.signing_key == member.signing_key:
                raise TeamError(f"{other.label} already uses this signing key")
            if not same_key and other.label.casefold() == member.label.casefold():
                raise TeamError(
                    f"the team already has a member called {other.label}; choose another --label"
                )
        members = [m for m in members if m.public_key != member.public_key] + [member]
        if len(members) > MAX_MEMBERS:
            raise TeamError(f"a team has at most {MAX_MEMBERS} members")
        self._save(members)
        return member

    def remove(self, name: str) -> Member:
        member = self.find(name)
        self._save([m for m in self.members() if m.public_key != member.public_key])
        return member

    def find(self, name: str) -> Member:
        """A member by label (any case) or by key id (or its start)."""
        wanted = name.strip().casefold()
        members = self.members()
        found = [m for m in members if m.label.casefold() == wanted] or [
            m for m in members if wanted and m.key_id_hex.startswith(wanted.replace(" ", ""))
        ]
        if len(found) != 1:
            known = ", ".join(m.label for m in members) or "nobody yet"
            raise TeamError(f"no single team member called {name!r} (the team: {known})")
        return found[0]

    def by_key_id(self, key_id: str) -> Member | None:
        return next((m for m in self.members() if m.key_id_hex == key_id), None)

    def key_id_for(self, label: str) -> str | None:
        """The key id of the member a label names (for the inbox's "mine" view)."""
        try:
            return self.find(label).key_id_hex
        except TeamError:
            return None

    def label_of(self, key_id: str) -> str:
        member = self.by_key_id(key_id)
        return member.label if member else f"key {key_id}"

    def ensure_self(self, identity: Identity, label: str | None = None) -> Member:
        """Puts the vault's own reviewer in the team (their events are sealed to it too)."""
        own = self.by_key_id(identity.public_key.key_id_hex)
        if own is not None:
            return own
        name = label or self.vault.config().get("label") or "me"
        taken = {m.label.casefold() for m in self.members()}
        while name.casefold() in taken:
            name += "*"
        return self.add(Member(name, identity.public_key, Signer(identity).public_key))


def read_card_file(path: Path, label: str | None = None) -> list[Member]:
    """A member card, or a team file (several members); a label applies to a card only."""
    from crypto.team import read_member_card, read_team_file

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TeamError(f"cannot read {path} ({exc})") from None
    try:
        if text.count("signing-key:") > 1:
            if label:
                raise TeamError(f"{path} is a team file of several members; drop --label")
            return read_team_file(text)
        return [read_member_card(text, label, str(path))]
    except InvalidMemberCard as exc:
        raise TeamError(str(exc)) from None
