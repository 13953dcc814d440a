"""Teams and staff events (docs/FORMAT.md, section 8).

A team member is known by two public keys: the X25519 key everything is sealed to (section 1)
and an Ed25519 key that signs what they do. The signing key is derived from the identity's
X25519 secret, so identity files made before teams existed sign without being rewritten.

A staff event (a note, a status, a copy of a reply...) is signed by its author, then sealed as
an ordinary envelope (section 3) to every member of the team::

    blob     = sign_event(Signer(identity), event_bytes)
    envelope = seal_event(blob, [m.public_key for m in team])
    opened   = open_event(envelope, identity, team)     # ForgedEvent unless a member signed

Signing the event, rather than boxing a shared content key from the author to each member,
is what stops one member from forging an event towards another: a member who can open an
envelope learns its payload key and could re-use it, but cannot sign as someone else.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _sodium
from .envelope import Sealer, open_envelope
from .errors import EnvelopeError, InvalidPublicKey, SealdropError
from .framing import PartInfo
from .keys import Identity, PublicKey, _b32encode, line_data, line_text
from .signing import CHECKSUM_LABELS, MEMBER, ORGANISATION, sdsig_kind
from .sinks import MemorySink

SIGNING_KEY_PREFIX = "sdsig1"
_MEMBER_FINGERPRINT_LABEL = b"sealdrop-member-fingerprint-v1"
_EVENT_CONTEXT = b"sealdrop-staff-event-v1\x00"
_LINE_BODY_CHARS = 58
EVENT_PART = PartInfo("file", "staff-event", "application/vnd.sealdrop.staff-event")
EVENT_TRAILER = {"sealdrop": "staff-event-v1"}
MAX_EVENT_BYTES = 1 << 20
_BLOB_HEAD = _sodium.SIGN_PUBLIC_BYTES + _sodium.SIGNATURE_BYTES


class InvalidMemberCard(SealdropError):
    """A member card or team file cannot be used; the message says what to ask for."""


class ForgedEvent(SealdropError):
    """A staff event not signed by a member of this vault's team (or not a staff event)."""


class UnknownSigner(ForgedEvent):
    """Signed by a key that is not in the team: a forgery, or a colleague not yet added."""


@dataclass(frozen=True)
class SigningPublicKey:
    """A member's Ed25519 public key, written as one ``sdsig1`` line like section 1's keys."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != _sodium.SIGN_PUBLIC_BYTES:
            raise InvalidPublicKey("a signing key is 32 bytes")

    @classmethod
    def from_line(cls, line: str) -> SigningPublicKey:
        text = line_text(line) or ""
        data = line_data(text.removeprefix(SIGNING_KEY_PREFIX))
        if not text.startswith(SIGNING_KEY_PREFIX) or data is None:
            raise InvalidPublicKey(
                f"a signing key is one line starting with {SIGNING_KEY_PREFIX!r}, "
                f"{len(SIGNING_KEY_PREFIX) + _LINE_BODY_CHARS} characters long; copy it again"
            )
        kind = sdsig_kind(data)
        if kind == ORGANISATION:
            raise InvalidPublicKey(
                "this is the organisation's signing key (it signs deployment statements), not "
                "a team member's; use the signing-key line of the member's card"
            )
        if kind != MEMBER:
            raise InvalidPublicKey(
                "this signing key was mistyped or altered (its checksum does not match); "
                "copy it again from the member card"
            )
        return cls(data[: _sodium.SIGN_PUBLIC_BYTES])

    @property
    def line(self) -> str:
        checksum = _sodium.keyed_hash(CHECKSUM_LABELS[MEMBER], self.raw, 4)
        return SIGNING_KEY_PREFIX + _b32encode(self.raw + checksum)


class Signer:
    """An identity's signing key, in memory only."""

    __slots__ = ("_secret", "public_key")

    def __init__(self, identity: Identity) -> None:
        public, self._secret = _sodium.sign_seed_keypair(identity.signing_seed())
        self.public_key = SigningPublicKey(public)

    def sign(self, message: bytes) -> bytes:
        return _sodium.sign_detached(self._secret, message)


@dataclass(frozen=True)
class Member:
    label: str
    public_key: PublicKey
    signing_key: SigningPublicKey
    _fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        digest = _sodium.keyed_hash(
            _MEMBER_FINGERPRINT_LABEL, self.public_key.raw + self.signing_key.raw, 16
        ).hex()
        # Upper case and dashes, unlike a key fingerprint's "b4f4 cfe1 …": the two cannot be
        # compared with each other by mistake.
        grouped = "-".join(digest[i : i + 4] for i in range(0, len(digest), 4)).upper()
        object.__setattr__(self, "_fingerprint", grouped)

    @classmethod
    def of(cls, identity: Identity, label: str) -> Member:
        return cls(label, identity.public_key, Signer(identity).public_key)

    @property
    def key_id_hex(self) -> str:
        return self.public_key.key_id_hex

    @property
    def fingerprint(self) -> str:
        """Covers both keys: what two members compare in person before adding each other."""
        return self._fingerprint

    def card_text(self) -> str:
        return (
            "# sealdrop team member card. Give it to your colleagues (and the public-key line\n"
            "# to the server admin); they compare the fingerprint with you in person.\n"
            f"# team fingerprint: {self.fingerprint}\n"
            f"# key fingerprint: {self.public_key.fingerprint}\n"
            f"member: {_one_line(self.label)}\n"
            f"{self.public_key.line}\n"
            f"signing-key: {self.signing_key.line}\n"
        )


def _one_line(label: str) -> str:
    return " ".join(label.split())


def _fields(block: Iterable[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
        else:
            fields["public-key"] = line
    return fields


def _member(fields: dict[str, str], label: str | None, where: str) -> Member:
    if "secret-key" in fields:
        raise InvalidMemberCard(
            f"{where} is a private identity file; pass the public member card instead "
            "(`sealdrop-reviewer team card` writes it)"
        )
    if "public-key" not in fields:
        raise InvalidMemberCard(f"{where} holds no sealdrop public key line")
    if "signing-key" not in fields:
        raise InvalidMemberCard(
            f"{where} has no signing-key line (made by an older sealdrop); ask its owner to "
            "run `sealdrop-reviewer team card` and give you the file it writes"
        )
    try:
        public_key = PublicKey.from_line(fields["public-key"])
        signing_key = SigningPublicKey.from_line(fields["signing-key"])
    except InvalidPublicKey as exc:
        raise InvalidMemberCard(f"{where}: {exc}") from None
    name = _one_line(label if label is not None else fields.get("member", ""))
    if not name:
        raise InvalidMemberCard(f"{where} names no member; give one with --label")
    return Member(name, public_key, signing_key)


def read_member_card(text: str, label: str | None = None, where: str = "the card") -> Member:
    """A card written by ``Member.card_text`` (the label given overrides the card's)."""
    return _member(_fields(text.splitlines()), label, where)


def team_file_text(members: Sequence[Member]) -> str:
    blocks = [
        "# sealdrop team: every member's keys. Compare `sealdrop-intake check --team` with\n"
        "# the server's SEALDROP_RECIPIENTS; add members with `sealdrop-reviewer team add`.\n"
    ]
    for member in members:
        blocks.append(
            f"member: {_one_line(member.label)}\n"
            f"# team fingerprint: {member.fingerprint}\n"
            f"public-key: {member.public_key.line}\n"
            f"signing-key: {member.signing_key.line}\n"
        )
    return "\n".join(blocks)


def read_team_file(text: str) -> list[Member]:
    """Blocks separated by blank lines, each one member (comments ignored)."""
    members, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            block.append(line)
            continue
        fields = _fields(block)
        block = []
        if fields:
            members.append(_member(fields, None, f"member {len(members) + 1} of the team file"))
    return members


# --- staff events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedEvent:
    author: Member
    event: bytes  # the event's own bytes (UTF-8 JSON, defined by reviewer.caselog)
    blob: bytes  # signing key || signature || event, kept to pass on unchanged


def sign_event(signer: Signer, event: bytes) -> bytes:
    if len(event) > MAX_EVENT_BYTES:
        raise ValueError(f"a staff event is at most {MAX_EVENT_BYTES} bytes")
    public = signer.public_key.raw
    return public + signer.sign(_EVENT_CONTEXT + public + event) + event


def verify_event(blob: bytes, team: Iterable[Member]) -> SignedEvent:
    """Checks that a current member of ``team`` signed the blob; raises ForgedEvent if not."""
    if len(blob) < _BLOB_HEAD or len(blob) > _BLOB_HEAD + MAX_EVENT_BYTES:
        raise ForgedEvent("it is not a signed staff event")
    public, signature, event = (
        blob[: _sodium.SIGN_PUBLIC_BYTES],
        blob[_sodium.SIGN_PUBLIC_BYTES : _BLOB_HEAD],
        blob[_BLOB_HEAD:],
    )
    author = next((m for m in team if m.signing_key.raw == public), None)
    if author is None:
        raise UnknownSigner("it is signed by a key that is not in your team")
    try:
        _sodium.verify_detached(public, _EVENT_CONTEXT + public + event, signature)
    except _sodium.AuthenticationFailed:
        raise ForgedEvent(f"its signature, claiming to be {author.label}'s, is false") from None
    return SignedEvent(author, event, blob)


def intact(blob: bytes) -> bool:
    """Whether a stored blob still carries a valid signature by the key it names (a damaged
    copy is signed again or fetched again; who may sign is ``verify_event``'s business)."""
    if not _BLOB_HEAD <= len(blob) <= _BLOB_HEAD + MAX_EVENT_BYTES:
        return False
    public = blob[: _sodium.SIGN_PUBLIC_BYTES]
    try:
        _sodium.verify_detached(
            public,
            _EVENT_CONTEXT + public + blob[_BLOB_HEAD:],
            blob[_sodium.SIGN_PUBLIC_BYTES : _BLOB_HEAD],
        )
    except _sodium.AuthenticationFailed:
        return False
    return True


def seal_event(blob: bytes, recipients: Sequence[PublicKey]) -> bytes:
    out = io.BytesIO()
    sealer = Sealer(out, recipients)
    sealer.begin_part(EVENT_PART)
    sealer.write(blob)
    sealer.end_part()
    sealer.close(EVENT_TRAILER)
    return out.getvalue()


def open_event(envelope: bytes, identity: Identity, team: Iterable[Member]) -> SignedEvent:
    """Opens and verifies one event envelope. EnvelopeError if it cannot be opened at all,
    ForgedEvent if it opens but is not a staff event signed by a member."""
    contents = open_envelope(io.BytesIO(envelope), [identity], MemorySink(2 * MAX_EVENT_BYTES))
    parts = contents.parts
    trailer: dict[str, Any] = contents.trailer or {}
    if (  # BEGIN and trailer as §3.3: members they do not name are ignored (FORMAT.md §8.2)
        trailer.get("sealdrop") != EVENT_TRAILER["sealdrop"]
        or len(parts) != 1
        or parts[0].info != EVENT_PART
        or parts[0].data is None
    ):
        raise ForgedEvent("it is an envelope, but not a staff event")
    return verify_event(bytes(parts[0].data), team)


__all__ = [
    "EnvelopeError",
    "ForgedEvent",
    "InvalidMemberCard",
    "Member",
    "SignedEvent",
    "Signer",
    "SigningPublicKey",
    "UnknownSigner",
    "intact",
    "open_event",
    "read_member_card",
    "read_team_file",
    "seal_event",
    "sign_event",
    "team_file_text",
    "verify_event",
]
