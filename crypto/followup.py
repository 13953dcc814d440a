"""The trailer that lets reviewers answer a submitter, and its proof of the codename.

A submission made with a codename carries, sealed inside its envelope, the reply key and the
mailbox derived from the codename, the Ed25519 verify key derived from it, and a signature by
that key over this envelope's header hash, the reply key and the mailbox (docs/FORMAT.md §5).
The reply key is the verify key converted to X25519, so only whoever holds the codename can
sign for a reply key: someone who merely knows a person's reply *public* key cannot add a
follow-up to their thread, and a proof cannot be lifted into another envelope.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

from . import _sodium
from .errors import SealdropError
from .keys import PublicKey

PROOF_LABEL = b"sealdrop-followup-v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_MAILBOX = re.compile(r"[a-z2-7]{26}")


class Proof(enum.Enum):
    PROVEN = "proven"  # signed by the key the reply key comes from, for this envelope
    UNPROVEN = "unproven"  # no proof at all: sealed before proofs existed, or forged
    FORGED = "forged"  # a proof that does not hold: not from the codename's holder


def proof_message(header_hash: bytes, reply_key: PublicKey, mailbox: str) -> bytes:
    """What the proof signs: label || header hash (32) || reply public key (32) || mailbox."""
    if len(header_hash) != 32 or not _MAILBOX.fullmatch(mailbox):
        raise ValueError("a proof binds a 32-byte header hash and a 26-character mailbox")
    return PROOF_LABEL + header_hash + reply_key.raw + mailbox.encode("ascii")


def signed_trailer(keys: Any, header_hash: bytes) -> dict[str, str]:
    """The CLOSE trailer for a submission sealed with ``keys`` (crypto.codename.ReplyKeys)
    into the envelope whose header hashes to ``header_hash``."""
    message = proof_message(header_hash, keys.public_key, keys.mailbox)
    return {
        "reply_key": keys.public_key.line,
        "mailbox": keys.mailbox,
        "verify_key": keys.verify_key.hex(),
        "proof": _sodium.sign_detached(keys.signing_key, message).hex(),
    }


def check(trailer: Mapping[str, Any], header_hash: bytes | None) -> Proof:
    """Whether a submission's trailer proves its codename. ``header_hash`` is None when it is
    not known (opened by a reviewer before proofs existed)."""
    verify_key, proof = trailer.get("verify_key"), trailer.get("proof")
    if verify_key is None and proof is None:
        return Proof.UNPROVEN
    try:
        reply_key = PublicKey.from_line(str(trailer.get("reply_key")))
        mailbox = str(trailer.get("mailbox"))
        if not (isinstance(verify_key, str) and _HEX64.fullmatch(verify_key)):
            return Proof.FORGED
        if not (isinstance(proof, str) and _HEX128.fullmatch(proof)) or header_hash is None:
            return Proof.FORGED
        key = bytes.fromhex(verify_key)
        if _sodium.sign_public_to_box(key) != reply_key.raw:
            return Proof.FORGED
        message = proof_message(header_hash, reply_key, mailbox)
        _sodium.verify_detached(key, message, bytes.fromhex(proof))
    except (SealdropError, ValueError, _sodium.AuthenticationFailed):
        return Proof.FORGED
    return Proof.PROVEN
