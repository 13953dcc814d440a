"""Every error the crypto layer raises. Each message is one sentence a person can act on."""

from __future__ import annotations


class SealdropError(Exception):
    """Base class for all sealdrop crypto errors."""


class InvalidPublicKey(SealdropError):
    """A public key line is mistyped, truncated or not a sealdrop key."""


class InvalidIdentityFile(SealdropError):
    """An identity (private key) file is damaged or not a sealdrop identity."""


class WrongPassphrase(SealdropError):
    """The passphrase does not unlock the identity file."""

    def __init__(self) -> None:
        super().__init__("wrong passphrase for this identity file; check it and try again")


class EnvelopeError(SealdropError):
    """Base class for errors met while opening an envelope."""


class NotAnEnvelope(EnvelopeError):
    def __init__(self) -> None:
        super().__init__("this is not a sealdrop envelope (the first bytes do not match)")


class UnsupportedVersion(EnvelopeError):
    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(
            f"envelope format version {version} is not supported by this sealdrop "
            "(it reads versions 1 and 2); upgrade sealdrop and try again"
        )


class NotForYou(EnvelopeError):
    """None of the given identities is a recipient of the envelope."""

    def __init__(self, key_ids: list[str]) -> None:
        self.key_ids = key_ids
        listed = ", ".join(key_ids) if key_ids else "(none)"
        super().__init__(
            f"not encrypted to any of your keys; its key ids are {listed} "
            "(compare them with `sealdrop-reviewer fingerprint` of your public keys)"
        )


class CorruptedEnvelope(EnvelopeError):
    """Authentication failed or the structure is broken: corrupted or tampered with."""


class StanzaNotForYourKey(CorruptedEnvelope):
    """The header names your key, but its stanza does not open with it: the sealer used a
    different key under your key id. Other recipients' stanzas may be fine."""

    def __init__(self, key_id: str, others: int) -> None:
        self.key_id = key_id
        self.others = others
        colleague = (
            f"; a colleague holding one of its other {others} recipient key"
            f"{'' if others == 1 else 's'} may be able to open it"
            if others
            else ""
        )
        super().__init__(
            f"the envelope names your key {key_id} but its payload key was not sealed for "
            f"this key correctly{colleague}"
        )


class EpochKeyDeleted(EnvelopeError):
    """The envelope was sealed to an epoch key (FORMAT.md section 10) that this reviewer's
    tool has deleted, as it must once the week and its grace are over: nobody can open it."""

    def __init__(self, week_ending: str, deleted_on: str) -> None:
        self.week_ending = week_ending
        self.deleted_on = deleted_on
        super().__init__(
            f"sealed to the week ending {week_ending}, whose key was deleted for your safety "
            f"on {deleted_on}; nobody can open it any more"
        )


class TruncatedEnvelope(EnvelopeError):
    """Every byte present is authentic, but the envelope ends before its final chunk."""


class MalformedContent(CorruptedEnvelope):
    """The envelope is authentic but what was sealed inside breaks the format's rules."""
