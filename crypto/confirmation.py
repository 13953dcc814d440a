"""Signed confirmations (docs/FORMAT.md §8.5): a reviewer's statement "my vault holds these
submissions and staff events", signed with their team signing key (section 8.1), so that the
server deletes nothing on the word of whoever carried the bundle::

    text = sign_confirmation(Signer(identity), identity.public_key.key_id_hex, subs, events)
    acks = verify_confirmation(text, {key_id: signing_key, ...})  # ForgedConfirmation if not

The signed bytes are exactly the body that is then read (no re-encoding to agree on): the
blob is ``spk || signature || body`` as for staff events, under its own context so that a
confirmation can never pass for an event or the reverse.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import _sodium, strictjson
from .errors import SealdropError
from .team import Signer, SigningPublicKey

CONTEXT = b"sealdrop-confirmation-v1\x00"
VERSION = 1
MAX_BODY = 16 << 20
MAX_IDS = 500_000
_HEAD = _sodium.SIGN_PUBLIC_BYTES + _sodium.SIGNATURE_BYTES
_KEY_ID_CHARS = frozenset("0123456789abcdef")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class ForgedConfirmation(SealdropError):
    """A confirmation that is not signed by the reviewer it names; the message says how."""


class UncheckableConfirmation(SealdropError):
    """A confirmation from a reviewer whose signing key this server was not given."""


@dataclass(frozen=True)
class SignedConfirmation:
    text: str  # what the manifest carries
    submissions: tuple[str, ...]
    events: tuple[str, ...]


@dataclass(frozen=True)
class Confirmed:
    reviewer: str  # key id (16 hex digits) of the reviewer's X25519 key
    submissions: tuple[str, ...]
    events: tuple[str, ...]


def sign_confirmation(
    signer: Signer, reviewer: str, submissions: Iterable[str], events: Iterable[str]
) -> SignedConfirmation:
    subs, evs = sorted(set(submissions)), sorted(set(events))
    body = json.dumps(
        {"v": VERSION, "reviewer": reviewer, "submissions": subs, "events": evs},
        separators=(",", ":"),
    ).encode("ascii")
    if len(body) > MAX_BODY:
        raise ValueError("too many confirmations for one bundle")
    public = signer.public_key.raw
    blob = public + signer.sign(CONTEXT + public + body) + body
    return SignedConfirmation(base64.b64encode(blob).decode("ascii"), tuple(subs), tuple(evs))


def verify_confirmation(text: object, keys: Mapping[str, SigningPublicKey]) -> Confirmed:
    """The confirmation if the reviewer it names signed it with the signing key ``keys``
    gives for them. ForgedConfirmation when it is malformed, signed by another key or the
    signature is false; UncheckableConfirmation when ``keys`` has no key for its reviewer."""
    if not isinstance(text, str) or len(text) > (MAX_BODY + _HEAD) * 4 // 3 + 4:
        raise ForgedConfirmation("the confirmation is not a signed record")
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ForgedConfirmation("the confirmation is not valid base64") from None
    if len(blob) <= _HEAD:
        raise ForgedConfirmation("the confirmation is too short to be signed")
    public, signature, body = blob[:32], blob[32:_HEAD], blob[_HEAD:]
    confirmed = _read_body(body)
    key = keys.get(confirmed.reviewer)
    if key is None:
        raise UncheckableConfirmation(
            f"the confirmation of reviewer {confirmed.reviewer} cannot be checked: this server "
            "has no signing key for them"
        )
    if key.raw != public:
        raise ForgedConfirmation(
            f"the confirmation claims to be reviewer {confirmed.reviewer}'s but is signed by "
            "another key"
        )
    try:
        _sodium.verify_detached(public, CONTEXT + public + body, signature)
    except _sodium.AuthenticationFailed:
        raise ForgedConfirmation(
            f"the signature of reviewer {confirmed.reviewer}'s confirmation is false"
        ) from None
    return confirmed


def _read_body(body: bytes) -> Confirmed:
    try:
        data = strictjson.loads_object(body, max_bytes=MAX_BODY, max_depth=2)
    except ValueError as exc:
        raise ForgedConfirmation(f"the confirmation is not readable ({exc})") from None
    if set(data) != {"v", "reviewer", "submissions", "events"} or data["v"] != VERSION:
        raise ForgedConfirmation("the confirmation has missing, unknown or other-version fields")
    reviewer, submissions, events = data["reviewer"], data["submissions"], data["events"]
    if not (isinstance(reviewer, str) and len(reviewer) == 16 and set(reviewer) <= _KEY_ID_CHARS):
        raise ForgedConfirmation("the confirmation names no reviewer key id")
    for ids in (submissions, events):
        if not isinstance(ids, list) or len(ids) > MAX_IDS or not all(map(_is_id, ids)):
            raise ForgedConfirmation("the confirmation lists malformed ids")
    return Confirmed(reviewer, tuple(submissions), tuple(events))


def _is_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and set(value) <= _ID_CHARS
